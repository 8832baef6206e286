"""Podcast maintenance: files on disk against the database, NFO edits read back, database integrity."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from antenna.db.repos.podcasts import PodcastRepository
from antenna.formats.nfo import NfoError, read_episode_nfo
from antenna.podcasts import library
from antenna.podcasts.models import Episode, EpisodeState, Podcast

log = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    """What a maintenance run found and did."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)  # "Show / Episode" whose media file is gone
    requeued: int = 0
    nfo_updates: list[str] = field(default_factory=list)
    nfo_problems: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when nothing was wrong."""
        return not (self.missing or self.nfo_problems or self.integrity)


def verify(
    repo: PodcastRepository,
    podcasts: Sequence[Podcast],
    episodes_of: Callable[[int], list[Episode]],
    now: datetime,
    *,
    redownload: bool = False,
) -> MaintenanceReport:
    """Check each library episode's file; a missing one is marked deleted (or queued again: redownload)."""
    report = MaintenanceReport()
    for podcast in podcasts:
        for episode in episodes_of(podcast.id):
            if not episode.state.in_library:
                continue
            report.checked += 1
            if library.existing_media(podcast, episode.relpath) is not None:
                continue
            report.missing.append(f"{podcast.title} / {episode.title}")
            values: dict[str, Any]
            if redownload:
                values = {"state": EpisodeState.QUEUED.value, "reason": "file was missing; downloading again"}
                report.requeued += 1
            else:
                values = {
                    "state": EpisodeState.DELETED.value,
                    "reason": "file missing on disk",
                    "user_deleted": True,
                }
            repo.update_episode(episode.id, values, now)
    return report


def read_nfo_edits(
    repo: PodcastRepository,
    podcasts: Sequence[Podcast],
    episodes_of: Callable[[int], list[Episode]],
    now: datetime,
    report: MaintenanceReport,
) -> None:
    """Copy title, plot and aired date edited by hand in episode NFO files back into the database."""
    for podcast in podcasts:
        for episode in episodes_of(podcast.id):
            if not episode.state.in_library or not episode.relpath:
                continue
            path = library.episode_files(podcast, episode.relpath).nfo
            try:
                edits = read_episode_nfo(path.read_bytes())
            except FileNotFoundError:
                continue
            except (OSError, NfoError) as exc:
                report.nfo_problems.append(f"{path.name}: {getattr(exc, 'message', exc)}")
                continue
            values: dict[str, Any] = {}
            if edits.title and edits.title != episode.title:
                values["title"] = edits.title
            if edits.plot != episode.description and edits.plot:
                values["description"] = edits.plot
            if edits.aired is not None and edits.aired != episode.published.date():
                values["published"] = episode.published.replace(
                    year=edits.aired.year, month=edits.aired.month, day=edits.aired.day
                )
            if values:
                repo.update_episode(episode.id, {**values, "edited": True}, now)
                report.nfo_updates.append(f"{podcast.title} / {values.get('title', episode.title)}")
