"""Fixtures for tests that need a real database: every such test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from antenna.container import Container, build_container
from antenna.settings import load_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a URL of an empty database of each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'antenna.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """Return a migrated container on each engine."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    settings = load_settings(data, {"ANTENNA_DATABASE_URL": database_url})
    built = build_container(settings)
    try:
        yield built
    finally:
        built.close()
