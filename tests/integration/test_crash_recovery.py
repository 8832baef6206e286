"""Crash recovery with a real `kill -9` of a child `antenna backup` process in the middle of its job."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import ANTENNA, clean_env, fill_sqlite, run_cli, start_server

pytestmark = pytest.mark.slow

FILLER_MB = 8
# One page per step with a pause: copying ~2300 pages takes well over ten seconds, so the job is surely
# still running when it is killed. The retry runs at full speed, since these are not in antenna.toml.
SLOW_BACKUP = {"ANTENNA_BACKUP_PAGES_PER_STEP": "1", "ANTENNA_BACKUP_STEP_SLEEP_MS": "5"}
DEADLINE = 60.0


def job_rows(db_path: Path) -> list[tuple[int, str, int, int | None]]:
    """Read (id, status, done, retry_of) of every job straight from the SQLite file, read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT id, status, done, retry_of FROM jobs ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(int(i), str(s), int(d), r) for i, s, d, r in rows]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def signal_backup_mid_run(data: Path, sig: signal.Signals) -> tuple[int, int]:
    """Run `antenna backup` on a big database, signal it while its job runs; return (job id, exit code)."""
    upgraded = run_cli(data, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    fill_sqlite(data / "antenna.db", FILLER_MB)
    out = data.parent / "backup.out"
    with out.open("w") as handle:
        proc = subprocess.Popen(
            [*ANTENNA, "--data", str(data), "backup"],
            env=clean_env(SLOW_BACKUP),
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            # As typed in a terminal: a suite started in the background (`make test &`) has SIGINT ignored,
            # and the child would inherit that and finish its backup.
            preexec_fn=_default_sigint,
        )
    try:
        deadline = time.monotonic() + DEADLINE
        job_id = None
        while job_id is None:
            assert proc.poll() is None, f"backup ended before it was killed:\n{out.read_text()}"
            assert time.monotonic() < deadline, f"no running backup job with progress:\n{out.read_text()}"
            running = [r for r in job_rows(data / "antenna.db") if r[1] == "running" and r[2] > 0]
            job_id = running[0][0] if running else None
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        # Reap it: a zombie still answers kill(pid, 0) and would look alive to the recovery.
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    return job_id, code


def kill_backup_mid_run(data: Path) -> int:
    """SIGKILL `antenna backup` while its job runs; check it left no archive; return the job id."""
    job_id, code = signal_backup_mid_run(data, signal.SIGKILL)
    assert code == -signal.SIGKILL

    # The crash left the row as it was, and no archive, whole or half, under its real name.
    assert [r[1] for r in job_rows(data / "antenna.db") if r[0] == job_id] == ["running"]
    backups = data / "backups"
    leftovers = sorted(p.name for p in backups.iterdir()) if backups.exists() else []
    assert not [n for n in leftovers if n.endswith(".tar.gz")], leftovers
    # Only a hidden temp file of the atomic writer may remain there (when killed while writing the archive).
    assert all(re.fullmatch(r"\.antenna-backup-.+\.tmp", n) for n in leftovers), leftovers
    return job_id


def check_archive(data: Path) -> Path:
    """Assert there is exactly one archive, whole, whose database holds every filler row; return it."""
    archives = sorted((data / "backups").glob("*.tar.gz"))
    assert len(archives) == 1, archives
    with tarfile.open(archives[0]) as tar:
        assert {"manifest.json", "antenna.db"} <= set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest["engine"] == "sqlite"
        tar.extract("antenna.db", data.parent / "restored", filter="data")
    with sqlite3.connect(data.parent / "restored" / "antenna.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM bench_filler").fetchone() == (FILLER_MB * 256,)
    return archives[0]


def test_server_start_recovers_a_killed_backup_and_retries_it(data_dir: Path) -> None:
    killed = kill_backup_mid_run(data_dir)

    server = start_server(data_dir)  # recovery runs as the server starts
    try:
        with server.api() as api:
            deadline = time.monotonic() + DEADLINE
            while True:
                response = api.get("/api/jobs", params={"kind": "backup"})
                assert response.status_code == 200, response.text
                jobs: dict[int, dict[str, Any]] = {j["id"]: j for j in response.json()["jobs"]}
                retries = [j for j in jobs.values() if j["retry_of"] == killed]
                if retries and retries[0]["status"] not in ("queued", "running"):
                    break
                assert time.monotonic() < deadline, f"retry did not finish: {jobs}\n{server.output()}"
                time.sleep(0.2)
    finally:
        server.stop()

    assert jobs[killed]["status"] == "interrupted"
    assert "died" in jobs[killed]["error"]
    assert jobs[killed]["finished_at"] is not None
    assert len(retries) == 1, jobs
    assert retries[0]["status"] == "succeeded", retries[0]
    assert retries[0]["percent"] == 100
    assert set(jobs) == {killed, retries[0]["id"]}, jobs
    archive = check_archive(data_dir)
    assert archive.name in retries[0]["message"]


def test_any_cli_start_marks_a_killed_job_interrupted_without_running_it(data_dir: Path) -> None:
    killed = kill_backup_mid_run(data_dir)

    for _ in range(2):  # recovery happens once: a second start finds nothing left to recover
        result = run_cli(data_dir, "jobs", "list", "--json")
        assert result.returncode == 0, result.stderr
        jobs: dict[int, dict[str, Any]] = {j["id"]: j for j in json.loads(result.stdout)}
        assert len(jobs) == 2, jobs
        assert jobs[killed]["status"] == "interrupted"
        assert "died" in jobs[killed]["error"]
        retries = [j for j in jobs.values() if j["retry_of"] == killed]
        assert [(j["kind"], j["status"]) for j in retries] == [("backup", "queued")], jobs
    # A one-shot command only records the retry; `antenna serve` runs it.
    assert not list(data_dir.glob("backups/*.tar.gz"))


def test_ctrl_c_cancels_a_foreground_job_without_a_retry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    job_id, code = signal_backup_mid_run(data, signal.SIGINT)
    assert code == 130
    rows = job_rows(data / "antenna.db")
    assert [r[1] for r in rows if r[0] == job_id] == ["cancelled"]
    assert not [r for r in rows if r[3] == job_id]  # nothing queued to run it again
    backups = data / "backups"
    assert not list(backups.glob("*.tar.gz")) if backups.exists() else True
