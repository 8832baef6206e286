"""A user in headless chromium on the IPTV pages: add sources, refresh live, search, bulk-disable, edit.

Screenshots go to test-artifacts/iptv-*.png for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import (
    SSE_OPEN,
    log_in,
    open_from_nav,
    screenshot,
)
from tests.integration.test_iptv import Provider
from tests.support import ServerProcess, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
JOB_TIMEOUT_MS = 40_000


@pytest.fixture
def provider() -> Iterator[Provider]:
    """Serve a playlist and a guide over local HTTP."""
    with Provider() as running:
        yield running


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Serve an empty data dir."""
    data = tmp_path_factory.mktemp("e2e-iptv") / "data"
    process = start_server(data)
    try:
        yield process
    finally:
        process.stop()


def _add_source(page: Page, name: str, url: str, provides: str) -> None:
    form = page.get_by_role("form", name="Add an IPTV source")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Location").fill(url)
    form.get_by_label("Provides").select_option(label=provides)
    form.get_by_role("button", name="Add source").click()


def test_add_refresh_search_bulk_and_edit(page: Page, server: ServerProcess, provider: Provider) -> None:
    from playwright.sync_api import expect

    log_in(page, server)
    open_from_nav(page, "IPTV")
    expect(page).to_have_url(f"{server.url}/iptv")
    expect(page.get_by_role("heading", name="No IPTV sources yet")).to_be_visible()
    screenshot(page, "iptv-empty.png")

    # The Xtream login fields only show for Xtream; a wrong URL is refused next to its field.
    form = page.get_by_role("form", name="Add an IPTV source")
    expect(form.get_by_label("Xtream username")).to_be_hidden()
    form.get_by_label("Kind").select_option("xtream")
    expect(form.get_by_label("Xtream username")).to_be_visible()
    form.get_by_label("Kind").select_option("url")
    _add_source(page, "Provider", "ftp://nowhere/list.m3u", "Channels only")
    expect(page.locator("#iptv-location-error")).to_contain_text("is not an http(s) URL")
    expect(page.get_by_label("Location")).to_have_attribute("aria-invalid", "true")

    _add_source(page, "Provider", f"{provider.base}/list.m3u", "Channels only")
    expect(page.locator("#flash .flash-ok")).to_contain_text("Added Provider")
    expect(page.locator("#iptv-source-1")).to_contain_text("never fetched")
    _add_source(page, "Guide", f"{provider.base}/guide.xml", "Guide only")
    expect(page.locator("#iptv-source-2")).to_contain_text("Guide")
    page.wait_for_function(SSE_OPEN)
    page.evaluate("window.__antennaLoaded = 'iptv'")

    expect(page.get_by_test_id("outputs-note")).to_contain_text("They exist after the first refresh")
    page.get_by_role("button", name="Refresh all").click()
    job = page.get_by_test_id("refresh-job")
    expect(job).to_contain_text("Refreshing all sources")
    expect(job.locator(".status")).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)
    expect(job).to_contain_text("100%")
    expect(page.get_by_test_id("source-status-1").locator(".badge")).to_have_text("ok")
    expect(page.get_by_test_id("source-status-2").locator(".badge")).to_have_text("ok")
    expect(page.get_by_test_id("outputs-note")).to_have_text("")  # the files exist now
    assert page.evaluate("window.__antennaLoaded") == "iptv", "the page reloaded"
    screenshot(page, "iptv-sources.png")

    page.get_by_role("button", name="Test Provider now").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Provider: m3u")

    # Guide coverage: the channel without guide data comes first and is listed as such.
    page.get_by_role("navigation", name="IPTV pages").get_by_role("link", name="Guide coverage").click()
    expect(page.locator("#iptv-without-guide")).to_contain_text("3 No Guide")
    coverage = page.locator("#iptv-coverage tbody tr")
    expect(coverage).to_have_count(3)
    expect(coverage.first).to_contain_text("No Guide")
    screenshot(page, "iptv-guide.png")

    page.get_by_role("navigation", name="IPTV pages").get_by_role("link", name="Channels").click()
    expect(page).to_have_url(f"{server.url}/iptv/channels")
    rows = page.locator("#iptv-channels tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Search channels").fill("sports")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sports Two")
    page.get_by_label("Search channels").fill("")
    expect(rows).to_have_count(3)

    # Shift-click selects the range; the bulk bar disables both.
    rows.nth(0).get_by_role("checkbox").click()
    rows.nth(1).get_by_role("checkbox").click(modifiers=["Shift"])
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    expect(rows.nth(2).get_by_role("checkbox")).not_to_be_checked()
    screenshot(page, "iptv-bulk.png")
    page.get_by_role("form", name="Change the selected channels").get_by_role(
        "button", name="Disable"
    ).click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Disabled 2 channel(s)")
    expect(rows.nth(0).locator('[data-field="enabled"]')).to_contain_text("→ off")
    expect(rows.nth(1).locator('[data-field="enabled"]')).to_contain_text("→ off")
    expect(rows.nth(2).locator('[data-field="enabled"]')).not_to_contain_text("→")

    # Inline edit: a bad number is refused in place, a good one shows as pending.
    third = rows.nth(2)
    name = third.locator('[data-field="name"] strong').inner_text()
    third.get_by_role("button", name=f"Edit {name}").click()
    editor = page.get_by_role("form", name=f"Edit {name}")
    editor.get_by_label("Number").fill("12x")
    editor.get_by_role("button", name="Save").click()
    expect(page.get_by_role("form", name=f"Edit {name}").locator(".field-error")).to_contain_text(
        "is not a channel number"
    )
    screenshot(page, "iptv-edit.png")
    page.get_by_role("form", name=f"Edit {name}").get_by_label("Number").fill("105")
    page.get_by_role("form", name=f"Edit {name}").get_by_label("Number").press("Enter")
    edited = page.locator(f'#iptv-channels tr[data-channel]:has-text("{name}")')
    expect(edited.locator('[data-field="number"]')).to_contain_text("→ 105")
    screenshot(page, "iptv-channels.png")

    # Refresh now applies the changes; the table reloads by itself when the job is done.
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_test_id("refresh-job").locator(".status")).to_have_text(
        "succeeded", timeout=JOB_TIMEOUT_MS
    )
    expect(page.locator("#iptv-channels .iptv-pending")).to_have_count(0)
    expect(page.locator("#iptv-channels")).to_contain_text("2 disabled")
    expect(edited.locator('[data-field="number"]')).to_have_text("105")

    page.get_by_role("button", name="Switch light/dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "iptv-channels-dark.png")
    page.get_by_role("navigation", name="IPTV pages").get_by_role("link", name="Sources").click()
    expect(page.get_by_test_id("source-status-1").locator(".badge")).to_have_text("unchanged")
    screenshot(page, "iptv-sources-dark.png")
    page.get_by_role("button", name="Switch light/dark theme").click()

    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/iptv", "iptv-phone.png"), ("/iptv/channels", "iptv-channels-phone.png")):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing needs a wide screen
        screenshot(page, name)
