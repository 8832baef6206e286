"""Housekeeping: quota, expiry, watched removal and backfill, planned purely and applied (or only shown)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from antenna.db.repos.podcasts import PodcastRepository
from antenna.errors import UserError
from antenna.fs import Trash
from antenna.podcasts import library, plan
from antenna.podcasts.decisions import apply_decision, remove_episode
from antenna.podcasts.models import Episode, Podcast
from antenna.podcasts.records import episode_from

log = logging.getLogger(__name__)

WatchedLookup = Callable[[list[str]], dict[str, datetime]]
"""Given absolute media paths, return {path: when it was watched} for the watched ones (from Plex)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One housekeeping decision, with names for people."""

    podcast: str
    episode_id: int
    title: str
    action: str
    reason: str


@dataclass
class HousekeepReport:
    """What a housekeeping run did (or, in a dry run, would do)."""

    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        """Return how many steps of each action."""
        out: dict[str, int] = {}
        for step in self.steps:
            out[step.action] = out.get(step.action, 0) + 1
        return out


class Housekeeper:
    """Plans and applies housekeeping for every subscription."""

    def __init__(
        self,
        repo: PodcastRepository,
        trash: Trash,
        *,
        clock: Callable[[], datetime],
        watched: WatchedLookup | None = None,
        publish: Callable[[str, dict[str, Any]], object] = lambda topic, data: None,
    ) -> None:
        self.repo = repo
        self.trash = trash
        self.clock = clock
        self.watched = watched
        self.publish = publish

    def watched_times(self, podcast: Podcast, episodes: Sequence[Episode]) -> dict[int, datetime]:
        """Ask Plex which library episodes are watched; {} when Plex is not set up or down."""
        if self.watched is None:
            return {}
        paths: dict[str, int] = {}
        for episode in episodes:
            if episode.state.in_library and episode.relpath:
                paths[str(library.episode_files(podcast, episode.relpath).media)] = episode.id
        if not paths:
            return {}
        try:
            found = self.watched(list(paths))
        except UserError as exc:
            log.warning("Watched state of %s not read: %s", podcast.title, exc.message)
            return {}
        return {paths[p]: when for p, when in found.items() if p in paths}

    def run(
        self, podcasts: Sequence[Podcast], *, dry_run: bool, queue: Callable[[Podcast], object]
    ) -> HousekeepReport:
        """Plan every podcast; unless dry_run, apply the plan and queue backfill through `queue`."""
        report = HousekeepReport(dry_run=dry_run)
        for podcast in podcasts:
            episodes = [episode_from(r) for r in self.repo.episodes(podcast.id)]
            now = self.clock()
            watched = self.watched_times(podcast, episodes)
            result = plan.housekeep(podcast, episodes, watched, now)
            by_id = {e.id: e for e in episodes}
            for decision in result.decisions:
                episode = by_id[decision.episode_id]
                report.steps.append(
                    Step(podcast.title, episode.id, episode.title, decision.action.value, decision.reason)
                )
                if dry_run:
                    continue
                if decision.action == plan.Action.QUEUE:
                    continue  # queued below, where names are fixed
                try:
                    apply_decision(
                        self.repo,
                        self.trash,
                        podcast,
                        episode,
                        decision,
                        now,
                        watched=watched,
                        publish=self.publish,
                    )
                except (OSError, UserError) as exc:
                    message = getattr(exc, "message", None) or str(exc)
                    report.problems.append(f"{podcast.title} / {episode.title}: {message}")
                    continue
                if decision.action == plan.Action.DELETE:
                    report.folders.add(podcast.folder)
            if not dry_run and not podcast.paused:
                queue(podcast)
        return report

    def remove(self, podcast: Podcast, episode: Episode, reason: str, now: datetime) -> None:
        """Trash an episode's files and mark it deleted for good."""
        remove_episode(self.repo, self.trash, podcast, episode, reason, now, publish=self.publish)
