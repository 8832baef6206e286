"""Podcast domain types: subscriptions, their options, episodes and their states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

CHECK_JOB = "podcast_check"  # checks feeds and queues new episodes
DOWNLOAD_JOB = "podcast_download"  # downloads queued episodes into the library (resumable)
HOUSEKEEP_JOB = "podcast_housekeep"  # quotas, expiry, watched removal, backfill


class EpisodeState(StrEnum):
    """Where an episode is in its life (persisted; see DESIGN.md)."""

    AVAILABLE = "available"  # in the feed, not wanted (yet): outside the quota
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    TAGGING = "tagging"
    MOVING = "moving"
    UNWATCHED = "unwatched"  # in the library, not watched yet
    WATCHED = "watched"
    MARKED_FOR_DELETE = "marked_for_delete"
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def in_library(self) -> bool:
        """Return True when the episode's file is in the library."""
        return self in (EpisodeState.UNWATCHED, EpisodeState.WATCHED, EpisodeState.MARKED_FOR_DELETE)

    @property
    def in_flight(self) -> bool:
        """Return True while the download pipeline owns the episode."""
        return self in (
            EpisodeState.QUEUED,
            EpisodeState.DOWNLOADING,
            EpisodeState.DOWNLOADED,
            EpisodeState.TAGGING,
            EpisodeState.MOVING,
        )


class KeepOrder(StrEnum):
    """Which end of the feed a quota keeps."""

    NEWEST = "newest"
    OLDEST = "oldest"


class QuotaMode(StrEnum):
    """What happens when a new episode would exceed the quota."""

    ROTATE = "rotate"  # download the new one and remove the oldest unplayed (always keep the N newest)
    WAIT = "wait"  # download nothing new until something is removed


class FeedStatus(StrEnum):
    """Health of a subscription's feed."""

    OK = "ok"
    FAILING = "failing"  # last check failed; retried on schedule
    GONE = "gone"  # 410: the feed is gone for good


@dataclass(frozen=True, slots=True)
class PodcastOptions:
    """Per-subscription options (global defaults come from settings)."""

    keep: int | None = None  # None = keep all
    order: KeepOrder = KeepOrder.NEWEST
    quota_mode: QuotaMode = QuotaMode.ROTATE
    count_marked_as_gone: bool = False  # episodes marked for delete no longer count against the quota
    delete_watched: bool = False
    watched_grace_days: int = 0
    backfill: bool = True  # download older episodes when some are removed
    expire_days: int | None = None  # None = never
    expire_buffer_days: int = 1  # marked for delete this long before the file goes to the trash
    audio_to_video: bool = False
    kodi_safe: bool = False  # strip 4-byte characters from NFO text


@dataclass(frozen=True, slots=True)
class Podcast:
    """A subscription."""

    id: int
    url: str
    title: str
    folder: str  # absolute path of the show folder
    options: PodcastOptions
    author: str = ""
    description: str = ""
    image_url: str = ""
    identity: str = ""  # feed identity (podcast:guid, else link) used to refuse duplicates
    paused: bool = False
    status: FeedStatus = FeedStatus.OK
    status_message: str = ""
    etag: str = ""
    last_modified: str = ""
    checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """One feed item as Antenna tracks it."""

    id: int
    podcast_id: int
    key: str  # stable identity in the feed: GUID, else enclosure URL
    title: str
    published: datetime  # UTC
    enclosure_url: str
    state: EpisodeState
    description: str = ""
    mime_type: str = ""
    size: int | None = None
    duration: int | None = None  # seconds
    image_url: str = ""
    season: int | None = None  # fixed when first queued (year)
    number: int | None = None  # fixed when first queued (MMDDNN)
    relpath: str = ""  # media file path relative to the show folder, fixed when first queued
    reason: str = ""  # why failed / skipped / marked for delete
    downloaded_at: datetime | None = None  # when it entered the library
    watched_at: datetime | None = None
    marked_at: datetime | None = None
    user_deleted: bool = False  # removed by the user or housekeeping: never downloaded again by backfill
    attempts: int = 0  # failed download attempts so far (retry backoff, give up after a few)
    failed_at: datetime | None = None  # when the last attempt failed
