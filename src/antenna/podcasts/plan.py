"""Pure podcast decisions: what to queue, mark, unmark and send to the trash, each with a reason.

The model, in one place (dry runs show exactly these decisions):

* Removal is two-step. A rule MARKs an episode for delete; the episode goes to the trash (media + NFO +
  thumb) once ``marked_at + expire_buffer_days <= now``. With a buffer of 0 the plan says DELETE at once.
* Rules that mark: expiry (``published + expire_days <= now``; the published date, not the download date,
  so a backfilled old episode does not live longer than its neighbours), watched
  (``delete_watched`` and ``watched_at + watched_grace_days <= now``), and the quota (ROTATE only).
  Marks by the quota are undone (UNMARK) when the episode fits the quota again; other marks (expiry,
  watched, the user) are never undone by the plan.
* The quota counts episodes in the library or in flight. ROTATE keeps the first ``keep`` episodes in the
  chosen order, unplayed before played ("keep N newest unplayed"): the rest in the library are marked, queued
  ones beyond it are UNQUEUEd. Marked episodes never hold a ROTATE slot (ROTATE marks its own overflow, so
  counting marks would make it mark again); ``count_marked_as_gone`` therefore only changes WAIT.
  WAIT queues only into free slots and never removes anything for the quota; when the quota is lowered below
  what is held, queued downloads not started yet are unqueued, the least wanted first.
* Downloading, downloaded, tagging and moving episodes are the pipeline's: the plan never touches them,
  they simply hold a slot.
* Backfill means queueing an episode published before the newest one already fetched. Without it only
  newer episodes are queued. ``keep=None`` queues every eligible episode. Failed episodes with tries left
  come back after a backoff, in their place in the order, whatever the backfill setting.
* Never queued: user_deleted, deleted, skipped, expired, failed without tries left, or any while paused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from antenna.podcasts.models import Episode, EpisodeState, KeepOrder, Podcast, PodcastOptions, QuotaMode

MAX_ATTEMPTS = 5  # then the episode stays failed until the user retries it
RETRY_BASE = timedelta(hours=1)
RETRY_CAP = timedelta(hours=24)
QUOTA_REASON = "over the quota"  # every quota mark starts with this, so a later plan can tell it may undo it

_S = EpisodeState
_PINNED = frozenset({_S.DOWNLOADING, _S.DOWNLOADED, _S.TAGGING, _S.MOVING})
_SHOWN = frozenset({_S.UNWATCHED, _S.WATCHED})  # in the library and not marked


class Action(StrEnum):
    """What the service does to one episode; the order here is the order the service applies them."""

    MARK_WATCHED = "mark_watched"  # state WATCHED, watched_at = the time Plex reported
    UNMARK = "unmark"  # back to WATCHED or UNWATCHED (by watched_at); marked_at and reason cleared
    MARK_FOR_DELETE = "mark_for_delete"  # state MARKED_FOR_DELETE, marked_at = now, reason = the reason
    DELETE = "delete"  # media + NFO + thumb to the trash; state DELETED, user_deleted = True
    UNQUEUE = "unqueue"  # state AVAILABLE (not started yet, so nothing to clean up)
    QUEUE = "queue"  # state QUEUED; number and file name are fixed now


_RANK = {action: i for i, action in enumerate(Action)}


@dataclass(frozen=True, slots=True)
class Decision:
    """One thing to do to one episode, and why in words a user understands."""

    episode_id: int
    action: Action
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Decisions sorted by action (apply order), then by the subscription's order."""

    decisions: tuple[Decision, ...] = ()

    def ids(self, action: Action) -> tuple[int, ...]:
        """Return the episode ids with the given action, in plan order."""
        return tuple(d.episode_id for d in self.decisions if d.action is action)

    @property
    def queue(self) -> tuple[int, ...]:
        """Return the episode ids to queue, best first."""
        return self.ids(Action.QUEUE)


WantedPlan = Plan  # what a feed check queues (and rotates out)
HousekeepPlan = Plan  # what housekeeping does


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the given number of failed attempts (doubling, capped)."""
    return min(RETRY_BASE * (1 << min(max(attempts - 1, 0), 16)), RETRY_CAP)


def retries_left(episode: Episode) -> bool:
    """Return True for a failed episode that has not used up its attempts."""
    return episode.state is _S.FAILED and episode.attempts < MAX_ATTEMPTS


def retry_due(episode: Episode, now: datetime) -> bool:
    """Return True when a failed episode may be downloaded again."""
    if not retries_left(episode):
        return False
    return episode.failed_at is None or episode.failed_at + backoff(episode.attempts) <= now


def expired(episode: Episode, options: PodcastOptions, now: datetime) -> bool:
    """Return True when the episode was published expire_days or more before now."""
    days = options.expire_days
    return days is not None and episode.published + timedelta(days=days) <= now


def delete_due(episode: Episode, options: PodcastOptions, now: datetime) -> bool:
    """Return True when a marked episode has waited out the buffer (an unknown mark time counts as old)."""
    if episode.state is not _S.MARKED_FOR_DELETE:
        return False
    return episode.marked_at is None or episode.marked_at + timedelta(days=options.expire_buffer_days) <= now


def deletes_at(episode: Episode, options: PodcastOptions) -> datetime | None:
    """Return when a marked episode goes to the trash (None: not marked, or mark time unknown)."""
    if episode.state is not _S.MARKED_FOR_DELETE or episode.marked_at is None:
        return None
    return episode.marked_at + timedelta(days=options.expire_buffer_days)


def quota_marked(episode: Episode) -> bool:
    """Return True when the quota marked this episode (so a later plan may unmark it)."""
    return episode.state is _S.MARKED_FOR_DELETE and episode.reason.startswith(QUOTA_REASON)


def counts_by_state(episodes: Iterable[Episode]) -> dict[str, int]:
    """Return how many episodes are in each state (every state present, zeros included)."""
    counts = Counter(e.state for e in episodes)
    return {state.value: counts[state] for state in EpisodeState}


def summarise(plan: Plan) -> dict[str, int]:
    """Return how many decisions there are of each action (every action present, zeros included)."""
    counts = Counter(d.action for d in plan.decisions)
    return {action.value: counts[action] for action in Action}


def ago(then: datetime | None, now: datetime) -> str:
    """Return 'today', '1 day ago' or 'N days ago'."""
    if then is None:
        return "at an unknown time"
    days = max((now - then).days, 0)
    return "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _played(episode: Episode) -> bool:
    return episode.state is _S.WATCHED or episode.watched_at is not None


def rule_reason(episode: Episode, options: PodcastOptions, now: datetime) -> str:
    """Return why expiry or the watched policy removes this episode, or '' when neither does."""
    if expired(episode, options, now):
        return f"older than {_days(options.expire_days or 0)}"
    if options.delete_watched and _played(episode):
        at = episode.watched_at
        if at is None or at + timedelta(days=options.watched_grace_days) <= now:
            grace = f" (grace {_days(options.watched_grace_days)})" if options.watched_grace_days else ""
            return f"watched in Plex {ago(at, now)}{grace}"
    return ""


def select_wanted(podcast: Podcast, episodes: Sequence[Episode], now: datetime) -> Plan:
    """Return the quota's decisions after a feed check: QUEUE, and for ROTATE the overflow it pushes out."""
    _check(podcast, episodes)
    # Deletions are housekeeping's; until it runs, what a rule would remove counts as marked.
    rules = [
        replace(d, action=Action.MARK_FOR_DELETE) if d.action is Action.DELETE else d
        for d in _rules(podcast.options, episodes, {}, now)
    ]
    return _sorted(_quota(podcast, _project(episodes, rules, {}), now), podcast.options, episodes)


def housekeep(
    podcast: Podcast, episodes: Sequence[Episode], watched: Mapping[int, datetime], now: datetime
) -> Plan:
    """Return everything housekeeping does now: watched, expiry, quota, deletions and backfill."""
    _check(podcast, episodes)
    options = podcast.options
    rules = _rules(options, episodes, watched, now)
    projected = _project(episodes, rules, watched)
    decisions = rules + _quota(podcast, projected, now)
    unmarked = {d.episode_id for d in decisions if d.action is Action.UNMARK}
    for episode in projected:
        # Quota marks wait for the quota's verdict: the episode may fit again and be unmarked instead.
        if quota_marked(episode) and episode.id not in unmarked and delete_due(episode, options, now):
            decisions.append(_delete(episode, now))
    return _sorted(decisions, options, episodes)


def _check(podcast: Podcast, episodes: Sequence[Episode]) -> None:
    strays = sorted({e.podcast_id for e in episodes} - {podcast.id})
    if strays:
        raise ValueError(f"episodes of podcasts {strays} passed for podcast {podcast.id}")


def _delete(episode: Episode, now: datetime) -> Decision:
    return Decision(
        episode.id, Action.DELETE, f"{episode.reason or 'marked'}; marked {ago(episode.marked_at, now)}"
    )


def _remove(episode: Episode, reason: str, options: PodcastOptions) -> Decision:
    action = Action.DELETE if options.expire_buffer_days <= 0 else Action.MARK_FOR_DELETE
    return Decision(episode.id, action, reason)


def _rules(
    options: PodcastOptions, episodes: Sequence[Episode], watched: Mapping[int, datetime], now: datetime
) -> list[Decision]:
    """Return the decisions that do not depend on other episodes: watched, expiry, due deletions."""
    out: list[Decision] = []
    for episode in episodes:
        seen = watched.get(episode.id)
        if episode.state is _S.UNWATCHED and seen is not None:
            out.append(Decision(episode.id, Action.MARK_WATCHED, f"watched in Plex {ago(seen, now)}"))
            episode = replace(episode, state=_S.WATCHED, watched_at=seen)
        if episode.state in _SHOWN:
            reason = rule_reason(episode, options, now)
            if reason:
                out.append(_remove(episode, reason, options))
        elif episode.state is _S.QUEUED and expired(episode, options, now):
            out.append(Decision(episode.id, Action.UNQUEUE, rule_reason(episode, options, now)))
        elif (
            episode.state is _S.MARKED_FOR_DELETE
            and delete_due(episode, options, now)
            # Quota marks are settled after the quota has run (it may undo them), unless a rule removes the
            # episode anyway or the quota is WAIT, which never undoes a mark: deleting first lets the same
            # plan fill the slot it frees.
            and (not quota_marked(episode) or _wait(options) or rule_reason(episode, options, now))
        ):
            out.append(_delete(episode, now))
    return out


def _project(
    episodes: Sequence[Episode], decisions: Sequence[Decision], watched: Mapping[int, datetime]
) -> list[Episode]:
    """Return the episodes as they will be once the decisions are applied (time stamps aside)."""
    by_id = {e.id: e for e in episodes}
    for d in decisions:
        e = by_id[d.episode_id]
        if d.action is Action.MARK_WATCHED:
            e = replace(e, state=_S.WATCHED, watched_at=watched[e.id])
        elif d.action is Action.MARK_FOR_DELETE:
            e = replace(e, state=_S.MARKED_FOR_DELETE, reason=d.reason)
        elif d.action is Action.DELETE:
            e = replace(e, state=_S.DELETED, user_deleted=True)
        elif d.action is Action.UNQUEUE:
            e = replace(e, state=_S.AVAILABLE)
        by_id[e.id] = e
    return [by_id[e.id] for e in episodes]


def _ordered(episodes: Iterable[Episode], order: KeepOrder) -> list[Episode]:
    ascending = sorted(episodes, key=lambda e: (e.published, e.id))
    return ascending[::-1] if order is KeepOrder.NEWEST else ascending


def _quota(podcast: Podcast, episodes: Sequence[Episode], now: datetime) -> list[Decision]:
    """Return QUEUE/UNQUEUE/MARK/UNMARK decisions that bring the projected episodes to the quota."""
    options = podcast.options
    keep = options.keep
    ordered = _ordered(episodes, options.order)
    taken = [e.published for e in episodes if e.user_deleted or e.state not in (_S.AVAILABLE, _S.SKIPPED)]
    frontier = max(taken, default=None)

    def candidate(e: Episode) -> bool:
        if podcast.paused or e.user_deleted or expired(e, options, now):
            return False
        if e.state is _S.FAILED:
            return retries_left(e)
        if e.state is not _S.AVAILABLE:
            return False
        return keep is None or options.backfill or frontier is None or e.published > frontier

    def queue(e: Episode) -> Decision | None:
        if e.state is _S.FAILED:
            if not retry_due(e, now):
                return None  # holds its slot until the backoff is over
            return Decision(e.id, Action.QUEUE, f"retry {e.attempts + 1} of {MAX_ATTEMPTS} after a failure")
        if keep is None:
            return Decision(e.id, Action.QUEUE, "new episode (no quota)")
        if frontier is not None and e.published < frontier:
            return Decision(
                e.id, Action.QUEUE, f"backfill: fills the quota of {keep} (keeps {options.order.value})"
            )
        return Decision(
            e.id, Action.QUEUE, f"new episode, within the quota of {keep} (keeps {options.order.value})"
        )

    out: list[Decision] = []
    if keep is None:
        out += [
            Decision(e.id, Action.UNMARK, "no quota any more")
            for e in episodes
            if _unmarkable(e, options, now)
        ]
        return out + [d for e in ordered if candidate(e) and (d := queue(e))]
    if options.quota_mode is QuotaMode.WAIT:
        gone = options.count_marked_as_gone
        held = sum(
            1
            for e in episodes
            if e.state.in_flight or e.state in _SHOWN or (e.state is _S.MARKED_FOR_DELETE and not gone)
        )
        if held > keep:
            # The quota was lowered: downloads not started yet beyond it are dropped, the least wanted first.
            queued = [e for e in ordered if e.state is _S.QUEUED][::-1][: held - keep]
            reason = f"{QUOTA_REASON} of {keep}, lowered (not started yet)"
            return [Decision(e.id, Action.UNQUEUE, reason) for e in queued]
        free = keep - held
        return [d for e in [e for e in ordered if candidate(e)][:free] if (d := queue(e))]
    position = {e.id: i for i, e in enumerate(ordered)}
    pool = [
        e
        for e in ordered
        if e.state in _SHOWN or e.state is _S.QUEUED or _unmarkable(e, options, now) or candidate(e)
    ]
    pool.sort(key=lambda e: (_played(e), position[e.id]))  # unplayed first: "keep the N newest unplayed"
    slots = max(keep - sum(1 for e in episodes if e.state in _PINNED), 0)
    over = f"{QUOTA_REASON} of {keep} (keeps {options.order.value})"
    for e in pool[:slots]:
        if e.state is _S.MARKED_FOR_DELETE:
            out.append(Decision(e.id, Action.UNMARK, f"back within the quota of {keep}"))
        elif candidate(e) and (d := queue(e)):
            out.append(d)
    for e in pool[slots:]:
        if e.state in _SHOWN:
            out.append(_remove(e, over, options))
        elif e.state is _S.QUEUED:
            out.append(Decision(e.id, Action.UNQUEUE, over))
    return out


def _wait(options: PodcastOptions) -> bool:
    return options.keep is not None and options.quota_mode is QuotaMode.WAIT


def _unmarkable(episode: Episode, options: PodcastOptions, now: datetime) -> bool:
    """Return True for a quota mark that no other rule backs (so the quota may undo it)."""
    return quota_marked(episode) and not rule_reason(episode, options, now)


def _sorted(decisions: Iterable[Decision], options: PodcastOptions, episodes: Sequence[Episode]) -> Plan:
    position = {e.id: i for i, e in enumerate(_ordered(episodes, options.order))}
    return Plan(tuple(sorted(decisions, key=lambda d: (_RANK[d.action], position[d.episode_id]))))
