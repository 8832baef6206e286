"""Database copies for backup and restore: SQLite online backup, or pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa

from antenna.errors import UserError
from antenna.redact import redact

PG_CLIENT_HINT = "Install the Debian package postgresql-client."
# How often a running pg_dump is checked for cancellation.
_POLL_SECONDS = 0.2


def backup_engine(url: str) -> str:
    """Return "sqlite" or "postgresql" for a database URL; raise UserError for anything else."""
    try:
        backend = sa.make_url(url).get_backend_name()
    except sa.exc.ArgumentError as exc:
        raise UserError(f"{redact(url)!r} is not a database URL.") from exc
    if backend not in ("sqlite", "postgresql"):
        raise UserError(f"Cannot back up a {backend} database.", "Antenna backs up SQLite and PostgreSQL.")
    return backend


def sqlite_path_from_url(url: str) -> Path | None:
    """Return the database file of a SQLite URL, or None for other engines and in-memory SQLite."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def sqlite_snapshot(
    db_path: Path,
    dest: Path,
    *,
    pages_per_step: int,
    step_sleep_ms: int,
    on_progress: Callable[[int, int], None],
    check_cancelled: Callable[[], None],
) -> None:
    """Copy a live SQLite database page by page into dest, a consistent single file; quick_check it."""
    if not db_path.is_file():
        raise UserError(f"Database file {db_path} does not exist.", "Start Antenna once to create it.")
    sleep_seconds = step_sleep_ms / 1000

    def progress(_status: int, remaining: int, total: int) -> None:
        on_progress(total - remaining, total)
        # Raising here makes sqlite3 abort the backup and re-raise in the caller.
        check_cancelled()
        if sleep_seconds:
            # CPython only sleeps on SQLITE_BUSY, so pause here to let a busy server write between steps.
            time.sleep(sleep_seconds)

    # mode=rw: never create an empty database where the real one is missing.
    source = sqlite3.connect(_file_uri(db_path, "rw"), uri=True, isolation_level=None, timeout=30)
    try:
        target = sqlite3.connect(dest, isolation_level=None)
        try:
            # An open read transaction pins one WAL snapshot for the whole copy: concurrent writers
            # carry on, and the backup neither restarts on their commits nor mixes two versions.
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            source.backup(target, pages=pages_per_step, progress=progress, sleep=sleep_seconds)
            source.execute("COMMIT")
            # The copy inherits WAL mode in its header; make it a self-contained rollback-journal file.
            target.execute("PRAGMA journal_mode=DELETE")
            _quick_check(target, dest)
        finally:
            target.close()
    except BaseException:
        for leftover in (dest, *(dest.with_name(dest.name + s) for s in ("-journal", "-wal", "-shm"))):
            _unlink_quietly(leftover)
        raise
    finally:
        source.close()


def sqlite_restore(snapshot: Path, db_path: Path) -> None:
    """Check snapshot is a healthy SQLite database, then put it in place of db_path atomically."""
    conn = _open_checked(snapshot)
    conn.close()
    temp = db_path.with_name(f".{db_path.name}.restore-tmp")
    try:
        shutil.copyfile(snapshot, temp)
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        # A stale WAL or hot journal would be replayed onto the restored file and corrupt it.
        for suffix in ("-wal", "-shm", "-journal"):
            _unlink_quietly(db_path.with_name(db_path.name + suffix))
        # db/ owns its database file, and the copy must appear whole or not at all.
        os.replace(temp, db_path)  # noqa: TID251 - db/ replaces its own database file, not user files
    except BaseException:
        _unlink_quietly(temp)
        raise
    _fsync_dir(db_path.parent)


def pg_dump_to(
    url: str,
    dest: Path,
    *,
    on_progress: Callable[[int, int], None],
    check_cancelled: Callable[[], None] | None = None,
) -> None:
    """Dump a PostgreSQL database into dest in pg_dump's custom format; the password never reaches argv."""
    conninfo, password = _libpq_target(url)
    on_progress(0, 1)
    args = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--file={dest}",
        f"--dbname={conninfo}",
    ]
    try:
        _run_pg_tool(args, password, what="pg_dump", check_cancelled=check_cancelled)
    except BaseException:
        _unlink_quietly(dest)
        raise
    on_progress(1, 1)


def pg_restore_from(url: str, dump: Path) -> None:
    """Restore a pg_dump custom-format file into the database at url, in one transaction."""
    conninfo, password = _libpq_target(url)
    args = [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        # All or nothing: a failed restore leaves the database as it was.
        "--single-transaction",
        f"--dbname={conninfo}",
        str(dump),
    ]
    _run_pg_tool(args, password, what="pg_restore", check_cancelled=None)


def _libpq_target(url: str) -> tuple[str, str | None]:
    """Return a libpq key=value connection string without the password, and the password."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise UserError(f"{redact(url)!r} is not a database URL.") from exc
    if parsed.get_backend_name() != "postgresql":
        raise UserError(f"{redact(url)!r} is not a PostgreSQL URL.")
    # key=value form: no URI escaping rules to get wrong, and the password (passed in PGPASSWORD) is left out.
    params: dict[str, object] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "dbname": parsed.database,
        **parsed.query,
    }
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        text = ",".join(value) if isinstance(value, tuple) else str(value)
        parts.append(f"{key}='{_conninfo_quote(text)}'")
    return " ".join(parts), None if parsed.password is None else str(parsed.password)


def _conninfo_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _run_pg_tool(
    args: Sequence[str], password: str | None, *, what: str, check_cancelled: Callable[[], None] | None
) -> None:
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    secrets = [password] if password else []
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    except FileNotFoundError:
        raise UserError(f"{what} not found: install Debian package postgresql-client.") from None
    with proc:
        while True:
            try:
                _out, err = proc.communicate(timeout=_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if check_cancelled is None:
                    continue
                try:
                    check_cancelled()
                except BaseException:
                    proc.kill()
                    proc.communicate()
                    raise
    if proc.returncode != 0:
        detail = redact(err.decode("utf-8", "replace").strip(), secrets) or f"exit status {proc.returncode}"
        raise UserError(f"{what} failed: {detail}", "Check that PostgreSQL is running and the URL is right.")


def _open_checked(path: Path) -> sqlite3.Connection:
    """Open path read-only and quick_check it; raise UserError unless it is a healthy SQLite database."""
    if not path.is_file():
        raise UserError(f"{path} is not a SQLite database: file not found.")
    try:
        conn = sqlite3.connect(_file_uri(path, "ro"), uri=True)
    except sqlite3.Error as exc:
        raise UserError(f"{path} is not a SQLite database: {exc}.") from exc
    try:
        _quick_check(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path} is not a usable SQLite database: {exc}.") from exc
    result = "; ".join(str(row[0]) for row in rows[:5])
    if result != "ok":
        raise UserError(f"{path} failed the SQLite integrity check: {result}.")


def _file_uri(path: Path, mode: str) -> str:
    # as_uri() percent-encodes, so a "?" or "#" in the data dir path cannot be read as URI syntax.
    return f"{path.resolve().as_uri()}?mode={mode}"


def _unlink_quietly(path: Path) -> None:
    # Only for files this module created or must discard; a missing file is already the wanted state.
    path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
