"""Plex rows: servers, events, webhooks and the MQTT broker; values go in and out as plain column dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.base import Base
from antenna.db.tables import MqttRow, PlexEventRow, PlexServerRow, WebhookRow
from antenna.errors import Conflict, NotFound

Columns = dict[str, Any]


def columns_of(row: Base) -> Columns:
    """Return an ORM row's columns as a plain dict."""
    return {column.key: getattr(row, column.key) for column in sa.inspect(type(row)).columns}


class PlexRepository:
    """Reads and writes every Plex table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # servers -------------------------------------------------------------------------------------
    def servers(self) -> list[Columns]:
        """Return every server by name."""
        with self._sessions() as session:
            return [
                columns_of(r) for r in session.scalars(sa.select(PlexServerRow).order_by(PlexServerRow.name))
            ]

    def server(self, ref: str | int) -> Columns:
        """Return one server by id or name; NotFound names the known servers."""
        with self._sessions() as session:
            query = sa.select(PlexServerRow)
            if isinstance(ref, int) or str(ref).isdigit():
                row = session.scalar(query.where(PlexServerRow.id == int(ref)))
            else:
                row = session.scalar(query.where(PlexServerRow.name == ref))
            if row is None:
                names = ", ".join(session.scalars(sa.select(PlexServerRow.name))) or "none yet"
                raise NotFound(f"No Plex server '{ref}'.", f"Known servers: {names}.")
            return columns_of(row)

    def add_server(self, values: Mapping[str, Any], now: datetime) -> Columns:
        """Insert a server; Conflict when the name is taken."""
        with self._sessions.begin() as session:
            if session.scalar(sa.select(PlexServerRow.id).where(PlexServerRow.name == values["name"])):
                raise Conflict(
                    f"A Plex server named '{values['name']}' already exists.", "Pick another --name."
                )
            row = PlexServerRow(**values, created_at=now)
            session.add(row)
            session.flush()
            return columns_of(row)

    def update_server(self, server_id: int, values: Mapping[str, Any]) -> Columns:
        """Change some columns of a server."""
        with self._sessions.begin() as session:
            row = session.get(PlexServerRow, server_id)
            if row is None:
                raise NotFound(f"No Plex server with id {server_id}.")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return columns_of(row)

    def delete_server(self, server_id: int) -> None:
        """Remove a server (its events stay in history)."""
        with self._sessions.begin() as session:
            session.execute(sa.delete(PlexServerRow).where(PlexServerRow.id == server_id))

    # events --------------------------------------------------------------------------------------
    def add_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Store events."""
        if not events:
            return
        with self._sessions.begin() as session:
            session.add_all(PlexEventRow(**values) for values in events)

    def events(
        self,
        *,
        types: tuple[str, ...] = (),
        server_id: int | None = None,
        text: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Columns], int]:
        """Return a page of events, newest first, and the total that match."""
        query = sa.select(PlexEventRow)
        if types:
            query = query.where(PlexEventRow.type.in_(types))
        if server_id is not None:
            query = query.where(PlexEventRow.server_id == server_id)
        if text:
            like = f"%{text.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(PlexEventRow.title).like(like),
                    sa.func.lower(PlexEventRow.user).like(like),
                    sa.func.lower(PlexEventRow.client_id).like(like),
                )
            )
        with self._sessions() as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(PlexEventRow.at.desc(), PlexEventRow.id.desc()).limit(limit).offset(offset)
            )
            return [columns_of(r) for r in rows], total

    def prune_events(self, before: datetime) -> int:
        """Delete events older than `before`; return how many."""
        with self._sessions.begin() as session:
            result = session.execute(sa.delete(PlexEventRow).where(PlexEventRow.at < before))
            return int(getattr(result, "rowcount", 0) or 0)

    # webhooks ------------------------------------------------------------------------------------
    def webhooks(self) -> list[Columns]:
        """Return every webhook by name."""
        with self._sessions() as session:
            return [columns_of(r) for r in session.scalars(sa.select(WebhookRow).order_by(WebhookRow.name))]

    def add_webhook(self, values: Mapping[str, Any]) -> Columns:
        """Insert a webhook; Conflict when the name is taken."""
        with self._sessions.begin() as session:
            if session.scalar(sa.select(WebhookRow.id).where(WebhookRow.name == values["name"])):
                raise Conflict(f"A webhook named '{values['name']}' already exists.", "Pick another name.")
            row = WebhookRow(**values)
            session.add(row)
            session.flush()
            return columns_of(row)

    def update_webhook(self, hook_id: int, values: Mapping[str, Any]) -> None:
        """Change some columns of a webhook (e.g. its last delivery status)."""
        with self._sessions.begin() as session:
            row = session.get(WebhookRow, hook_id)
            if row is None:
                raise NotFound(f"No webhook with id {hook_id}.")
            for key, value in values.items():
                setattr(row, key, value)

    def delete_webhook(self, hook_id: int) -> None:
        """Remove a webhook."""
        with self._sessions.begin() as session:
            session.execute(sa.delete(WebhookRow).where(WebhookRow.id == hook_id))

    # mqtt ----------------------------------------------------------------------------------------
    def mqtt(self) -> Columns | None:
        """Return the MQTT broker settings, or None when never saved."""
        with self._sessions() as session:
            row = session.get(MqttRow, 1)
            return columns_of(row) if row else None

    def save_mqtt(self, values: Mapping[str, Any]) -> None:
        """Create or replace the MQTT broker settings."""
        with self._sessions.begin() as session:
            row = session.get(MqttRow, 1) or MqttRow(id=1)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
