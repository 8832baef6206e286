"""Database on both engines: migrations, WAL/foreign keys, repositories round-trip aware timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from antenna.container import Container
from antenna.db.engine import make_engine
from antenna.db.migrate import current_revision, head_revision, upgrade
from antenna.errors import Unavailable
from antenna.jobs.models import JobStatus

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_migrations_reach_head_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        before, after = upgrade(engine)
        assert before is None
        assert after == head_revision() == current_revision(engine)
        assert upgrade(engine) == (after, after)
        tables = set(sa.inspect(engine).get_table_names())
        assert {"jobs", "job_item_failures", "schedules", "app_secrets", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_job_repository_round_trip(container: Container) -> None:
    repo = container.jobs
    job = repo.create("backup", {"a": 1}, now=NOW)
    assert job.status is JobStatus.QUEUED
    assert repo.claim(job.id, "me", now=NOW + timedelta(seconds=1))
    assert not repo.claim(job.id, "other", now=NOW)
    repo.progress(job.id, 5, 10, "half")
    repo.record_failure(job.id, "item-1", "broken", now=NOW)
    finished = repo.finish(job.id, JobStatus.SUCCEEDED, now=NOW + timedelta(seconds=5), message="ok")
    assert finished is not None
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.params == {"a": 1}
    assert finished.started_at == NOW + timedelta(seconds=1)
    assert finished.started_at.tzinfo is not None
    assert finished.failed_items == 1
    assert [f.item for f in repo.failures(job.id)] == ["item-1"]
    assert repo.count(status=[JobStatus.SUCCEEDED]) == 1
    assert repo.search(search="ok")[0].id == job.id
    assert repo.prune_finished(before=NOW + timedelta(days=1)) == 1
    assert repo.get(job.id) is None


def test_failures_cascade_with_job(container: Container) -> None:
    job = container.jobs.create("backup", {}, now=NOW)
    container.jobs.record_failure(job.id, "x", "y", now=NOW)
    container.jobs.finish(job.id, JobStatus.FAILED, now=NOW)
    container.jobs.prune_finished(before=NOW + timedelta(seconds=1))
    with container.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from job_item_failures")).scalar() == 0


def test_schedules_and_secrets(container: Container) -> None:
    names = [s.name for s in container.schedules.all()]
    assert "maintenance" in names  # seeded default
    before = container.schedules.fingerprint()
    container.schedules.upsert(
        "nightly",
        job_kind="backup",
        expression="daily 03:00",
        timezone="Europe/Berlin",
        quiet_window="01:00-05:00",
        enabled=True,
        params={},
        now=NOW,
    )
    assert container.schedules.fingerprint() != before
    stored = container.schedules.get("nightly")
    assert stored is not None
    assert stored.timezone == "Europe/Berlin"
    assert container.schedules.delete("nightly")
    assert not container.schedules.delete("nightly")
    container.secrets.set("k", "v1", now=NOW)
    assert not container.secrets.set_if_missing("k", "v2", now=NOW)
    assert container.secrets.get("k") == "v1"


def test_unreachable_database_is_one_clear_error_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://bob:s3cretpw@127.0.0.1:1/antenna")
    try:
        with pytest.raises(Unavailable) as caught:
            upgrade(engine)
        with pytest.raises(Unavailable):
            current_revision(engine)
    finally:
        engine.dispose()
    assert "Cannot reach the database" in str(caught.value)
    assert "s3cretpw" not in str(caught.value)
