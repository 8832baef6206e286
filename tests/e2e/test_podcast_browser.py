"""A user in headless chromium on the podcast pages: subscribe, watch the download live, select and change.

Screenshots go to the test's tmp dir (printed at the end) and to test-artifacts/podcasts-*.png for a human.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import ARTIFACTS, SSE_OPEN, log_in, open_from_nav
from tests.integration.test_podcasts import items, rss
from tests.mediaserver import MediaServer
from tests.support import ServerProcess, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MEDIA_BYTES = 3_000_000
RATE = 400_000  # bytes a second: each episode takes several seconds, long enough to watch its bar move
DOWNLOAD_TIMEOUT_MS = 60_000
# True once the Downloads page's own EventSource (byte progress) is open.
DOWNLOADS_SSE_OPEN = """
() => {
  const el = document.getElementById("podcast-downloads");
  const data = el && el["htmx-internal-data"];
  return Boolean(data && data.sseEventSource && data.sseEventSource.readyState === EventSource.OPEN);
}
"""
# Records every percent shown by a download bar, so the test can tell it moved while the page stayed.
WATCH_BARS = """
() => {
  window.__bars = [];
  const list = document.getElementById("podcast-downloads");
  new MutationObserver(() => {
    for (const bar of list.querySelectorAll("progress[data-percent]")) {
      const value = bar.dataset.percent;
      if (value !== "" && window.__bars[window.__bars.length - 1] !== value) window.__bars.push(value);
    }
  }).observe(list, {subtree: true, childList: true, attributes: true});
}
"""


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Run `antenna serve` (with its job runner) on an empty data dir."""
    data = tmp_path_factory.mktemp("e2e-podcasts") / "data"
    process = start_server(data)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def feeds(media_server: MediaServer) -> MediaServer:
    """Serve a feed whose two episodes are throttled media files of a few MB, and a second small feed."""
    media_server.add_file("big.mp3", size=MEDIA_BYTES)
    media_server.add_file("small.mp3", size=10_000)
    media_server.add_file(
        "show.rss", rss(media_server, items(2, media=f"throttle/{RATE}/big.mp3"), title="Slow Show")
    )
    media_server.add_file("other.rss", rss(media_server, items(3, media="small.mp3"), title="Quick Show"))
    return media_server


def _shot(page: Page, shots: Path, name: str) -> None:
    path = shots / name
    page.screenshot(path=path, full_page=True, animations="disabled")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)


def test_subscribe_watch_downloads_and_select(
    page: Page, server: ServerProcess, feeds: MediaServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    log_in(page, server)
    open_from_nav(page, "Podcasts")
    expect(page).to_have_url(f"{server.url}/podcasts")
    expect(page.get_by_role("heading", name="No podcasts yet")).to_be_visible()
    _shot(page, shots, "podcasts-empty.png")
    page.get_by_role("navigation", name="Podcast pages").get_by_role("link", name="Downloads").click()
    expect(page.locator("#podcast-downloads-empty")).to_contain_text("Nothing is downloading right now")
    _shot(page, shots, "podcasts-downloads-empty.png")

    # A web page instead of a feed is refused next to the field, and nothing is offered for subscribing.
    page.get_by_role("navigation", name="Podcast pages").get_by_role("link", name="Add a podcast").click()
    expect(page.get_by_role("link", name="Add to Antenna")).to_have_attribute(
        "href", f"javascript:location.href='{server.url}/podcasts/add?url='+encodeURIComponent(location.href)"
    )
    _shot(page, shots, "podcasts-add-empty.png")
    field = page.get_by_label("Feed URL or search words")
    field.fill(feeds.url("status/404"))
    field.press("Enter")
    expect(page.locator("#podcast-q-error")).to_contain_text("answered 404")
    expect(page.get_by_label("Feed URL or search words")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Subscribe")).to_have_count(0)

    page.get_by_label("Feed URL or search words").fill(feeds.url("show.rss"))
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator("#podcast-preview")
    expect(preview.get_by_role("heading", name="Slow Show")).to_be_visible()
    expect(preview.get_by_test_id("episode-count")).to_have_text("2 episode(s)")
    expect(preview.get_by_test_id("preview-folder")).to_contain_text("podcasts/Slow Show")
    expect(preview).to_contain_text("Season 2024/Slow Show - S2024E030201 - Episode 1.mp3")
    _shot(page, shots, "podcasts-add-preview.png")

    page.wait_for_function(SSE_OPEN)
    page.get_by_role("button", name="Subscribe").click()
    done = page.locator("#podcast-subscribed")
    expect(done).to_contain_text("Subscribed to Slow Show")
    expect(done).to_contain_text("2 queued for download")
    done.get_by_role("button", name="Watch the downloads").click()
    expect(page).to_have_url(f"{server.url}/podcasts/downloads")
    page.wait_for_function(DOWNLOADS_SSE_OPEN)
    page.evaluate(WATCH_BARS)
    bars = page.locator("#podcast-downloads .podcast-download")
    expect(bars.first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#podcast-downloads progress[data-percent]')]"
        ".some(p => +p.dataset.percent > 0 && +p.dataset.percent < 100)"
    )
    expect(bars.first).to_contain_text("Slow Show")
    _shot(page, shots, "podcasts-downloads-active.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, shots, "podcasts-downloads-active-phone.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(bars).to_have_count(0, timeout=DOWNLOAD_TIMEOUT_MS)
    expect(page.locator("#podcast-downloads-empty")).to_contain_text("Nothing is downloading right now")
    seen = page.evaluate("window.__bars")
    assert len(seen) >= 2, f"the bar never moved while the page stayed open: {seen}"

    # The list shows both episodes in the library; a second, paused subscription comes in through the API.
    with server.api() as api:
        assert (
            api.post("/api/podcasts", json={"url": feeds.url("other.rss"), "paused": True}).status_code == 201
        )
    page.get_by_role("navigation", name="Podcast pages").get_by_role("link", name="Podcasts").click()
    slow = page.locator("#podcast-1")
    expect(slow.locator('[data-field="library"] .podcast-count')).to_have_text("2")
    expect(slow.locator(".podcast-settings-cell")).to_have_text("keep all")  # subscribed with the defaults
    expect(page.locator("#podcast-2")).to_contain_text("paused")
    _shot(page, shots, "podcasts-list.png")

    # Row clicks select like a file manager; the bulk bar counts them.
    count = page.locator("[data-bulk-count]")
    slow.locator(".podcast-title-cell small").click()
    expect(count).to_have_text("1 selected")
    page.locator("#podcast-2 .podcast-settings-cell").click(modifiers=["Control"])
    expect(count).to_have_text("2 selected")
    slow.locator(".podcast-settings-cell").click()
    expect(count).to_have_text("1 selected")
    page.locator("#podcast-2 .podcast-settings-cell").click(modifiers=["Shift"])
    expect(count).to_have_text("2 selected")
    page.get_by_role("button", name="Invert").click()
    expect(count).to_have_text("0 selected")
    page.get_by_label("Select all podcasts on this page").check()
    expect(count).to_have_text("2 selected")

    bar = page.get_by_role("form", name="Change the selected podcasts")
    bar.get_by_text("Change settings").click()
    bar.get_by_label("Episodes to keep").fill("5")
    bar.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Changed keep on 2 podcast(s)")
    expect(page.locator("#podcast-2 .podcast-settings-cell")).to_contain_text("keep 5 newest")
    _shot(page, shots, "podcasts-list-changed.png")

    page.get_by_label("Select Quick Show").check()
    page.get_by_role("form", name="Change the selected podcasts").get_by_role(
        "button", name="Unsubscribe…"
    ).click()
    confirm = page.locator("#podcast-confirm-box")
    expect(confirm).to_contain_text("Unsubscribe from 1 podcast(s)?")
    expect(confirm).to_contain_text("0 episode file(s)")
    _shot(page, shots, "podcasts-confirm.png")
    confirm.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Unsubscribed from Quick Show")
    expect(page.locator("#podcast-2")).to_have_count(0)

    slow.get_by_role("link", name="Slow Show").click()
    expect(page).to_have_url(f"{server.url}/podcasts/1")
    expect(page.get_by_test_id("head-library")).to_have_text("2")
    rows = page.locator("#podcast-episodes tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator('[data-field="state"]')).to_contain_text("in library")
    _shot(page, shots, "podcasts-show.png")
    rows.first.get_by_role("checkbox").check()
    page.get_by_role("form", name="Change the selected episodes").get_by_role(
        "button", name="Mark watched"
    ).click()
    expect(rows.first.locator('[data-field="state"]')).to_contain_text("watched")
    page.get_by_role("button", name="Check now").click()
    expect(page.locator("#flash .status")).to_have_text("succeeded", timeout=DOWNLOAD_TIMEOUT_MS)

    page.get_by_role("button", name="Switch light/dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    _shot(page, shots, "podcasts-show-dark.png")
    page.goto("/podcasts")
    _shot(page, shots, "podcasts-list-dark.png")
    page.get_by_role("button", name="Switch light/dark theme").click()

    page.set_viewport_size({"width": 390, "height": 844})
    phone = [
        ("/podcasts", "podcasts-list-phone.png"),
        (f"/podcasts/add?url={feeds.url('other.rss')}", "podcasts-add-phone.png"),
        ("/podcasts/1", "podcasts-show-phone.png"),
        ("/podcasts/downloads", "podcasts-downloads-phone.png"),
    ]
    for path, name in phone:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (
            path
        )  # nothing needs a wide screen
        _shot(page, shots, name)
    print(f"\nscreenshots: {shots}")
