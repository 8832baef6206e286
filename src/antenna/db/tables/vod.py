"""VOD tables: sources, the manifest of files Antenna wrote, series states, streams for redirects, runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from antenna.db.base import Base, UTCDateTime


class VodSourceRow(Base):
    """An Xtream account or an M3U playlist whose movies and series become a .strm tree."""

    __tablename__ = "vod_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    server: Mapped[str] = mapped_column(sa.Text, default="")
    username: Mapped[str] = mapped_column(sa.String(200), default="")
    password: Mapped[str] = mapped_column(sa.String(200), default="")
    m3u: Mapped[str] = mapped_column(sa.Text, default="")
    root: Mapped[str] = mapped_column(sa.Text)
    base_url: Mapped[str] = mapped_column(sa.String(500), default="")
    url_mode: Mapped[str] = mapped_column(sa.String(16), default="redirect")
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    schedule: Mapped[str] = mapped_column(sa.String(200), default="")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str] = mapped_column(sa.String(16), default="")
    last_message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VodFileRow(Base):
    """One file Antenna wrote under a source's root: the manifest cleanup and renames work from."""

    __tablename__ = "vod_files"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "path"),
        sa.Index("ix_vod_files_item", "source_id", "item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("vod_sources.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.Text)
    item: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(sa.String(32))
    digest: Mapped[str] = mapped_column(sa.String(32))
    series_id: Mapped[str] = mapped_column(sa.String(64), default="")


class VodSeriesRow(Base):
    """What the provider last said of a series, so an unchanged series is not fetched again."""

    __tablename__ = "vod_series"
    __table_args__ = (sa.UniqueConstraint("source_id", "series_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("vod_sources.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(sa.String(64))
    last_modified: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    files: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Its folders' modification times after the last write ("rel=ns" joined by "/"; "" = unknown): a file
    # added, removed or renamed there changes them, so one stat per folder tells its files are all there.
    disk: Mapped[str] = mapped_column(sa.Text, default="", server_default="")


class VodStreamRow(Base):
    """A movie or episode stream, for the stable redirect URLs the .strm files hold."""

    __tablename__ = "vod_streams"
    __table_args__ = (sa.UniqueConstraint("source_id", "kind", "stream_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("vod_sources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    stream_id: Mapped[str] = mapped_column(sa.String(64))
    extension: Mapped[str] = mapped_column(sa.String(16), default="")
    url: Mapped[str] = mapped_column(sa.Text, default="")  # the provider URL when the source gave one (M3U)


class VodRunRow(Base):
    """One export: when, how it went, its counts and where its CSV report is."""

    __tablename__ = "vod_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("vod_sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scope: Mapped[str] = mapped_column(sa.String(16), default="all")
    cleanup: Mapped[str] = mapped_column(sa.String(16), default="off")
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    message: Mapped[str] = mapped_column(sa.Text, default="")
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    report: Mapped[str] = mapped_column(sa.Text, default="")
