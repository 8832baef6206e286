"""Backup and restore against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import sqlite3
import stat
import tarfile
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.backup import BackupService
from antenna.db.backup import pg_dump_to
from antenna.errors import UserError
from antenna.jobs.models import JobCancelled

ROWS = 3000
SETTINGS = "backup_keep = 3\nport = 9000\n"

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)


class FakeContext:
    """A JobContext that records progress and can ask the job to stop once progress passes a mark."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.events: list[tuple[int, int, str]] = []
        self.failures: list[tuple[str, str]] = []
        self._cancel_at = cancel_at
        self._stop = threading.Event()

    @property
    def job_id(self) -> int:
        return 1

    @property
    def params(self) -> dict[str, Any]:
        return {}

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.events.append((done, total, message))
        if self._cancel_at is not None and done >= self._cancel_at:
            self._stop.set()

    def item_failed(self, item: str, reason: str) -> None:
        self.failures.append((item, reason))

    def check_cancelled(self) -> None:
        if self._stop.is_set():
            raise JobCancelled("cancelled")

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def fill(url: str, rows: int = ROWS) -> None:
    """Create the items table with rows rows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            metadata.create_all(conn)
            conn.execute(items.insert(), [{"name": f"item {i}", "payload": "x" * 300} for i in range(rows)])
    finally:
        engine.dispose()


def count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one())
    finally:
        engine.dispose()


def mangle(url: str) -> None:
    """Change the database so a restore has something to undo."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(items.delete().where(items.c.id > 10))
            conn.execute(sa.text("CREATE TABLE intruder (id INTEGER)"))
    finally:
        engine.dispose()


def service(data_dir: Path, url: str, clock: Clock | None = None, **overrides: Any) -> BackupService:
    options: dict[str, Any] = {"keep": 7, "pages_per_step": 64, "step_sleep_ms": 0}
    options.update(overrides)
    return BackupService(data_dir=data_dir, database_url=url, clock=clock or Clock(), **options)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def sqlite_url(data_dir: Path) -> str:
    url = f"sqlite:///{data_dir / 'antenna.db'}"
    fill(url)
    (data_dir / "antenna.toml").write_text(SETTINGS)
    return url


def test_sqlite_backup_writes_archive_with_manifest(data_dir: Path, sqlite_url: str) -> None:
    svc = service(data_dir, sqlite_url)
    ctx = FakeContext()
    summary = asyncio.run(svc.run(ctx))

    archive = data_dir / "backups" / "antenna-backup-20261122-031500.tar.gz"
    assert summary.startswith(f"backup {archive.name} (")
    assert summary.endswith("), 0 old archives pruned")
    # The archive holds the API key and maybe passwords: owner-only, in an owner-only folder.
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["manifest.json", "antenna.db", "antenna.toml"]
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert tar.extractfile("antenna.toml").read().decode() == SETTINGS  # type: ignore[union-attr]
    assert manifest["format"] == 1
    assert manifest["engine"] == "sqlite"
    assert manifest["database_file"] == "antenna.db"
    assert manifest["settings_file"] == "antenna.toml"
    assert manifest["created_at"] == "2026-11-22T03:15:00+00:00"
    dones = [done for done, _total, _msg in ctx.events]
    assert dones == sorted(dones)
    assert ctx.events[-1][:2] == (1000, 1000)
    assert {msg for *_n, msg in ctx.events} >= {"copying database", "writing archive"}
    assert list((data_dir / "tmp").iterdir()) == []
    [info] = svc.list()
    assert (info.path, info.engine, info.size_bytes) == (archive, "sqlite", archive.stat().st_size)
    assert svc.inspect(archive) == info


def test_sqlite_restore_brings_rows_back(data_dir: Path, sqlite_url: str) -> None:
    clock = Clock()
    svc = service(data_dir, sqlite_url, clock)
    asyncio.run(svc.run(FakeContext()))
    [info] = svc.list()

    db = data_dir / "antenna.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("DELETE FROM items WHERE id > 10")
    # Keep the WAL holding those deletes, as a crashed server leaves it: replaying it would undo the restore.
    stale = {s: Path(f"{db}{s}").read_bytes() for s in ("-wal", "-shm")}
    conn.close()
    for suffix, content in stale.items():
        Path(f"{db}{suffix}").write_bytes(content)
    mangle(sqlite_url)
    (data_dir / "antenna.toml").write_text("port = 1234\n")
    assert count(sqlite_url) == 10

    clock.now += timedelta(hours=1)
    result = svc.restore(info.path)

    assert count(sqlite_url) == ROWS
    assert result.engine == "sqlite"
    assert result.settings_restored
    assert result.archive == info.path
    assert (data_dir / "antenna.toml").read_text() == SETTINGS
    assert result.previous_settings == data_dir / "antenna.toml.before-restore-20261122-041500"
    assert result.previous_settings.read_text() == "port = 1234\n"
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "intruder" not in tables
    assert list((data_dir / "tmp").iterdir()) == []


def test_restore_without_settings_leaves_antenna_toml(data_dir: Path, sqlite_url: str) -> None:
    (data_dir / "antenna.toml").unlink()
    svc = service(data_dir, sqlite_url)
    asyncio.run(svc.run(FakeContext()))
    [info] = svc.list()
    (data_dir / "antenna.toml").write_text("port = 1234\n")
    result = svc.restore(info.path)
    assert not result.settings_restored
    assert result.previous_settings is None
    assert (data_dir / "antenna.toml").read_text() == "port = 1234\n"


@pytest.mark.postgres
def test_postgres_backup_and_restore(data_dir: Path, pg_url: str) -> None:
    fill(pg_url)
    (data_dir / "antenna.toml").write_text(SETTINGS)
    svc = service(data_dir, pg_url)
    ctx = FakeContext()
    summary = asyncio.run(svc.run(ctx))
    [info] = svc.list()
    assert summary.startswith(f"backup {info.name}")
    assert info.engine == "postgresql"
    with tarfile.open(info.path) as tar:
        assert tar.getnames() == ["manifest.json", "postgres.dump", "antenna.toml"]
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert (manifest["engine"], manifest["database_file"]) == ("postgresql", "postgres.dump")
    assert ctx.events[0] == (0, 1000, "copying database")
    assert ctx.events[-1][:2] == (1000, 1000)

    mangle(pg_url)
    assert count(pg_url) == 10
    result = svc.restore(info.path)
    assert result.engine == "postgresql"
    assert count(pg_url) == ROWS


def test_pg_tools_fail_clearly_without_leaking_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://antenna:hunter2secret@127.0.0.1:1/antenna"
    with pytest.raises(UserError) as failed:
        pg_dump_to(url, tmp_path / "x.dump", on_progress=lambda _d, _t: None)
    assert "pg_dump failed" in str(failed.value)
    assert "hunter2secret" not in str(failed.value)
    assert not (tmp_path / "x.dump").exists()

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="pg_dump not found: install Debian package postgresql-client"):
        pg_dump_to(url, tmp_path / "x.dump", on_progress=lambda _d, _t: None)


def test_password_goes_to_pgpassword_not_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen.txt"
    fake = bin_dir / "pg_dump"
    # A stand-in pg_dump that records what it was given, as `ps` would show it to other users.
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\necho "$PGPASSWORD" >> {seen}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    pg_dump_to(
        "postgresql+psycopg://an%27tenna:hunter2secret@db.example:5433/my%20db?sslmode=require",
        tmp_path / "x.dump",
        on_progress=lambda _d, _t: None,
    )
    *argv, password = seen.read_text().splitlines()
    assert password == "hunter2secret"
    assert not any("hunter2secret" in arg for arg in argv)
    assert "--dbname=host='db.example' port='5433' user='an\\'tenna' dbname='my db' sslmode='require'" in argv


def test_prune_keeps_newest(data_dir: Path, sqlite_url: str) -> None:
    clock = Clock()
    svc = service(data_dir, sqlite_url, clock, keep=2)
    (data_dir / "backups").mkdir()
    (data_dir / "backups" / "notes.txt").write_text("mine")
    summaries = []
    for _ in range(4):
        summaries.append(asyncio.run(svc.run(FakeContext())))
        clock.now += timedelta(days=1)
    assert summaries[2].endswith(", 1 old archive pruned")
    names = [info.name for info in svc.list()]
    assert names == ["antenna-backup-20261125-031500.tar.gz", "antenna-backup-20261124-031500.tar.gz"]
    assert sorted(p.name for p in (data_dir / "backups").iterdir()) == sorted([*names, "notes.txt"])

    # Two backups in one second get distinct names, and the later one sorts first.
    asyncio.run(svc.run(FakeContext()))
    asyncio.run(svc.run(FakeContext()))
    assert [info.name for info in svc.list()] == [
        "antenna-backup-20261126-031500-2.tar.gz",
        "antenna-backup-20261126-031500.tar.gz",
    ]


def test_concurrent_writer_still_gives_consistent_snapshot(data_dir: Path, sqlite_url: str) -> None:
    db = data_dir / "antenna.db"
    with sqlite3.connect(db) as setup:
        setup.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
        setup.execute("INSERT INTO ledger VALUES (1, 1000), (2, 0)")
    setup.close()
    stop = threading.Event()
    commits = [0]

    def writer() -> None:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        try:
            while not stop.is_set():
                # Each transaction adds 10 rows and moves 1 unit: a torn copy would break either invariant.
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT INTO items (name, payload) VALUES (?, ?)", [("w", "y" * 500)] * 10)
                conn.execute("UPDATE ledger SET balance = balance - 1 WHERE id = 1")
                conn.execute("UPDATE ledger SET balance = balance + 1 WHERE id = 2")
                conn.execute("COMMIT")
                commits[0] += 1
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        svc = service(data_dir, sqlite_url, pages_per_step=1, step_sleep_ms=2)
        asyncio.run(svc.run(FakeContext()))
        during = commits[0]
    finally:
        stop.set()
        thread.join()
    assert during > 0, "the writer never got to write during the backup"

    [info] = svc.list()
    snapshot = data_dir / "check.db"
    with tarfile.open(info.path) as tar:
        snapshot.write_bytes(tar.extractfile("antenna.db").read())  # type: ignore[union-attr]
    with sqlite3.connect(snapshot) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT sum(balance) FROM ledger").fetchone() == (1000,)
        moved = check.execute("SELECT balance FROM ledger WHERE id = 2").fetchone()[0]
        assert check.execute("SELECT count(*) FROM items").fetchone() == (ROWS + 10 * moved,)
    check.close()


@pytest.mark.parametrize("cancel_at", [300, 950], ids=["copying", "archiving"])
def test_cancel_leaves_no_archive_and_no_temp_files(data_dir: Path, sqlite_url: str, cancel_at: int) -> None:
    svc = service(data_dir, sqlite_url, pages_per_step=4)
    ctx = FakeContext(cancel_at=cancel_at)
    with pytest.raises(JobCancelled):
        asyncio.run(svc.run(ctx))
    assert ctx.events[-1][0] >= cancel_at
    backups = data_dir / "backups"
    assert not backups.exists() or list(backups.iterdir()) == []
    assert list((data_dir / "tmp").iterdir()) == []
    assert sorted(p.name for p in data_dir.iterdir() if p.is_file() and "antenna.db" not in p.name) == [
        "antenna.toml"
    ]


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


MANIFEST = json.dumps(
    {
        "format": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "engine": "sqlite",
        "database_file": "antenna.db",
        "settings_file": None,
    }
).encode()


def malicious(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.tar.gz"
    good = (_member("manifest.json"), MANIFEST)
    if kind == "traversal":
        return _archive(path, [good, (_member("../evil"), b"pwned"), (_member("antenna.db"), b"")])
    if kind == "absolute":
        return _archive(path, [good, (_member(str(tmp / "evil")), b"pwned")])
    if kind == "symlink":
        return _archive(path, [good, (_member("antenna.db", tarfile.SYMTYPE, str(tmp / "evil")), b"")])
    if kind == "no-manifest":
        return _archive(path, [(_member("antenna.db"), b"data")])
    if kind == "bad-manifest":
        return _archive(path, [(_member("manifest.json"), b"{not json"), (_member("antenna.db"), b"")])
    if kind == "truncated":
        whole = _archive(tmp / "whole.tar.gz", [good, (_member("antenna.db"), b"z" * 100_000)])
        path.write_bytes(whole.read_bytes()[:200])
        whole.unlink()
        return path
    path.write_bytes(b"this is not a tar archive at all")
    return path


@pytest.mark.parametrize(
    "kind", ["traversal", "absolute", "symlink", "no-manifest", "bad-manifest", "truncated", "not-a-tar"]
)
def test_malicious_archive_is_refused(data_dir: Path, sqlite_url: str, tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = malicious(outside, kind)
    svc = service(data_dir, sqlite_url)
    before_data, before_outside = tree(data_dir), tree(outside)
    with pytest.raises(UserError, match="is not an Antenna backup"):
        svc.inspect(archive)
    with pytest.raises(UserError, match="is not an Antenna backup"):
        svc.restore(archive)
    assert tree(data_dir) == before_data
    assert tree(outside) == before_outside
    assert not (tmp_path / "evil").exists()
    assert count(sqlite_url) == ROWS


def test_engine_mismatch_is_refused(data_dir: Path, sqlite_url: str) -> None:
    asyncio.run(service(data_dir, sqlite_url).run(FakeContext()))
    [info] = service(data_dir, sqlite_url).list()
    pg = service(data_dir, "postgresql+psycopg://antenna:hunter2secret@127.0.0.1:1/antenna")
    with pytest.raises(
        UserError, match="holds a sqlite database, but this Antenna uses postgresql"
    ) as refused:
        pg.restore(info.path)
    assert "hunter2secret" not in str(refused.value)
    assert (data_dir / "antenna.toml").read_text() == SETTINGS


@settings(max_examples=150)
@given(payload=st.binary(max_size=4096), gzip_it=st.booleans())
def test_any_bytes_as_archive_give_a_user_error_or_a_valid_backup(payload: bytes, gzip_it: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        archive = Path(folder) / "antenna-backup-20261122-031500.tar.gz"
        archive.write_bytes(gzip.compress(payload) if gzip_it else payload)
        svc = service(data, f"sqlite:///{data / 'antenna.db'}")
        with pytest.raises(UserError, match="is not an Antenna backup"):
            svc.inspect(archive)
        assert list(data.iterdir()) == []
