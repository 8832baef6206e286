"""Podcast tables: subscriptions and their episodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from antenna.db.base import Base, UTCDateTime


class PodcastRow(Base):
    """A podcast subscription."""

    __tablename__ = "podcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text)
    url_key: Mapped[str] = mapped_column(sa.String(1000), unique=True)  # normalised URL, refuses duplicates
    identity: Mapped[str] = mapped_column(sa.String(1000), default="", index=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    author: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    image_url: Mapped[str] = mapped_column(sa.Text, default="")
    folder: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default="ok")
    status_message: Mapped[str] = mapped_column(sa.Text, default="")
    etag: Mapped[str] = mapped_column(sa.String(300), default="")
    last_modified: Mapped[str] = mapped_column(sa.String(100), default="")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EpisodeRow(Base):
    """One feed item of a subscription and where it is in the pipeline."""

    __tablename__ = "podcast_episodes"
    __table_args__ = (
        sa.UniqueConstraint("podcast_id", "key"),
        sa.Index("ix_podcast_episodes_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    podcast_id: Mapped[int] = mapped_column(sa.ForeignKey("podcasts.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(1000))
    guid: Mapped[str] = mapped_column(sa.Text, default="")
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    published: Mapped[datetime] = mapped_column(UTCDateTime)
    enclosure_url: Mapped[str] = mapped_column(sa.Text)
    mime_type: Mapped[str] = mapped_column(sa.String(100), default="")
    size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    duration: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    image_url: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(24))
    season: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    number: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    relpath: Mapped[str] = mapped_column(sa.Text, default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    watched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_deleted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    edited: Mapped[bool] = mapped_column(
        sa.Boolean, default=False
    )  # NFO edits read back: feed text no longer wins
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
