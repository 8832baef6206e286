"""Feed checks: conditional GET, parse, merge episodes by key, follow moves, queue what the quota wants."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from antenna.clients.feed_http import FeedGone, FeedHttp
from antenna.db.repos.podcasts import PodcastRepository
from antenna.errors import UserError
from antenna.formats.feed import Feed, FeedEpisode, parse_feed
from antenna.formats.feed_url import normalise_url
from antenna.fs import Trash
from antenna.podcasts import library, naming, plan
from antenna.podcasts.decisions import apply_decision
from antenna.podcasts.models import Episode, EpisodeState, FeedStatus, Podcast
from antenna.podcasts.records import episode_from

log = logging.getLogger(__name__)

Parser = Callable[[bytes, str, datetime], Feed]
AUDIO_EXTENSIONS = frozenset({"mp3", "m4a", "aac", "ogg", "oga", "opus", "flac", "wav"})


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one feed check did."""

    podcast_id: int
    title: str
    status: str  # unchanged | updated | failed | gone | skipped
    added: int = 0
    updated: int = 0
    queued: int = 0
    adopted: int = 0
    message: str = ""


def feed_items(feed: Feed) -> list[dict[str, Any]]:
    """Return the feed's episodes as repository rows."""
    return [_item(e) for e in feed.episodes]


def _item(e: FeedEpisode) -> dict[str, Any]:
    return {
        "key": e.key[:1000],
        "guid": e.guid,
        "title": e.title or "Untitled episode",
        "description": e.description,
        "published": e.published,
        "enclosure_url": e.enclosure_url,
        "mime_type": e.mime_type[:100],
        "size": e.size,
        "duration": e.duration,
        "image_url": e.image_url,
    }


def media_extension(podcast: Podcast, episode: Episode) -> str:
    """Return the extension the episode's file gets (mp4 when audio is turned into video for Plex)."""
    ext = naming.media_extension(episode.enclosure_url, episode.mime_type)
    if podcast.options.audio_to_video and (ext in AUDIO_EXTENSIONS or episode.mime_type.startswith("audio/")):
        return "mp4"
    return ext


class FeedChecker:
    """Checks feeds and queues wanted episodes with their fixed names."""

    def __init__(
        self,
        repo: PodcastRepository,
        http: FeedHttp,
        *,
        trash: Trash,
        load: Callable[[int], Podcast],
        clock: Callable[[], datetime],
    ) -> None:
        self.repo = repo
        self.trash = trash
        self.http = http
        self.load = load
        self.clock = clock

    def check(
        self, podcast: Podcast, *, force: bool = False, parse: Parser = parse_feed, batch: bool = False
    ) -> CheckResult:
        """Check one feed; a failure is recorded on the subscription and returned, never raised.

        With batch, an unchanged feed is not written here: the caller marks all of them checked at once.
        """
        now = self.clock()
        try:
            response = self.http.get_feed(
                podcast.url,
                etag="" if force else podcast.etag,
                last_modified="" if force else podcast.last_modified,
            )
            if response.unchanged:
                # Nothing new: what the quota wants changes only with time, which housekeeping handles.
                if not batch:
                    self.repo.mark_checked([podcast.id], now)
                return CheckResult(podcast.id, podcast.title, "unchanged")
            feed = parse(response.body, response.url, now)
        except FeedGone as exc:
            self.repo.update_podcast(
                podcast.id,
                {"checked_at": now, "status": FeedStatus.GONE.value, "status_message": exc.message},
            )
            return CheckResult(podcast.id, podcast.title, "gone", message=exc.message)
        except UserError as exc:
            self.repo.update_podcast(
                podcast.id,
                {"checked_at": now, "status": FeedStatus.FAILING.value, "status_message": exc.message},
            )
            return CheckResult(podcast.id, podcast.title, "failed", message=exc.message)
        changes: dict[str, Any] = {
            "checked_at": now,
            "status": FeedStatus.OK.value,
            "status_message": "; ".join(feed.warnings[:3]),
            "etag": response.etag[:300],
            "last_modified": response.last_modified[:100],
        }
        moved = response.permanent_redirect or feed.new_url
        if moved and normalise_url(moved) != normalise_url(podcast.url):
            other = self.repo.find_duplicate(normalise_url(moved), "")
            if other is None or other["id"] == podcast.id:
                changes.update(url=moved, url_key=normalise_url(moved)[:1000])
                log.info("Podcast %s moved to %s", podcast.title, moved)
        if feed.image_url:
            changes["image_url"] = feed.image_url
        self.repo.update_podcast(podcast.id, changes)
        added, updated = self.repo.merge_feed(podcast.id, feed_items(feed), now)
        queued, adopted = self.queue_wanted(self.load(podcast.id))
        return CheckResult(podcast.id, podcast.title, "updated", added, updated, queued, adopted)

    def queue_wanted(self, podcast: Podcast) -> tuple[int, int]:
        """Queue what the quota wants (fixing names), adopt files on disk; return (queued, adopted)."""
        if podcast.paused:
            return 0, 0
        now = self.clock()
        episodes = [episode_from(r) for r in self.repo.episodes(podcast.id)]
        wanted = plan.select_wanted(podcast, episodes, now)
        by_id = {e.id: e for e in episodes}
        to_queue = sorted((by_id[i] for i in wanted.queue if i in by_id), key=lambda e: (e.published, e.id))
        queued = adopted = 0
        for episode in to_queue:
            if self.queue_one(podcast, episode, episodes):
                queued += 1
            else:
                adopted += 1
        for decision in wanted.decisions:
            if decision.action != plan.Action.QUEUE and decision.episode_id in by_id:
                apply_decision(self.repo, self.trash, podcast, by_id[decision.episode_id], decision, now)
        return queued, adopted

    def queue_one(self, podcast: Podcast, episode: Episode, known: Sequence[Episode] | None = None) -> int:
        """Fix the episode's number and name (first time only) and queue it; 0 when a file was adopted."""
        now = self.clock()
        season, number, relpath = episode.season, episode.number, episode.relpath
        if not relpath or season is None or number is None:
            others = known if known is not None else [episode_from(r) for r in self.repo.episodes(podcast.id)]
            taken = [(e.season, e.number) for e in others if e.season is not None and e.number is not None]
            index = naming.next_same_day_index(episode.published.date(), taken)
            season, number = naming.episode_numbers(episode.published, index)
            ext = media_extension(podcast, episode)
            relpath = str(naming.episode_relpath(podcast.title, season, number, episode.title, ext))
        values: dict[str, Any] = {"season": season, "number": number, "relpath": relpath, "reason": ""}
        if library.existing_media(podcast, relpath) is not None:
            values.update(state=EpisodeState.UNWATCHED.value, downloaded_at=now, reason="adopted from disk")
        else:
            values["state"] = EpisodeState.QUEUED.value
        row = self.repo.update_episode(episode.id, values, now)
        if known is not None and isinstance(known, list):
            known[:] = [episode_from(row) if e.id == episode.id else e for e in known]
        return 1 if values["state"] == EpisodeState.QUEUED.value else 0
