"""Web shell in-process: login, CSRF, API key, REST API, SSE — with the issue's bad input."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.webclient import PASSWORD, csrf_of


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


def _login(client: TestClient) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": "/jobs"})
    assert response.status_code == 303
    assert response.headers["location"] == "/jobs"
    return csrf_of(client.get("/").text)


def _api_key(container: Container) -> str:
    return AuthService(container.secrets, container.clock).api_key()


def test_pages_need_login(client: TestClient) -> None:
    for path in ["/", "/jobs", "/settings", "/activity", "/plex"]:
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    assert client.get("/jobs", headers={"HX-Request": "true"}).headers["HX-Redirect"].startswith("/login")


def test_wrong_password_is_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong password" in response.text
    assert client.get("/").status_code == 303


def test_form_without_csrf_token_is_forbidden(client: TestClient, container: Container) -> None:
    client.get("/login")
    assert client.post("/login", data={"password": PASSWORD}).status_code == 403
    _login(client)
    key = _api_key(container)
    response = client.post("/settings/api-key")
    assert response.status_code == 403
    assert "Reload the page" in response.text
    assert _api_key(container) == key  # nothing changed
    assert (
        client.post("/jobs/start", data={"kind": "backup"}, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    assert container.jobs.count() == 0


def test_open_redirect_after_login_is_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"password": PASSWORD, "csrf_token": token, "next": "//evil.example/"}
    )
    assert response.headers["location"] == "/"


def test_logged_in_pages_render(client: TestClient) -> None:
    _login(client)
    dashboard = client.get("/")
    assert "Welcome to Antenna" in dashboard.text
    assert "Make a first backup" in dashboard.text
    jobs = client.get("/jobs")
    assert "No jobs yet" in jobs.text
    assert "No job matches" in client.get("/jobs/table?q=zzz").text
    assert "Connect your Plex server" in client.get("/plex").text
    assert "No IPTV sources yet" in client.get("/iptv").text
    assert client.get("/nope").status_code == 404
    assert "API key" in client.get("/settings").text
    assert client.get("/activity").status_code == 200


def test_api_key_missing_or_wrong_is_401_and_changes_nothing(
    client: TestClient, container: Container
) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/api/jobs").status_code == 401
    response = client.post("/api/jobs", json={"kind": "backup"}, headers={"X-Api-Key": "wrong"})
    assert response.status_code == 401
    assert "X-Api-Key" in response.json()["error"]
    assert container.jobs.count() == 0
    assert client.put("/api/schedules/x", json={"expression": "daily 01:00"}).status_code == 401
    assert container.schedules.get("x") is None


def test_api_runs_a_backup_and_manages_schedules(client: TestClient, container: Container) -> None:
    headers = {"X-Api-Key": _api_key(container)}
    started = client.post("/api/backups", headers=headers)
    assert started.status_code == 202
    job_id = started.json()["id"]
    deadline = time.monotonic() + 30
    while client.get(f"/api/jobs/{job_id}", headers=headers).json()["status"] != "succeeded":
        assert time.monotonic() < deadline, client.get(f"/api/jobs/{job_id}", headers=headers).json()
        time.sleep(0.05)
    assert len(client.get("/api/backups", headers=headers).json()) == 1
    assert client.get("/api/jobs?status=succeeded", headers=headers).json()["total"] == 1

    bad = client.put(
        "/api/schedules/nightly", json={"expression": "evry 5m", "job_kind": "backup"}, headers=headers
    )
    assert bad.status_code == 400
    assert "evry 5m" in bad.json()["error"]
    assert "daily 03:30" in bad.json()["hint"]
    good = client.put(
        "/api/schedules/nightly",
        json={"expression": "daily 03:00", "job_kind": "backup", "timezone": "Europe/Berlin"},
        headers=headers,
    )
    assert good.status_code == 200
    assert good.json()["next_runs"]
    assert {s["name"] for s in client.get("/api/schedules", headers=headers).json()} == {
        "maintenance",
        "podcast_check",
        "podcast_housekeep",
        "nightly",
    }
    assert client.delete("/api/schedules/nightly", headers=headers).status_code == 204
    assert client.delete("/api/schedules/nightly", headers=headers).status_code == 404
    assert client.post("/api/jobs", json={"kind": "nope"}, headers=headers).status_code == 404
    assert client.post("/api/jobs/999/cancel", headers=headers).status_code == 404


def test_regenerated_api_key_replaces_the_old(client: TestClient, container: Container) -> None:
    old = _api_key(container)
    new = client.post("/api/settings/api-key", headers={"X-Api-Key": old}).json()["api_key"]
    assert new != old
    assert client.get("/api/jobs", headers={"X-Api-Key": old}).status_code == 401
    assert client.get("/api/jobs", headers={"X-Api-Key": new}).status_code == 200


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "/api/jobs" in spec["paths"]
    assert "/api/schedules/{name}" in spec["paths"]


def test_ui_schedule_form_shows_error_next_to_field(client: TestClient, container: Container) -> None:
    token = _login(client)
    response = client.post(
        "/schedules/__new__",
        data={"new_name": "nightly", "expression": "daily 25:00", "job_kind": "backup"},
        headers={"X-CSRF-Token": token},
    )
    assert 'aria-invalid="true"' in response.text
    assert "hour" in response.text
    assert container.schedules.get("nightly") is None
    ok = client.post(
        "/schedules/__new__",
        data={"new_name": "nightly", "expression": "daily 03:00", "job_kind": "backup", "enabled": "on"},
        headers={"X-CSRF-Token": token},
    )
    assert "saved" in ok.text
    assert container.schedules.get("nightly") is not None
    dup = client.post(
        "/schedules/__new__",
        data={"new_name": "nightly", "expression": "daily 04:00", "job_kind": "backup"},
        headers={"X-CSRF-Token": token},
    )
    assert "exists already" in dup.text


def test_bulk_cancel_reports_each_job(client: TestClient, container: Container) -> None:
    token = _login(client)
    queued = container.jobs.create("backup", {}, now=container.clock(), owner="other-host:1:1")
    response = client.post(
        "/jobs/cancel", data={"ids": [str(queued.id), "9999"]}, headers={"X-CSRF-Token": token}
    )
    assert "Cancelled 1 job(s)." in response.text
    assert "No job #9999" in response.text


def test_jobs_table_sorts_and_schedules_delete_from_the_ui(client: TestClient, container: Container) -> None:
    token = _login(client)
    now = container.clock()
    for kind in ("maintenance", "backup", "maintenance"):
        container.jobs.create(kind, {}, now=now, owner="other-host:1:1")
    rows = re.findall(r"<td>(backup|maintenance)", client.get("/jobs/table?sort=kind").text)
    assert rows == ["backup", "maintenance", "maintenance"]
    oldest = re.findall(r'href="/jobs/(\d+)"', client.get("/jobs/table?sort=oldest").text)
    assert oldest == sorted(oldest, key=int)
    response = client.post("/schedules/maintenance/delete", headers={"X-CSRF-Token": token})
    assert 'hx-swap-oob="delete"' in response.text
    assert container.schedules.get("maintenance") is None


def test_api_docs_use_local_assets_only(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    for asset in ("/static/vendor/swagger-ui-bundle.js", "/static/vendor/htmx.min.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200, asset


def test_a_job_bar_catches_up_with_a_job_that_finished_before_it_was_shown(
    client: TestClient, container: Container
) -> None:
    token = _login(client)
    started = client.post("/jobs/start", data={"kind": "backup"}, headers={"X-CSRF-Token": token})
    job_id = int(re.search(r'sse-swap="job-(\d+)"', started.text).group(1))  # type: ignore[union-attr]
    assert f'hx-get="/jobs/{job_id}/progress"' in started.text  # unfinished: it will ask once it is shown
    deadline = time.monotonic() + 30
    while container.jobs.get(job_id).status.value != "succeeded":  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    progress = client.get(f"/jobs/{job_id}/progress")
    assert "status-succeeded" in progress.text
    assert client.get("/jobs/9999/progress").status_code == 404
