"""A user in headless chromium changes a VOD source's settings: a bad regex refused by its field, then saved.

Screenshots go to test-artifacts/vod-settings*.png for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_browser import log_in, screenshot
from tests.support import ServerProcess, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PLAYLIST = """#EXTM3U
#EXTINF:-1 group-title="Films",The Movie (2001)
http://p/movie/u/p/11.mkv
#EXTINF:-1,Show S01E01 - Pilot
http://p/series/u/p/20.mp4
"""


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Serve an empty data dir."""
    data = tmp_path_factory.mktemp("e2e-vod-settings") / "data"
    process = start_server(data)
    try:
        yield process
    finally:
        process.stop()


def test_settings_refuse_a_bad_regex_by_its_field_then_save(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    playlist = tmp_path / "vod.m3u"
    playlist.write_text(PLAYLIST, encoding="utf-8")
    log_in(page, server)
    page.goto("/vod")
    add = page.get_by_role("form", name="Add a VOD source")
    add.get_by_label("Name", exact=True).fill("Films")
    add.get_by_label("Playlist URL or file").fill(str(playlist))
    add.get_by_label("Output folder").fill(str(tmp_path / "library"))
    add.get_by_role("button", name="Add source").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Added Films")
    page.evaluate("window.__antennaLoaded = 'vod'")

    page.get_by_role("button", name="Settings of Films").click()
    form = page.get_by_role("form", name="Settings of Films")
    expect(form).to_be_visible()
    expect(form.get_by_label("Movie names")).to_have_value("{title} ({year}) {id}")
    expect(form.get_by_label("Cleanup limit")).to_have_value("20%")
    expect(form).to_contain_text("daily 03:00")  # the schedule's hint
    expect(form.get_by_label("Clean rules", exact=True)).to_be_hidden()  # the defaults are on

    regex = form.get_by_label("Titles matching")
    regex.fill("(unclosed")
    form.get_by_role("button", name="Save settings").click()
    error = page.locator("#vod-set-title_regex-error")
    expect(error).to_contain_text("not a valid regular expression")
    form = page.get_by_role("form", name="Settings of Films")
    expect(form.get_by_label("Titles matching")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Titles matching")).to_have_value("(unclosed")  # kept for correcting
    screenshot(page, "vod-settings-error.png")

    form.get_by_label("Titles matching").fill("^the ")
    form.get_by_label("Movie names").fill("{title} [{year}]")
    form.get_by_label("Export schedule").fill("daily 03:00")
    form.get_by_label("Debug log").check()
    form.get_by_label("Cleanup limit").fill("35%")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#flash .flash-ok")).to_contain_text("Saved the settings of Films")
    expect(page.locator("#vod-source-1")).to_contain_text("Exports on schedule “daily 03:00”")
    form = page.get_by_role("form", name="Settings of Films")
    expect(form.get_by_label("Movie names")).to_have_value("{title} [{year}]")
    expect(form.get_by_label("Debug log")).to_be_checked()
    expect(form.get_by_label("Cleanup limit")).to_have_value("35%")
    expect(page.locator("#vod-settings .field-error")).to_have_count(0)
    assert page.evaluate("window.__antennaLoaded") == "vod", "the page reloaded"
    screenshot(page, "vod-settings.png")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing needs a wide screen
    screenshot(page, "vod-settings-phone.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Close the settings of Films").click()
    expect(page.get_by_role("form", name="Settings of Films")).to_have_count(0)
