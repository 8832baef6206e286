"""Carrying out one plan decision on one episode (shared by feed checks and housekeeping)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from antenna.db.repos.podcasts import PodcastRepository
from antenna.fs import Trash
from antenna.podcasts import library, plan
from antenna.podcasts.models import Episode, EpisodeState, Podcast

Publish = Callable[[str, dict[str, Any]], object]


def apply_decision(
    repo: PodcastRepository,
    trash: Trash,
    podcast: Podcast,
    episode: Episode,
    decision: plan.Decision,
    now: datetime,
    *,
    watched: Mapping[int, datetime] | None = None,
    publish: Publish = lambda topic, data: None,
) -> None:
    """Carry out every action but QUEUE (which fixes names and belongs to the checker)."""
    action = decision.action
    if action == plan.Action.MARK_WATCHED:
        seen = (watched or {}).get(episode.id, now)
        repo.update_episode(episode.id, {"state": EpisodeState.WATCHED.value, "watched_at": seen}, now)
    elif action == plan.Action.UNMARK:
        state = EpisodeState.WATCHED if episode.watched_at is not None else EpisodeState.UNWATCHED
        repo.update_episode(episode.id, {"state": state.value, "marked_at": None, "reason": ""}, now)
    elif action == plan.Action.MARK_FOR_DELETE:
        repo.update_episode(
            episode.id,
            {"state": EpisodeState.MARKED_FOR_DELETE.value, "marked_at": now, "reason": decision.reason},
            now,
        )
    elif action == plan.Action.DELETE:
        remove_episode(repo, trash, podcast, episode, decision.reason, now, publish=publish)
    elif action == plan.Action.UNQUEUE:
        repo.update_episode(
            episode.id, {"state": EpisodeState.AVAILABLE.value, "reason": decision.reason}, now
        )


def remove_episode(
    repo: PodcastRepository,
    trash: Trash,
    podcast: Podcast,
    episode: Episode,
    reason: str,
    now: datetime,
    *,
    publish: Publish = lambda topic, data: None,
) -> None:
    """Trash an episode's media, NFO and thumb; mark it deleted for good (backfill never brings it back)."""
    library.trash_episode(podcast, episode, trash, now)
    repo.update_episode(
        episode.id, {"state": EpisodeState.DELETED.value, "reason": reason, "user_deleted": True}, now
    )
    publish(
        "podcasts.episode.removed",
        {
            "podcast_id": podcast.id,
            "podcast": podcast.title,
            "episode_id": episode.id,
            "title": episode.title,
            "reason": reason,
        },
    )
