"""Shared fixtures: services that must exist in CI and are skipped (with a reason) elsewhere."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.plexsim.pytest_plugin", "tests.mediaserver"]
# Timing is not what the property tests check; a busy 2-core CI machine must not turn into flaky failures.
settings.register_profile(
    "antenna", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("antenna")

REQUIRE_SERVICES = os.environ.get("ANTENNA_REQUIRE_SERVICES") == "1"
PG_ADMIN_URL = os.environ.get("ANTENNA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def service_missing(reason: str) -> None:
    """Skip the test with a clear reason, or fail it when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason} (ANTENNA_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Create a fresh, empty PostgreSQL database for one test and drop it afterwards."""
    if not port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL is not listening on 127.0.0.1:5432")
    import sqlalchemy as sa

    name = f"antenna_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL at {PG_ADMIN_URL} refused: {exc.orig}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty data dir for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path
