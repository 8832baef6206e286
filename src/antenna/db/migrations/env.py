"""Alembic environment: runs on the connection handed in by antenna.db.migrate."""

from __future__ import annotations

from alembic import context

from antenna.db import tables  # noqa: F401  (registers every table on Base.metadata)
from antenna.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `antenna db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
