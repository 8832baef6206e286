"""VOD page in-process: empty state, form field errors, Generate with the real runner, history, reports."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.jobs.models import Job
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.webclient import PASSWORD, htmx_headers

MOVIE = '#EXTINF:-1 group-title="Films",The Movie (2001)\nhttp://p/movie/u/p/11.mkv\n'
EPISODE = "#EXTINF:-1,Show S01E02 - Title\nhttp://p/series/u/p/21.mp4\n"
JOB_SECONDS = 30


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    # The real runner runs in the app: Generate buttons queue jobs that it picks up as in `antenna serve`.
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def idle_client(container: Container) -> Iterator[TestClient]:
    """A client of an app whose runner does not run: pressed buttons leave their jobs queued."""
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    with TestClient(create_app(container, start_background=False), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def hx(client: TestClient) -> dict[str, str]:
    """Log in and return the headers an HTMX request from the page sends."""
    return htmx_headers(client, "/vod")


@pytest.fixture
def playlist(tmp_path: Path) -> Path:
    path = tmp_path / "vod.m3u"
    path.write_text("#EXTM3U\n" + MOVIE + EPISODE, encoding="utf-8")
    return path


def _errors(text: str) -> dict[str, str]:
    found = re.findall(r'id="([\w-]+)-error" class="field-error"[^>]*>([^<]*)<', text)
    return {name: html.unescape(message).strip() for name, message in found}


def _form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Films",
        "xtream": "",
        "username": "",
        "password": "",
        "m3u": "",
        "root": "",
        "base_url": "",
        "url_mode": "redirect",
        "id_style": "plex",
        "schedule": "",
    }
    form.update(changes)
    return form


def _add(client: TestClient, hx: dict[str, str], playlist: Path, root: Path) -> None:
    response = client.post("/vod/sources", data=_form(m3u=str(playlist), root=str(root)), headers=hx)
    assert _errors(response.text) == {}
    assert response.headers["HX-Trigger"] == "vod-sources-changed"
    assert "Added Films" in response.text


def _press(client: TestClient, hx: dict[str, str], container: Container, **values: str) -> Job:
    """Press an export button of source 1 and wait for its job to end."""
    response = client.post("/vod/sources/1/export", data=values, headers=hx)
    assert response.status_code == 200
    job = container.jobs.search(limit=1, kind="vod_export")[0]
    assert f"job #{job.id}." in response.text
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        finished = container.jobs.get(job.id)
        if finished is not None and finished.status.finished:
            return finished
        time.sleep(0.05)
    raise AssertionError(f"job #{job.id} did not finish in {JOB_SECONDS} s")


def test_page_explains_the_next_step_when_empty(client: TestClient, hx: dict[str, str]) -> None:
    page = client.get("/vod").text
    assert "<h1>VOD</h1>" in page
    assert "Plex cannot play" in page
    assert "Jellyfin" in page
    assert "No VOD sources yet" in page
    assert "antenna vod source add NAME --m3u URL --root FOLDER" in page
    assert "No exports yet" in page
    assert 'aria-label="Add a VOD source"' in page
    assert "does not have VOD yet" not in page
    assert client.get("/vod/runs/1/preview").status_code == 404
    assert client.get("/vod/runs/1.csv").status_code == 404


def test_add_form_shows_errors_by_their_fields(
    client: TestClient, hx: dict[str, str], playlist: Path, tmp_path: Path
) -> None:
    root = str(tmp_path / "library")
    text = client.post("/vod/sources", data=_form(m3u=str(playlist)), headers=hx).text
    assert "Say which folder" in _errors(text)["vod-root"]
    assert f'value="{playlist}"' in text  # kept for correcting

    both = _form(xtream="http://xt.example", username="u", password="p", m3u=str(playlist), root=root)
    errors = _errors(client.post("/vod/sources", data=both, headers=hx).text)
    assert "not both" in errors["vod-source"]

    errors = _errors(client.post("/vod/sources", data=_form(root=root), headers=hx).text)
    assert "Xtream server or an M3U playlist" in errors["vod-source"]

    errors = _errors(client.post("/vod/sources", data=_form(xtream="http://x", root=root), headers=hx).text)
    assert "username and password" in errors["vod-username"]

    missing = _form(m3u=str(tmp_path / "nope.m3u"), root="relative/dir")
    errors = _errors(client.post("/vod/sources", data=missing, headers=hx).text)
    assert "There is no file" in errors["vod-m3u"]
    assert "not a full path" in errors["vod-root"]

    text = client.post(
        "/vod/sources", data=_form(m3u=str(playlist), root=root, schedule="sometimes"), headers=hx
    ).text
    assert "is not valid" in _errors(text)["vod-schedule"]  # the service's schedule check, by its field

    _add(client, hx, playlist, tmp_path / "library")
    again = client.post("/vod/sources", data=_form(m3u=str(playlist), root=root), headers=hx).text
    assert "already exists" in _errors(again)["vod-name"]

    plain = {"X-CSRF-Token": hx["X-CSRF-Token"]}
    failed = client.post("/vod/sources", data=_form(name="", root=root), headers=plain)
    assert failed.status_code == 400
    assert "<h1>VOD</h1>" in failed.text
    assert "vod-name-error" in failed.text


def test_xtream_password_is_never_shown(
    client: TestClient, hx: dict[str, str], container: Container, tmp_path: Path
) -> None:
    form = _form(
        name="Provider",
        xtream="http://xt.example:8080",
        username="alice",
        password="s3cret-pw",
        root=str(tmp_path),
    )
    response = client.post("/vod/sources", data=form, headers=hx)
    assert _errors(response.text) == {}
    assert "s3cret-pw" not in response.text
    page = client.get("/vod").text
    assert "alice · password set" in page
    assert "Xtream Codes" in page
    assert "s3cret-pw" not in page
    assert container.vod.sources()[0].has_password


def test_generate_all_writes_the_library_and_reports_it(
    client: TestClient, hx: dict[str, str], container: Container, playlist: Path, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    _add(client, hx, playlist, root)
    table = client.get("/vod/sources").text
    assert "never exported" in table
    assert "Press Generate All" in table
    for button in ("Generate All", "Generate Movies", "Generate Series", "Cleanup preview", "Cleanup apply"):
        assert f">{button}</button>" in table
    assert "no longer lists will be deleted" in table  # the apply confirm says what is lost

    job = _press(client, hx, container, scope="all")
    assert job.status.value == "succeeded", job.error
    assert job.params == {"source": 1, "scope": "all", "cleanup": "off", "force": False}
    assert (root / "Movies" / "The Movie (2001)" / "The Movie (2001).strm").is_file()
    assert len(list(root.rglob("*.strm"))) == 2

    table = client.get("/vod/sources").text
    assert 'class="badge iptv-status-ok"' in table
    assert "1 movies, 1 series" in table

    runs = client.get("/vod/runs").text
    assert 'id="vod-run-1"' in runs
    assert "Movies + series" in runs
    assert "6 created" in runs
    assert 'href="/vod/runs/1.csv"' in runs

    download = client.get("/vod/runs/1.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["type"] for r in rows} == {"movie", "series", "episode"}
    assert {r["action"] for r in rows} == {"created"}

    preview = client.get("/vod/runs/1/preview").text
    assert "Report of export #1 · Films" in preview
    assert "3 rows." in preview
    assert "The Movie (2001)" in preview
    assert "Show - S01E02 - Title" in preview
    by_title = client.get("/vod/runs/1/preview", params={"sort": "-title"}).text
    assert 'aria-sort="descending"' in by_title
    assert by_title.index("The Movie (2001)") < by_title.index("Show - S01E02 - Title")
    page = client.get("/vod", params={"run": 1, "sort": "title"}).text  # the same without JavaScript
    assert page.index("Show - S01E02 - Title") < page.index("The Movie (2001).strm")
    assert client.get("/vod/runs/99.csv").status_code == 404

    # The provider drops the movie: a preview lists it, apply is refused past the threshold, force removes it.
    playlist.write_text("#EXTM3U\n" + EPISODE, encoding="utf-8")
    assert _press(client, hx, container, scope="all", cleanup="preview").status.value == "succeeded"
    assert "would delete" in client.get("/vod/runs/2/preview").text
    assert (root / "Movies" / "The Movie (2001)" / "The Movie (2001).strm").is_file()
    assert _press(client, hx, container, scope="all", cleanup="apply").status.value == "succeeded"
    table = client.get("/vod/sources").text
    assert "refused" in table
    assert ">Force cleanup</button>" in table
    assert (
        _press(client, hx, container, scope="all", cleanup="apply", force="true").status.value == "succeeded"
    )
    assert not (root / "Movies" / "The Movie (2001)").exists()
    assert "deleted" in client.get("/vod/runs/4/preview").text
    assert "Force cleanup" not in client.get("/vod/sources").text


def test_source_actions_test_stats_refuse_and_remove(
    client: TestClient, hx: dict[str, str], container: Container, playlist: Path, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    _add(client, hx, playlist, root)
    tested = client.post("/vod/sources/1/test", headers=hx).text
    assert "flash-ok" in tested
    assert "Films: 1 movies, 1 series, 1 episodes" in tested

    stats = client.post("/vod/sources/1/stats", headers=hx).text
    assert "the provider lists 1 movies and 1 series" in stats
    assert "0 .strm" in stats

    assert _press(client, hx, container, scope="movies").status.value == "succeeded"
    assert [p.name for p in root.rglob("*.strm")] == ["The Movie (2001).strm"]
    assert "Movies" in client.get("/vod/runs").text

    unknown = client.post("/vod/sources/1/export", data={"scope": "everything"}, headers=hx)
    assert unknown.headers["HX-Retarget"] == "#flash"
    assert "Unknown export" in unknown.text

    playlist.unlink()
    failed = client.post("/vod/sources/1/test", headers=hx).text
    assert "flash-error" in failed
    assert "Testing Films failed" in failed
    assert "does not exist" in failed
    job = _press(client, hx, container, scope="all")
    assert job.status.value == "failed"
    table = client.get("/vod/sources").text
    assert 'class="badge iptv-status-failed"' in table
    assert "Nothing was changed" in table
    runs = client.get("/vod/runs").text
    assert "vod-run-failed" in runs
    assert "failed before it changed anything" in client.get("/vod/runs/2/preview").text

    removed = client.post("/vod/sources/1/delete", headers=hx)
    assert "Removed Films" in removed.text
    assert removed.headers["HX-Trigger"] == "vod-runs-changed"
    assert container.vod.sources() == []
    assert (root / "Movies" / "The Movie (2001)" / "The Movie (2001).strm").is_file()  # files stay
    assert "No VOD sources yet" in client.get("/vod").text


def test_buttons_queue_exports_shown_live_in_their_row(
    idle_client: TestClient, container: Container, playlist: Path, tmp_path: Path
) -> None:
    hx = htmx_headers(idle_client, "/vod")
    _add(idle_client, hx, playlist, tmp_path / "library")
    started = idle_client.post("/vod/sources/1/export", data={"scope": "series"}, headers=hx).text
    job = container.jobs.active(kind="vod_export")[-1]
    assert job.params == {"source": 1, "scope": "series", "cleanup": "off", "force": False}
    assert f'sse-swap="job-{job.id}"' in started  # the row shows live progress
    assert f'hx-get="/jobs/{job.id}/progress"' in started  # and catches up if SSE missed the end
    assert "Generating Films (series)" in started
    assert 'aria-label="Generate All for Films" disabled' in started
    page = idle_client.get("/vod").text
    assert 'hx-trigger="sse:jobs-changed' in page
    assert f'sse-swap="job-{job.id}"' in page

    again = idle_client.post("/vod/sources/1/export", data={"cleanup": "preview"}, headers=hx)
    assert again.headers["HX-Retarget"] == "#flash"
    assert f"already queued (job #{job.id})" in again.text
    assert len(container.jobs.active(kind="vod_export")) == 1
