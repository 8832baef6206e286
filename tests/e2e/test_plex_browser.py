"""A user in headless chromium on the Plex page: add a server, watch a session play, pause and stop live.

Screenshots go to test-artifacts/plex-*.png for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import log_in, open_from_nav, screenshot
from tests.plexsim import PlexSim
from tests.support import ServerProcess, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# True once the Plex page's own EventSource (/plex/live, on #plex-live) is open.
PLEX_SSE_OPEN = """
() => {
  const data = document.getElementById("plex-live")["htmx-internal-data"];
  return Boolean(data && data.sseEventSource && data.sseEventSource.readyState === EventSource.OPEN);
}
"""
DURATION_MS = 1_800_000


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Serve an empty data dir that polls Plex every second."""
    data = tmp_path_factory.mktemp("e2e-plex") / "data"
    process = start_server(data, env={"ANTENNA_PLEX_POLL_SECONDS": "1"})
    try:
        yield process
    finally:
        process.stop()


def test_session_plays_pauses_and_stops_live(page: Page, server: ServerProcess, plexsim: PlexSim) -> None:
    from playwright.sync_api import expect

    section = plexsim.add_section("Series", "show", "/srv/series")
    show = plexsim.add_show(section, "Harbour Lights", 2020)
    episode = plexsim.add_episode(
        show, 1, 1, "Low Tide", "/srv/series/Harbour Lights/S01E01.mkv", duration_ms=DURATION_MS
    )
    plexsim.add_client("tv-1", "Living Room TV")
    plexsim.add_client("speaker-1", "Kitchen Speaker", product="Plexamp", capabilities="timeline")

    log_in(page, server)
    open_from_nav(page, "Plex")
    expect(page).to_have_url(f"{server.url}/plex")
    expect(page.get_by_role("heading", name="Connect your Plex server")).to_be_visible()
    expect(page.get_by_text("No events yet.")).to_be_visible()
    screenshot(page, "plex-empty.png")

    # A wrong token is refused next to the field; the right one adds the server in place.
    form = page.get_by_role("form", name="Add a Plex server")
    form.get_by_label("Server URL").fill(plexsim.url)
    form.get_by_label("Token").fill("wrong-token")
    form.get_by_role("button", name="Check and add server").click()
    error = page.locator("#plex-token-error")
    expect(error).to_contain_text("rejected the token")
    expect(page.get_by_label("Token")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Token").fill(plexsim.token)
    page.get_by_role("button", name="Check and add server").click()
    expect(page.locator("#plex-server-row-1")).to_contain_text("Plexsim")
    expect(page.get_by_test_id("connection-1")).to_have_text("connected")
    expect(page.get_by_text("Nothing is playing on Plexsim.")).to_be_visible()
    page.wait_for_function(PLEX_SSE_OPEN)
    page.evaluate("window.__antennaLoaded = 'plex'")

    key = plexsim.start_session(episode, "tv-1", view_offset=60_000)
    card = page.locator(f"#plex-session-1-{key}")
    expect(card).to_contain_text("Low Tide")
    expect(card).to_contain_text("Harbour Lights")
    expect(card.locator(".badge")).to_have_text("playing")
    progress = page.get_by_test_id(f"progress-1-{key}")
    expect(progress).to_have_attribute("value", "3")
    for percent in (20, 45, 70):
        plexsim.update_session(key, view_offset=DURATION_MS * percent // 100)
        expect(progress).to_have_attribute("value", str(percent))
    expect(card).to_contain_text("21:00 / 30:00")
    expect(page.locator("#plex-event-rows tr[data-type='play']").first).to_be_visible()

    # The player without remote control has its buttons disabled and says why; the other obeys.
    kitchen = page.locator("#plex-client-1-speaker-1")
    expect(kitchen.get_by_role("button", name="Pause Kitchen Speaker")).to_be_disabled()
    expect(kitchen.locator(".plex-controls")).to_have_attribute(
        "title", "This player does not accept remote control"
    )
    page.locator("#plex-client-1-tv-1").get_by_role("button", name="Pause Living Room TV").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Sent pause to Living Room TV")
    assert any(c.path.endswith("/pause") for c in plexsim.proxy_commands), plexsim.proxy_commands
    screenshot(page, "plex-live.png")

    plexsim.update_session(key, state="paused")
    expect(card.locator(".badge")).to_have_text("paused")
    expect(page.locator("#plex-event-rows tr[data-type='pause']").first).to_be_visible()

    page.get_by_role("button", name="Switch light/dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "plex-dark.png")
    page.get_by_role("button", name="Switch light/dark theme").click()

    page.set_viewport_size({"width": 390, "height": 844})
    expect(card).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing needs a wide screen
    screenshot(page, "plex-phone.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    plexsim.stop_session(key)
    expect(card).to_have_count(0)
    expect(page.get_by_text("Nothing is playing on Plexsim.")).to_be_visible()
    stop_row = page.locator("#plex-event-rows tr[data-type='stop']").first
    expect(stop_row).to_contain_text("Low Tide")
    expect(page.get_by_test_id("sessions-1")).to_have_text("0")

    page.get_by_role("button", name="Send test event").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Sent a test event")
    expect(page.locator("#plex-event-rows tr[data-type='test']").first).to_contain_text(
        "Test event from Antenna"
    )
    screenshot(page, "plex-stopped.png")
    assert page.evaluate("window.__antennaLoaded") == "plex", "the page reloaded"
    assert re.search(r"/plex$", page.url)
