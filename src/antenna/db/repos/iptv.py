"""IPTV rows: sources and channel overrides, as plain column dicts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.repos.plex import Columns, columns_of
from antenna.db.tables import IptvOverrideRow, IptvSourceRow
from antenna.errors import Conflict, NotFound


class IptvRepository:
    """Reads and writes IPTV sources and overrides."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def sources(self) -> list[Columns]:
        """Return every source by priority, then name."""
        query = sa.select(IptvSourceRow).order_by(IptvSourceRow.priority, IptvSourceRow.name)
        with self._sessions() as session:
            return [columns_of(r) for r in session.scalars(query)]

    def source(self, ref: str | int) -> Columns:
        """Return one source by id or name; NotFound names the known sources."""
        with self._sessions() as session:
            query = sa.select(IptvSourceRow)
            if isinstance(ref, int) or str(ref).isdigit():
                row = session.scalar(query.where(IptvSourceRow.id == int(ref)))
            else:
                row = session.scalar(query.where(IptvSourceRow.name == ref))
            if row is None:
                names = ", ".join(session.scalars(sa.select(IptvSourceRow.name))) or "none yet"
                raise NotFound(f"No IPTV source '{ref}'.", f"Known sources: {names}.")
            return columns_of(row)

    def add_source(self, values: Mapping[str, Any], now: datetime) -> Columns:
        """Insert a source; Conflict when the name is taken."""
        with self._sessions.begin() as session:
            if session.scalar(sa.select(IptvSourceRow.id).where(IptvSourceRow.name == values["name"])):
                raise Conflict(
                    f"An IPTV source named '{values['name']}' already exists.", "Pick another name."
                )
            row = IptvSourceRow(**values, created_at=now)
            session.add(row)
            session.flush()
            return columns_of(row)

    def update_source(self, source_id: int, values: Mapping[str, Any]) -> Columns:
        """Change some columns of a source."""
        with self._sessions.begin() as session:
            row = session.get(IptvSourceRow, source_id)
            if row is None:
                raise NotFound(f"No IPTV source with id {source_id}.")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return columns_of(row)

    def delete_source(self, source_id: int) -> None:
        """Remove a source and its overrides."""
        with self._sessions.begin() as session:
            session.execute(sa.delete(IptvOverrideRow).where(IptvOverrideRow.source_id == source_id))
            session.execute(sa.delete(IptvSourceRow).where(IptvSourceRow.id == source_id))

    def overrides(self) -> list[Columns]:
        """Return every channel override."""
        with self._sessions() as session:
            return [columns_of(r) for r in session.scalars(sa.select(IptvOverrideRow))]

    def set_override(self, source_id: int, channel_key: str, values: Mapping[str, Any]) -> Columns:
        """Create or change the override of one channel."""
        with self._sessions.begin() as session:
            row = session.scalar(
                sa.select(IptvOverrideRow).where(
                    IptvOverrideRow.source_id == source_id, IptvOverrideRow.channel_key == channel_key
                )
            )
            if row is None:
                row = IptvOverrideRow(source_id=source_id, channel_key=channel_key)
                session.add(row)
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return columns_of(row)
