"""IPTV tables: sources and the user's per-channel overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from antenna.db.base import Base, UTCDateTime


class IptvSourceRow(Base):
    """A channel and/or guide source."""

    __tablename__ = "iptv_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    role: Mapped[str] = mapped_column(sa.String(16), default="both")
    location: Mapped[str] = mapped_column(sa.Text)
    username: Mapped[str] = mapped_column(sa.String(200), default="")
    password: Mapped[str] = mapped_column(sa.String(200), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    timeout_seconds: Mapped[int] = mapped_column(sa.Integer, default=60)
    schedule: Mapped[str] = mapped_column(sa.String(200), default="every 6h")
    priority: Mapped[int] = mapped_column(sa.Integer, default=100)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    icon: Mapped[str] = mapped_column(sa.String(1000), default="")
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    etag: Mapped[str] = mapped_column(sa.String(300), default="")
    last_modified: Mapped[str] = mapped_column(sa.String(100), default="")
    last_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str] = mapped_column(sa.String(16), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    last_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    last_format: Mapped[str] = mapped_column(sa.String(16), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IptvOverrideRow(Base):
    """What the user changed about one channel of a source; kept across refreshes."""

    __tablename__ = "iptv_overrides"
    __table_args__ = (sa.UniqueConstraint("source_id", "channel_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("iptv_sources.id", ondelete="CASCADE"), index=True)
    channel_key: Mapped[str] = mapped_column(sa.String(500))
    name: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    number: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    group_name: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    logo: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    guide_id: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    enabled: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
