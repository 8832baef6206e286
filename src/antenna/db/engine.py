"""Engine construction: SQLite with WAL and foreign keys, or PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from antenna.errors import SettingsError
from antenna.redact import redact


def make_engine(url: str) -> Engine:
    """Return an engine for url; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise SettingsError(
            f"database_url {redact(url)!r} is not a database URL.",
            "Use postgresql+psycopg://user@host:5432/db or leave it empty for SQLite.",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise SettingsError(
            f"database_url {redact(url)!r} names an unsupported database.", "Use SQLite or PostgreSQL."
        )
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
