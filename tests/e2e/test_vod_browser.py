"""A user in headless chromium on the VOD page: add an M3U source, Generate All live, read the run's report.

Screenshots go to test-artifacts/vod-*.png for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import SSE_OPEN, log_in, open_from_nav, screenshot
from tests.support import ServerProcess, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
JOB_TIMEOUT_MS = 40_000
PLAYLIST = """#EXTM3U
#EXTINF:-1 group-title="Films",The Movie (2001)
http://p/movie/u/p/11.mkv
#EXTINF:-1 group-title="Films",Another Film (1999)
http://p/movie/u/p/12.mp4
#EXTINF:-1,Show S01E01 - Pilot
http://p/series/u/p/20.mp4
#EXTINF:-1,Show S01E02 - Title
http://p/series/u/p/21.mp4
"""


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Serve an empty data dir."""
    data = tmp_path_factory.mktemp("e2e-vod") / "data"
    process = start_server(data)
    try:
        yield process
    finally:
        process.stop()


def test_add_generate_and_read_the_report(page: Page, server: ServerProcess, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    playlist = tmp_path / "vod.m3u"
    playlist.write_text(PLAYLIST, encoding="utf-8")
    root = tmp_path / "library"

    log_in(page, server)
    open_from_nav(page, "VOD")
    expect(page).to_have_url(f"{server.url}/vod")
    expect(page.get_by_test_id("vod-banner")).to_contain_text("Plex cannot play .strm files")
    expect(page.get_by_role("heading", name="No VOD sources yet")).to_be_visible()
    expect(page.locator("#vod-no-runs")).to_contain_text("No exports yet")
    screenshot(page, "vod-empty.png")

    # Neither origin filled in: the error sits by the origin fields and nothing is added.
    form = page.get_by_role("form", name="Add a VOD source")
    form.get_by_label("Name", exact=True).fill("Films")
    form.get_by_label("Output folder").fill(str(root))
    form.get_by_role("button", name="Add source").click()
    expect(page.locator("#vod-source-error")).to_contain_text("an Xtream server or an M3U playlist")
    expect(page.get_by_label("Playlist URL or file")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "vod-form-error.png")

    page.get_by_label("Playlist URL or file").fill(str(playlist))
    page.get_by_role("form", name="Add a VOD source").get_by_role("button", name="Add source").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Added Films")
    expect(page.get_by_test_id("vod-status-1")).to_contain_text("never exported")
    page.wait_for_function(SSE_OPEN)
    page.evaluate("window.__antennaLoaded = 'vod'")

    page.get_by_role("button", name="Generate All for Films").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Generating Films")
    status = page.get_by_test_id("vod-status-1")
    expect(status.locator(".badge")).to_have_text("ok", timeout=JOB_TIMEOUT_MS)
    expect(status).to_contain_text("2 movies, 1 series")
    run = page.get_by_test_id("vod-run-1")
    expect(run).to_contain_text("10 created")
    expect(run.locator(".badge")).to_have_text("ok")
    assert page.evaluate("window.__antennaLoaded") == "vod", "the page reloaded"
    assert len(list(root.rglob("*.strm"))) == 4

    run.get_by_role("button", name="Preview the report of export 1").click()
    report = page.locator("#vod-report")
    expect(report.get_by_role("heading", name="Report of export #1 · Films")).to_be_visible()
    expect(report.locator("tbody tr")).to_have_count(5)
    report.get_by_role("link", name="Title").click()
    expect(report.locator('th[aria-sort="ascending"]')).to_contain_text("Title")
    expect(report.locator("tbody tr").first).to_contain_text("Another Film (1999)")
    report.get_by_role("link", name="Title").click()
    expect(report.locator('th[aria-sort="descending"]')).to_contain_text("Title")
    expect(report.locator("tbody tr").first).to_contain_text("The Movie (2001)")
    expect(report.get_by_role("button", name="Download CSV")).to_have_attribute("href", "/vod/runs/1.csv")
    screenshot(page, "vod-report.png")

    # Test now answers in a toast; Cleanup apply asks first and says what is lost.
    page.get_by_role("button", name="Test Films now").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("2 movies, 1 series, 2 episodes")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Cleanup apply for Films").click()
    expect(page.locator("#flash")).to_contain_text("2 movies")  # nothing new happened
    assert len(asked) == 1
    assert "no longer lists will be deleted" in asked[0]

    page.get_by_role("button", name="Switch light/dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "vod-dark.png")
    page.get_by_role("button", name="Switch light/dark theme").click()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/vod?run=1")
    expect(page.locator("#vod-report")).to_contain_text("Report of export #1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing needs a wide screen
    screenshot(page, "vod-phone.png")
