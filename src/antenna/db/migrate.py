"""Run Alembic migrations from inside the package (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from antenna.errors import Unavailable
from antenna.redact import redact

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _unreachable(engine: Engine, exc: sa.exc.DBAPIError) -> Unavailable:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    where = redact(engine.url.render_as_string(hide_password=True))
    return Unavailable(
        f"Cannot reach the database {where}: {redact(reason)}.",
        "Check database_url and that the database server is running.",
    )


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to revision; return (before, after). Raise Unavailable if the database is down."""
    config = _config()
    try:
        connection = engine.connect()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise _unreachable(engine, exc) from exc
    with connection, connection.begin():
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at (None when empty)."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise _unreachable(engine, exc) from exc


def head_revision() -> str | None:
    """Return the newest revision this version of Antenna ships."""
    return ScriptDirectory.from_config(_config()).get_current_head()
