"""Plex tables: servers, stored events, outgoing webhooks and the MQTT broker settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from antenna.db.base import Base, UTCDateTime


class PlexServerRow(Base):
    """A Plex server Antenna talks to."""

    __tablename__ = "plex_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    token: Mapped[str] = mapped_column(sa.String(200))
    verify_tls: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    path_maps: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    watched_policy: Mapped[str] = mapped_column(sa.String(16), default="owner")
    watched_users: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    machine_id: Mapped[str] = mapped_column(sa.String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlexEventRow(Base):
    """One event derived from a server (play, stop, server down…)."""

    __tablename__ = "plex_events"
    __table_args__ = (sa.Index("ix_plex_events_server_at", "server_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    server_id: Mapped[int] = mapped_column(sa.Integer)
    server_name: Mapped[str] = mapped_column(sa.String(128), default="")
    type: Mapped[str] = mapped_column(sa.String(32), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    client_id: Mapped[str] = mapped_column(sa.String(128), default="")
    slot: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    user: Mapped[str] = mapped_column(sa.String(128), default="")
    title: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class WebhookRow(Base):
    """An outgoing webhook for Plex events."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    url: Mapped[str] = mapped_column(sa.String(1000))
    secret: Mapped[str] = mapped_column(sa.String(200), default="")
    events: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    last_status: Mapped[str] = mapped_column(sa.String(200), default="")
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MqttRow(Base):
    """The MQTT broker settings (one row)."""

    __tablename__ = "mqtt_broker"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    host: Mapped[str] = mapped_column(sa.String(255), default="127.0.0.1")
    port: Mapped[int] = mapped_column(sa.Integer, default=1883)
    username: Mapped[str] = mapped_column(sa.String(200), default="")
    password: Mapped[str] = mapped_column(sa.String(200), default="")
    tls: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    topic_prefix: Mapped[str] = mapped_column(sa.String(100), default="antenna")
    discovery_prefix: Mapped[str] = mapped_column(sa.String(100), default="homeassistant")
    discovery: Mapped[bool] = mapped_column(sa.Boolean, default=True)
