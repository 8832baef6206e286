"""A user in headless chromium: log in, start a backup from the Jobs page and watch it finish live.

Screenshots go to test-artifacts/ at the repository root (gitignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.support import ServerProcess, fill_sqlite, run_cli, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# About 6,000 pages copied 100 at a time with a 40 ms pause: a backup of roughly 3-5 s, so the
# progress bar visibly passes through intermediate values before it reaches 100%.
FILLER_MB = 24
SLOW_BACKUP = {"ANTENNA_BACKUP_PAGES_PER_STEP": "100", "ANTENNA_BACKUP_STEP_SLEEP_MS": "40"}
JOB_TIMEOUT_MS = 40_000

# Records every percent shown in the jobs table with the identity of its <tr>: a value that changes while
# the row element stays the same was swapped in by an SSE message, not by a refresh of the whole table.
WATCH_PERCENTS = """
() => {
  window.__percents = [];
  const rowIds = new WeakMap();
  let rows = 0;
  const table = document.getElementById("jobs-table");
  const record = () => {
    for (const cell of table.querySelectorAll('[data-testid^="percent-"]')) {
      const row = cell.closest("tr");
      if (!rowIds.has(row)) rowIds.set(row, ++rows);
      const entry = {job: cell.dataset.testid.slice(8), row: rowIds.get(row), text: cell.textContent.trim()};
      const last = window.__percents.findLast((e) => e.job === entry.job);
      if (!last || last.text !== entry.text || last.row !== entry.row) window.__percents.push(entry);
    }
  };
  new MutationObserver(record).observe(table, {subtree: true, childList: true, characterData: true});
}
"""
# True once the page's EventSource on /events (HTMX SSE extension, on <body>) is open.
SSE_OPEN = """
() => {
  const data = document.body["htmx-internal-data"];
  return Boolean(data && data.sseEventSource && data.sseEventSource.readyState === EventSource.OPEN);
}
"""
MID_PROGRESS = """
(id) => {
  const cell = document.querySelector(`#jobs-table [data-testid="percent-${id}"]`);
  const value = cell ? parseInt(cell.textContent, 10) : NaN;
  return value > 0 && value < 100;
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Serve a data dir whose database holds enough filler that a backup takes a few seconds."""
    data = tmp_path_factory.mktemp("e2e") / "data"
    data.mkdir()
    upgraded = run_cli(data, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    fill_sqlite(data / "antenna.db", FILLER_MB)
    process = start_server(data, env=SLOW_BACKUP)
    try:
        yield process
    finally:
        process.stop()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot with transitions settled (a theme switch fades for a moment)."""
    page.screenshot(path=ARTIFACTS / name, full_page=True, animations="disabled")


def log_in(page: Page, server: ServerProcess) -> None:
    """Open the site, get sent to the login form, and log in with the admin password."""
    from playwright.sync_api import expect

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Admin password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/")


def open_from_nav(page: Page, label: str) -> None:
    """Follow a link in the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()


def live_values(seen: list[dict[str, Any]], job_id: str) -> dict[int, list[int]]:
    """Return the percents shown for one job, grouped by the <tr> element that showed them."""
    by_row: dict[int, list[int]] = {}
    for entry in seen:
        if entry["job"] == job_id and entry["text"].endswith("%"):
            by_row.setdefault(entry["row"], []).append(int(entry["text"].rstrip("%")))
    return by_row


def test_wrong_password_shows_the_error_next_to_the_field(page: Page) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Admin password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    error = page.locator("#password + #password-error")  # directly after the field it is about
    expect(error).to_be_visible()
    expect(error).to_contain_text("Wrong password")
    field = page.get_by_label("Admin password")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "password-error")
    screenshot(page, "login-error.png")
    page.goto("/")  # still not logged in: sent back to the form
    expect(page).to_have_url(re.compile(r"/login"))


def test_backup_started_from_jobs_page_reaches_100_percent_live(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    log_in(page, server)
    expect(page.get_by_role("heading", name="Welcome to Antenna")).to_be_visible()
    screenshot(page, "dashboard.png")

    open_from_nav(page, "Jobs")
    expect(page).to_have_url(f"{server.url}/jobs")
    expect(page.get_by_text("No jobs yet.")).to_be_visible()
    page.wait_for_function(SSE_OPEN)
    # A reload would wipe this marker; a navigation would also be counted below.
    page.evaluate("window.__antennaLoaded = 'jobs'")
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )
    page.evaluate(WATCH_PERCENTS)

    page.get_by_label("Start a job").select_option("backup")
    page.get_by_role("button", name="Start", exact=True).click()
    flash = page.locator("#flash .flash-ok")
    expect(flash).to_contain_text(re.compile(r"Started backup \(job #\d+\)"))
    match = re.search(r"job #(\d+)", flash.inner_text())
    assert match
    job_id = match.group(1)

    # The table refreshes itself (HX-Trigger / SSE jobs-changed) and shows the new row with its bar.
    row = page.locator(f"#jobs-table #job-row-{job_id}")
    expect(row).to_be_visible()
    expect(row.locator("progress")).to_be_visible()
    page.wait_for_function(MID_PROGRESS, arg=job_id, timeout=JOB_TIMEOUT_MS)
    screenshot(page, "jobs-backup-running.png")

    expect(row.locator(".status")).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)
    expect(row.get_by_test_id(f"percent-{job_id}")).to_have_text("100%")
    expect(row.locator("progress")).to_have_attribute("value", "100")
    # The flash keeps its message; its own bar follows the same job.
    expect(flash).to_contain_text(f"Started backup (job #{job_id}).")
    expect(flash.get_by_test_id(f"percent-{job_id}")).to_have_text("100%")
    screenshot(page, "jobs-backup.png")

    by_row = live_values(page.evaluate("window.__percents"), job_id)
    assert any(len({v for v in values if 0 < v < 100}) >= 2 for values in by_row.values()), (
        f"the row never moved between 0% and 100% in place (SSE): {by_row}"
    )
    for values in by_row.values():
        assert values == sorted(values), f"progress went backwards: {by_row}"
    assert page.evaluate("window.__antennaLoaded") == "jobs", "the page reloaded"
    assert navigations == [], f"the page navigated: {navigations}"

    open_from_nav(page, "Settings")  # the finished backup is listed there
    expect(page.locator("#backups-table table")).to_contain_text("antenna-backup-")


def test_settings_shows_api_key_and_rejects_bad_schedule_in_place(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    log_in(page, server)
    open_from_nav(page, "Settings")
    expect(page).to_have_url(f"{server.url}/settings")
    key_box = page.get_by_test_id("api-key")
    expect(key_box).to_have_value(re.compile(r"\S{16,}"))
    answer = httpx.get(f"{server.url}/api/jobs", headers={"X-Api-Key": key_box.input_value()}, timeout=10)
    assert answer.status_code == 200, answer.text
    screenshot(page, "settings.png")

    page.evaluate("window.__antennaLoaded = 'settings'")
    adder = page.locator("#schedule-new")
    adder.get_by_label("New schedule name").fill("nightly-backup")
    adder.get_by_label("When").fill("every banana")
    adder.get_by_role("button", name="Add schedule").click()

    error = adder.locator("#schedule-new-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("every banana")
    when = adder.get_by_label("When")
    expect(when).to_have_attribute("aria-invalid", "true")
    expect(when).to_have_attribute("aria-describedby", "schedule-new-error")
    expect(when).to_have_value("every banana")  # kept for correcting
    error.scroll_into_view_if_needed()
    screenshot(page, "settings-schedule-error.png")

    adder.get_by_label("New schedule name").fill("nightly-backup")
    when.fill("daily 03:30")
    adder.get_by_role("button", name="Add schedule").click()
    saved = page.locator("#schedule-nightly-backup")
    expect(saved).to_contain_text("saved")
    expect(saved).to_contain_text("daily at 03:30")
    # A blank form is back for the next schedule.
    expect(page.locator("#schedule-new").get_by_label("New schedule name")).to_have_value("")
    expect(page.locator(".field-error")).to_have_count(0)
    assert page.evaluate("window.__antennaLoaded") == "settings", "the page reloaded"


def test_dark_theme_toggle_sticks(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    log_in(page, server)
    open_from_nav(page, "Jobs")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Switch light/dark theme").click()
    expect(html).to_have_attribute("data-theme", "dark")
    screenshot(page, "jobs-dark.png")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    open_from_nav(page, "Dashboard")
    screenshot(page, "dashboard-dark.png")


def test_fast_job_row_ends_succeeded_on_a_phone_screen(page: Page, server: ServerProcess) -> None:
    """A job that ends while the table is reloading must still show its final state (no stale row)."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, server)
    open_from_nav(page, "Jobs")
    page.wait_for_function(SSE_OPEN)
    page.get_by_label("Start a job").select_option("maintenance")
    page.get_by_role("button", name="Start", exact=True).click()
    match = re.search(r"job #(\d+)", page.locator("#flash .flash-ok").inner_text())
    assert match
    row = page.locator(f"#job-row-{match.group(1)}")
    expect(row.locator(".status")).to_have_text("succeeded")
    expect(row.locator(".percent")).to_have_text("100%")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing needs a wide screen
    screenshot(page, "jobs-phone.png")
