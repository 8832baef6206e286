"""A VOD source's debug log (every decision of a run in a file beside its report, without secrets, and how
users get it: CLI, API, the page; off by default), and its scheduled export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.errors import AntennaError
from antenna.jobs.models import Job, JobStatus
from antenna.jobs.scheduler import Scheduler
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.support import run_cli
from tests.vodserver import Catalogue, VodServer
from tests.webclient import PASSWORD, htmx_headers

SECRET = "s3cret-panel-pw"


@pytest.fixture
def provider() -> Iterator[VodServer]:
    with VodServer(Catalogue(movies=6, series=2, episodes_per_series=2, seed=3), password=SECRET) as server:
        yield server


def add(container: Container, provider: VodServer, root: Path) -> int:
    view = container.vod.add_source(
        "prov", root=str(root), xtream=provider.url, username="user", password=SECRET, url_mode="provider"
    )
    return view.id


def test_the_debug_log_records_each_decision_without_secrets(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    add(container, provider, tmp_path / "vod")
    container.vod.export("prov")
    first = container.vod.runs("prov")[0]
    assert not container.vod.debug_log_path(first["id"]).exists()  # off by default

    container.vod.update_source("prov", {"debug_log": True})
    provider.catalogue.rename_movie(provider.catalogue.movies[0].stream_id, "Renamed Film")
    container.vod.export("prov")
    run = container.vod.runs("prov")[0]
    text = container.vod.debug_log_path(run["id"]).read_text()
    assert f"export #{run['id']} of prov" in text
    assert "renamed Movies/" in text
    assert "Renamed Film" in text
    assert "unchanged Movies/" in text
    assert "unchanged and its files are there" in text  # the series, skipped
    assert "done: prov:" in text
    assert SECRET not in text  # .strm files hold provider URLs with the password: masked in the log
    strm = next((tmp_path / "vod" / "Movies").rglob("*.strm")).read_text()
    assert SECRET in strm  # (the provider URL mode really writes it into the files)


def test_a_failed_run_keeps_its_debug_log(container: Container, provider: VodServer, tmp_path: Path) -> None:
    add(container, provider, tmp_path / "vod")
    container.vod.update_source("prov", {"debug_log": True})
    provider.fail_html = True
    with pytest.raises(AntennaError):
        container.vod.export("prov")
    run = container.vod.runs("prov")[0]
    assert run["status"] == "failed"
    assert "failed:" in container.vod.debug_log_path(run["id"]).read_text()


def test_users_get_the_debug_log_from_the_cli_api_and_page(
    container: Container, provider: VodServer, tmp_path: Path, database_url: str
) -> None:
    add(container, provider, tmp_path / "vod")
    container.vod.export("prov")
    without = container.vod.runs("prov")[0]["id"]
    container.vod.update_source("prov", {"debug_log": True})
    container.vod.export("prov")
    with_log = container.vod.runs("prov")[0]["id"]

    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    with TestClient(create_app(container, start_background=False), follow_redirects=False) as client:
        key = {"X-Api-Key": AuthService(container.secrets, container.clock).api_key()}
        answer = client.get(f"/api/vod/runs/{with_log}/debug.log", headers=key)
        assert answer.status_code == 200
        assert "done: prov:" in answer.text
        missing = client.get(f"/api/vod/runs/{without}/debug.log", headers=key)
        assert missing.status_code == 404
        assert "--debug-log" in missing.json()["hint"]
        hx = htmx_headers(client, "/vod")
        page = client.get("/vod/runs", headers=hx).text
        assert f'href="/vod/runs/{with_log}.log"' in page
        assert f'href="/vod/runs/{without}.log"' not in page
        assert "done: prov:" in client.get(f"/vod/runs/{with_log}.log").text

    cli_data, env = tmp_path / "data", {"ANTENNA_DATABASE_URL": database_url}  # the container's
    printed = run_cli(cli_data, "vod", "report", str(with_log), "--debug-log", env=env)
    assert printed.returncode == 0, printed.stderr
    assert "done: prov:" in printed.stdout
    refused = run_cli(cli_data, "vod", "report", str(without), "--debug-log", env=env)
    assert refused.returncode == 2
    assert "has no debug log" in refused.stderr


def test_a_scheduled_export_runs_as_a_job_and_never_overlaps(
    container: Container, provider: VodServer, tmp_path: Path
) -> None:
    source_id = add(container, provider, tmp_path / "vod")
    container.vod.update_source("prov", {"schedule": "daily 03:00"})
    name = f"vod-source-{source_id}"
    three = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    scheduler = Scheduler(container.schedules, container.jobs, container.runner, clock=lambda: three)

    async def scenario() -> tuple[int, int | None]:
        await container.runner.start()
        try:
            job_id = scheduler.fire(name)
            assert job_id is not None
            again = scheduler.fire(name)  # the first still runs (or waits): no second export
            deadline = time.monotonic() + 60
            while not _job(container, job_id).status.finished and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await container.runner.stop()
        return job_id, again

    job_id, again = asyncio.run(scenario())
    assert again is None
    job = _job(container, job_id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.kind == "vod_export"
    assert "created" in job.message
    assert any((tmp_path / "vod" / "Movies").rglob("*.strm"))
    assert container.vod.runs("prov")[0]["status"] == "ok"
    assert container.schedule_service.get(name).schedule.last_job_id == job_id


def _job(container: Container, job_id: int) -> Job:
    job = container.jobs.get(job_id)
    assert job is not None
    return job
