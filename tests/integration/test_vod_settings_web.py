"""VOD page in-process: the Settings form of a source, errors by field, a save that renames next export."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.integration.test_vod_web import EPISODE, MOVIE, _add, _errors, _press
from tests.webclient import PASSWORD, htmx_headers


class _Form(HTMLParser):
    """The fields a browser would send from the first form of a page, as they are filled in."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea = ""
        self._select = ""
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._done or ("name" not in a and tag != "option"):
            return
        if tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.fields[a["name"]] = "on"
        elif tag == "input":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = ""
        elif tag == "select":
            self._select = ""
        elif tag == "form":
            self._done = True

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def fields(html: str, **changes: str) -> dict[str, str]:
    """Return the form's fields as a browser sends them, with some changed ("" drops a checkbox)."""
    parser = _Form()
    parser.feed(html)
    out = {**parser.fields, **changes}
    return {key: value for key, value in out.items() if value != "" or key not in ("debug_log", "rich_nfo")}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def hx(client: TestClient) -> dict[str, str]:
    return htmx_headers(client, "/vod")


@pytest.fixture
def playlist(tmp_path: Path) -> Path:
    path = tmp_path / "vod.m3u"
    path.write_text("#EXTM3U\n" + MOVIE + EPISODE, encoding="utf-8")
    return path


def test_settings_form_shows_every_setting_and_keeps_secrets(
    client: TestClient, hx: dict[str, str], container: Container, playlist: Path, tmp_path: Path
) -> None:
    _add(client, hx, playlist, tmp_path / "library")
    table = client.get("/vod/sources").text
    assert 'hx-get="/vod/sources/1/settings"' in table
    assert 'aria-label="Settings of Films"' in table

    form = client.get("/vod/sources/1/settings", headers=hx).text
    assert "Settings of Films" in form
    sent = fields(form)
    assert sent["m3u"] == str(playlist)
    assert sent["root"] == str((tmp_path / "library").resolve())
    assert sent["movie_template"] == "{title} ({year}) {id}"
    assert sent["episode_template"] == "{series} - S{season:02d}E{episode:02d} - {title}"
    assert sent["threshold"] == "20%"
    assert sent["provider_workers"] == "4"
    assert sent["disk_workers"] == ""
    assert sent["schedule"] == ""
    assert sent["default_clean_rules"] == "on"
    assert sent["clean_rules"].count("\n") == 3  # the four default rules, shown for editing
    assert "debug_log" not in sent  # off
    assert "daily 03:00" in form  # the schedule's hint
    assert "<h1>VOD</h1>" not in form  # a fragment

    page = client.get("/vod/sources/1/settings").text  # without JavaScript: the page with the form open
    assert "<h1>VOD</h1>" in page
    assert 'aria-labelledby="vod-settings-heading"' in page

    container.vod.add_source(
        "Xt", root=str(tmp_path / "xt"), xtream="http://alice:s3cret-pw@xt.example", username="alice",
        password="s3cret-pw",
    )  # fmt: skip
    form = client.get("/vod/sources/2/settings", headers=hx).text
    assert "s3cret-pw" not in form
    sent = fields(form, year_min="1990")
    assert sent["xtream"] == "http://***@xt.example"
    assert sent["password"] == ""
    saved = client.post("/vod/sources/2/settings", data=sent, headers=hx)
    assert _errors(saved.text) == {}
    stored = container.vod.repo.source(2)
    assert stored["server"] == "http://alice:s3cret-pw@xt.example"  # the masked address did not replace it
    assert stored["password"] == "s3cret-pw"  # an empty password field keeps it
    assert container.vod.source(2).year_min == 1990


def test_bad_values_show_errors_by_their_fields_and_save_nothing(
    client: TestClient, hx: dict[str, str], container: Container, playlist: Path, tmp_path: Path
) -> None:
    _add(client, hx, playlist, tmp_path / "library")
    before = container.vod.repo.source(1)
    form = client.get("/vod/sources/1/settings", headers=hx).text
    bad = fields(
        form,
        title_regex="(unclosed",
        movie_template="{title} {season}",
        threshold="150%",
        provider_workers="0",
        movies_folder="a/b",
        schedule="sometimes",
        root="relative/dir",
        default_clean_rules="",
        clean_rules="^ok\n[bad",
    )
    text = client.post("/vod/sources/1/settings", data=bad, headers=hx).text
    errors = _errors(text)
    assert "not a valid regular expression" in errors["vod-set-title_regex"]
    assert "uses {season}" in errors["vod-set-movie_template"]
    assert "not between 0 and 1" in errors["vod-set-threshold"]
    assert "Use 1 to 64" in errors["vod-set-provider_workers"]
    assert "not one plain folder name" in errors["vod-set-movies_folder"]
    assert "is not valid" in errors["vod-set-schedule"]
    assert "not a full path" in errors["vod-set-root"]
    assert "clean rule 2" in errors["vod-set-clean_rules"]
    assert 'aria-describedby="vod-set-title_regex-error"' in text
    assert 'value="(unclosed"' in text  # kept for correcting
    assert container.vod.repo.source(1) == before

    together = fields(form, year_min="2010", year_max="2000")
    errors = _errors(client.post("/vod/sources/1/settings", data=together, headers=hx).text)
    assert "after the last year" in errors["vod-set-year_min"]
    same = fields(form, series_folder="movies")
    errors = _errors(client.post("/vod/sources/1/settings", data=same, headers=hx).text)
    assert "cannot share the folder" in errors["vod-set-series_folder"]

    plain = {"X-CSRF-Token": hx["X-CSRF-Token"]}
    failed = client.post("/vod/sources/1/settings", data=fields(form, title_regex="("), headers=plain)
    assert failed.status_code == 400
    assert "<h1>VOD</h1>" in failed.text
    assert "vod-set-title_regex-error" in failed.text
    assert container.vod.repo.source(1) == before


def test_saving_updates_the_row_and_the_next_export_renames(
    client: TestClient, hx: dict[str, str], container: Container, playlist: Path, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    _add(client, hx, playlist, root)
    assert _press(client, hx, container, scope="all").status.value == "succeeded"
    assert (root / "Movies/The Movie (2001)/The Movie (2001).strm").is_file()

    form = client.get("/vod/sources/1/settings", headers=hx).text
    change = fields(
        form,
        movie_template="{title} [{year}]",
        schedule="daily 03:00",
        debug_log="on",
        threshold="35%",
        exclude_categories="Kids\nHorror",
        default_clean_rules="",
        clean_rules="^The ",
    )
    saved = client.post("/vod/sources/1/settings", data=change, headers=hx)
    assert saved.headers["HX-Trigger"] == "vod-sources-changed"  # the table reloads: the row shows it
    assert _errors(saved.text) == {}
    assert "flash-ok" in saved.text
    assert "Saved the settings of Films. The next export renames its files in place." in saved.text
    assert "exports on “daily 03:00”" in saved.text.lower()
    assert 'value="{title} [{year}]"' in saved.text  # the form stays open with what was saved
    view = container.vod.source(1)
    assert (view.movie_template, view.schedule, view.debug_log, view.threshold) == (
        "{title} [{year}]", "daily 03:00", True, 0.35,
    )  # fmt: skip
    assert view.exclude_categories == ("Kids", "Horror")
    assert view.clean_rules == ("^The ",)
    assert container.schedule_service.get("vod-source-1").schedule.expression == "daily 03:00"
    assert "Exports on schedule “daily 03:00”" in client.get("/vod/sources").text

    assert _press(client, hx, container, scope="all").status.value == "succeeded"
    assert (root / "Movies/Movie [2001]/Movie [2001].strm").is_file()
    assert not (root / "Movies/The Movie (2001)").exists()
    assert "renamed" in client.get("/vod/runs/2/preview").text

    back = fields(client.get("/vod/sources/1/settings", headers=hx).text, schedule="", debug_log="")
    back["default_clean_rules"] = "on"
    client.post("/vod/sources/1/settings", data=back, headers=hx)
    view = container.vod.source(1)
    assert view.default_clean_rules
    assert (view.schedule, view.debug_log) == ("", False)
    assert "Exports by hand" in client.get("/vod/sources").text

    plain = {"X-CSRF-Token": hx["X-CSRF-Token"]}
    done = client.post("/vod/sources/1/settings", data=fields(form, year_min="1999"), headers=plain)
    assert done.status_code == 303
    assert done.headers["location"] == "/vod"
    assert client.get("/vod/sources/9/settings", headers=hx).headers["HX-Retarget"] == "#flash"
