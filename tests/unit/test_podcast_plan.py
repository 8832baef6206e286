"""Pure podcast decisions: quota (rotate/wait, newest/oldest), backfill, expiry, watched removal, retries."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.podcasts import plan
from antenna.podcasts.models import Episode, EpisodeState, KeepOrder, Podcast, PodcastOptions, QuotaMode
from antenna.podcasts.plan import Action, Decision, Plan

S = EpisodeState
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NO_WATCHED: Mapping[int, datetime] = {}
LIBRARY = (S.UNWATCHED, S.WATCHED, S.MARKED_FOR_DELETE)
PINNED = (S.DOWNLOADING, S.DOWNLOADED, S.TAGGING, S.MOVING)


def podcast(*, paused: bool = False, **options: object) -> Podcast:
    return Podcast(
        id=1,
        url="http://feed/rss",
        title="Show",
        folder="/lib/Show",
        options=PodcastOptions(**options),  # type: ignore[arg-type]
        paused=paused,
    )


def ep(id: int, days_old: float, state: S = S.AVAILABLE, **kw: object) -> Episode:
    """An episode published `days_old` days before NOW (lower id = arbitrary, dates decide the order)."""
    return Episode(
        id=id,
        podcast_id=1,
        key=f"guid-{id}",
        title=f"Episode {id}",
        published=NOW - timedelta(days=days_old),
        enclosure_url=f"http://feed/{id}.mp3",
        state=state,
        **kw,  # type: ignore[arg-type]
    )


def actions(result: Plan) -> list[tuple[Action, int]]:
    return [(d.action, d.episode_id) for d in result.decisions]


def reasons(result: Plan) -> dict[tuple[Action, int], str]:
    return {(d.action, d.episode_id): d.reason for d in result.decisions}


def apply(
    episodes: Sequence[Episode], result: Plan, watched: Mapping[int, datetime], now: datetime
) -> list[Episode]:
    """Tiny pure simulator of the service applying a plan, as the Action docs describe."""
    by_id = {e.id: e for e in episodes}
    for d in result.decisions:
        e = by_id[d.episode_id]
        if d.action is Action.MARK_WATCHED:
            e = replace(e, state=S.WATCHED, watched_at=watched[e.id])
        elif d.action is Action.UNMARK:
            e = replace(e, state=S.WATCHED if e.watched_at else S.UNWATCHED, marked_at=None, reason="")
        elif d.action is Action.MARK_FOR_DELETE:
            e = replace(e, state=S.MARKED_FOR_DELETE, marked_at=now, reason=d.reason)
        elif d.action is Action.DELETE:
            e = replace(e, state=S.DELETED, user_deleted=True, reason=d.reason)
        elif d.action is Action.UNQUEUE:
            e = replace(e, state=S.AVAILABLE)
        elif d.action is Action.QUEUE:
            e = replace(e, state=S.QUEUED)
        by_id[e.id] = e
    return [by_id[e.id] for e in episodes]


# --- quota: rotate ---------------------------------------------------------------------------------------


def test_keep_three_newest_from_scratch_queues_newest_first() -> None:
    episodes = [ep(i, days_old=i) for i in range(1, 6)]
    result = plan.select_wanted(podcast(keep=3), episodes, NOW)
    assert result.queue == (1, 2, 3)
    assert reasons(result)[(Action.QUEUE, 1)] == "new episode, within the quota of 3 (keeps newest)"


def test_rotate_new_episode_is_queued_and_oldest_marked() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(3, 3, S.UNWATCHED), ep(9, 0)]
    result = plan.select_wanted(podcast(keep=3), episodes, NOW)
    assert actions(result) == [(Action.MARK_FOR_DELETE, 3), (Action.QUEUE, 9)]
    assert reasons(result)[(Action.MARK_FOR_DELETE, 3)] == "over the quota of 3 (keeps newest)"


def test_rotate_pushes_out_played_before_unplayed() -> None:
    episodes = [ep(1, 1, S.WATCHED, watched_at=NOW), ep(2, 2, S.UNWATCHED), ep(3, 3, S.UNWATCHED), ep(9, 0)]
    result = plan.select_wanted(podcast(keep=3), episodes, NOW)
    assert actions(result) == [(Action.MARK_FOR_DELETE, 1), (Action.QUEUE, 9)]


def test_rotate_with_zero_buffer_deletes_overflow_at_once() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(9, 0)]
    result = plan.housekeep(podcast(keep=2, expire_buffer_days=0), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.DELETE, 2), (Action.QUEUE, 9)]


def test_rotate_never_touches_the_pipeline_and_unqueues_what_does_not_fit() -> None:
    episodes = [
        ep(1, 1, S.DOWNLOADING),
        ep(2, 2, S.MOVING),
        ep(3, 3, S.UNWATCHED),
        ep(4, 4, S.QUEUED),
        ep(9, 0),
    ]
    result = plan.housekeep(podcast(keep=2), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.MARK_FOR_DELETE, 3), (Action.UNQUEUE, 4)]


def test_quota_marks_are_undone_when_the_quota_grows() -> None:
    marked = ep(3, 3, S.MARKED_FOR_DELETE, marked_at=NOW, reason="over the quota of 2 (keeps newest)")
    user_marked = ep(4, 4, S.MARKED_FOR_DELETE, marked_at=NOW, reason="marked by the user")
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), marked, user_marked]
    result = plan.housekeep(podcast(keep=4), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.UNMARK, 3)]
    assert reasons(result)[(Action.UNMARK, 3)] == "back within the quota of 4"
    unlimited = plan.housekeep(podcast(), episodes, NO_WATCHED, NOW)
    assert actions(unlimited) == [(Action.UNMARK, 3)]


def test_quota_mark_goes_to_the_trash_after_the_buffer() -> None:
    marked = ep(3, 3, S.MARKED_FOR_DELETE, marked_at=NOW - timedelta(days=1), reason="over the quota of 2")
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), marked]
    result = plan.housekeep(podcast(keep=2), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.DELETE, 3)]
    assert reasons(result)[(Action.DELETE, 3)] == "over the quota of 2; marked 1 day ago"
    # a feed check leaves deletions to housekeeping
    assert plan.select_wanted(podcast(keep=2), episodes, NOW).decisions == ()


# --- quota: wait -------------------------------------------------------------------------------------------


def test_wait_queues_nothing_until_one_is_removed() -> None:
    full = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(3, 3, S.QUEUED), ep(9, 0)]
    wait = podcast(keep=3, quota_mode=QuotaMode.WAIT)
    assert plan.select_wanted(wait, full, NOW).decisions == ()
    removed = [*full[:2], ep(3, 3, S.DELETED, user_deleted=True), full[3]]
    assert actions(plan.select_wanted(wait, removed, NOW)) == [(Action.QUEUE, 9)]


@pytest.mark.parametrize(("gone", "queued"), [(False, ()), (True, (9,))])
def test_wait_count_marked_as_gone(gone: bool, queued: tuple[int, ...]) -> None:
    episodes = [
        ep(1, 1, S.UNWATCHED),
        ep(2, 2, S.MARKED_FOR_DELETE, marked_at=NOW, reason="watched in Plex today"),
        ep(9, 0),
    ]
    options = podcast(keep=2, quota_mode=QuotaMode.WAIT, count_marked_as_gone=gone)
    assert plan.housekeep(options, episodes, NO_WATCHED, NOW).queue == queued


def test_wait_counts_a_watched_removal_in_the_same_run() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(9, 0)]
    options = podcast(keep=2, quota_mode=QuotaMode.WAIT, delete_watched=True, expire_buffer_days=0)
    result = plan.housekeep(options, episodes, {2: NOW}, NOW)
    assert actions(result) == [(Action.MARK_WATCHED, 2), (Action.DELETE, 2), (Action.QUEUE, 9)]


def test_wait_unqueues_what_a_lowered_quota_no_longer_has_room_for() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.DOWNLOADING), ep(3, 3, S.QUEUED), ep(4, 4, S.QUEUED)]
    result = plan.housekeep(podcast(keep=2, quota_mode=QuotaMode.WAIT), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.UNQUEUE, 3), (Action.UNQUEUE, 4)]  # the library and the download stay
    result = plan.housekeep(podcast(keep=3, quota_mode=QuotaMode.WAIT), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.UNQUEUE, 4)]  # newest kept: the oldest queued one goes
    assert all(d.reason.startswith(plan.QUOTA_REASON) for d in result.decisions)


def test_wait_never_removes_for_the_quota() -> None:
    episodes = [ep(i, i, S.UNWATCHED) for i in range(1, 5)]
    result = plan.housekeep(podcast(keep=2, quota_mode=QuotaMode.WAIT), episodes, NO_WATCHED, NOW)
    assert result.decisions == ()


# --- order=oldest, backfill, user_deleted ------------------------------------------------------------------


def test_oldest_order_consumes_from_the_start_and_new_episodes_wait() -> None:
    episodes = [ep(1, 30, S.UNWATCHED), ep(2, 20, S.UNWATCHED), ep(3, 10), ep(9, 0)]
    options = podcast(keep=2, order=KeepOrder.OLDEST, delete_watched=True, expire_buffer_days=0)
    assert plan.housekeep(options, episodes, NO_WATCHED, NOW).decisions == ()
    result = plan.housekeep(options, episodes, {1: NOW - timedelta(days=1)}, NOW)
    assert actions(result) == [(Action.MARK_WATCHED, 1), (Action.DELETE, 1), (Action.QUEUE, 3)]


def test_oldest_order_from_scratch_queues_oldest_in_order() -> None:
    episodes = [ep(i, days_old=i) for i in range(1, 6)]
    result = plan.select_wanted(podcast(keep=2, order=KeepOrder.OLDEST), episodes, NOW)
    assert result.queue == (5, 4)


@pytest.mark.parametrize(("backfill", "queued"), [(True, (4,)), (False, ())])
def test_backfill_after_watched_removal(backfill: bool, queued: tuple[int, ...]) -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(3, 3, S.UNWATCHED), ep(4, 4), ep(5, 5)]
    options = podcast(keep=3, backfill=backfill, delete_watched=True, expire_buffer_days=0)
    result = plan.housekeep(options, episodes, {1: NOW - timedelta(days=3)}, NOW)
    assert result.ids(Action.DELETE) == (1,)
    assert result.queue == queued
    if backfill:
        assert reasons(result)[(Action.QUEUE, 4)] == "backfill: fills the quota of 3 (keeps newest)"
        assert reasons(result)[(Action.DELETE, 1)] == "watched in Plex 3 days ago"


def test_backfill_off_still_takes_new_episodes() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.DELETED, user_deleted=True), ep(3, 3), ep(9, 0)]
    assert plan.select_wanted(podcast(keep=2, backfill=False), episodes, NOW).queue == (9,)


def test_user_deleted_is_never_backfilled() -> None:
    episodes = [
        ep(1, 1, S.UNWATCHED),
        ep(2, 2, S.AVAILABLE, user_deleted=True),
        ep(3, 3, S.DELETED, user_deleted=True),
        ep(4, 4),
    ]
    assert plan.select_wanted(podcast(keep=3), episodes, NOW).queue == (4,)
    assert plan.select_wanted(podcast(), episodes, NOW).queue == (4,)


# --- expiry -------------------------------------------------------------------------------------------------


def test_expiry_marks_on_day_zero_and_deletes_after_the_buffer() -> None:
    options = podcast(expire_days=30, expire_buffer_days=2)
    fresh = [ep(1, 29, S.UNWATCHED)]
    assert plan.housekeep(options, fresh, NO_WATCHED, NOW).decisions == ()
    day0 = NOW + timedelta(days=1)
    marked = plan.housekeep(options, fresh, NO_WATCHED, day0)
    assert actions(marked) == [(Action.MARK_FOR_DELETE, 1)]
    assert reasons(marked)[(Action.MARK_FOR_DELETE, 1)] == "older than 30 days"
    after = apply(fresh, marked, NO_WATCHED, day0)
    assert plan.housekeep(options, after, NO_WATCHED, day0 + timedelta(days=1)).decisions == ()
    gone = plan.housekeep(options, after, NO_WATCHED, day0 + timedelta(days=2))
    assert actions(gone) == [(Action.DELETE, 1)]
    assert reasons(gone)[(Action.DELETE, 1)] == "older than 30 days; marked 2 days ago"


def test_expired_episodes_are_never_queued_and_unqueued_if_waiting() -> None:
    episodes = [ep(1, 1), ep(2, 40), ep(3, 50, S.QUEUED), ep(4, 45, S.DOWNLOADING)]
    result = plan.housekeep(podcast(keep=5, expire_days=30), episodes, NO_WATCHED, NOW)
    assert actions(result) == [(Action.UNQUEUE, 3), (Action.QUEUE, 1)]


# --- watched ------------------------------------------------------------------------------------------------


def test_watched_in_plex_is_recorded_without_delete_watched() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED)]
    result = plan.housekeep(podcast(), episodes, {1: NOW - timedelta(days=3)}, NOW)
    assert actions(result) == [(Action.MARK_WATCHED, 1)]
    assert reasons(result)[(Action.MARK_WATCHED, 1)] == "watched in Plex 3 days ago"


def test_delete_watched_with_grace_then_buffer() -> None:
    options = podcast(delete_watched=True, watched_grace_days=2, expire_buffer_days=1)
    seen = NOW - timedelta(days=1)
    episodes = [ep(1, 5, S.UNWATCHED)]
    first = plan.housekeep(options, episodes, {1: seen}, NOW)
    assert actions(first) == [(Action.MARK_WATCHED, 1)]
    episodes = apply(episodes, first, {1: seen}, NOW)
    later = NOW + timedelta(days=1)
    marked = plan.housekeep(options, episodes, {1: seen}, later)
    assert actions(marked) == [(Action.MARK_FOR_DELETE, 1)]
    assert reasons(marked)[(Action.MARK_FOR_DELETE, 1)] == "watched in Plex 2 days ago (grace 2 days)"
    episodes = apply(episodes, marked, {1: seen}, later)
    deleted = plan.housekeep(options, episodes, {1: seen}, later + timedelta(days=1))
    assert actions(deleted) == [(Action.DELETE, 1)]


# --- keep=None, empty, failures, pause --------------------------------------------------------------------


def test_keep_none_queues_everything_eligible() -> None:
    episodes = [ep(1, 1), ep(2, 2), ep(3, 3, S.SKIPPED), ep(4, 4, S.UNWATCHED), ep(5, 5, S.DELETED)]
    result = plan.select_wanted(podcast(backfill=False), episodes, NOW)
    assert result.queue == (1, 2)
    assert reasons(result)[(Action.QUEUE, 1)] == "new episode (no quota)"


def test_empty_feed_gives_an_empty_plan() -> None:
    assert plan.select_wanted(podcast(keep=3), [], NOW) == Plan()
    assert plan.housekeep(podcast(keep=3, expire_days=1), [], NO_WATCHED, NOW) == Plan()
    assert plan.summarise(Plan()) == {a.value: 0 for a in Action}


def test_all_failed_retry_after_backoff_within_quota() -> None:
    hour = timedelta(hours=1)
    episodes = [
        ep(1, 1, S.FAILED, attempts=1, failed_at=NOW - 2 * hour),  # due (1 h)
        ep(2, 2, S.FAILED, attempts=3, failed_at=NOW - 2 * hour),  # not due (4 h): holds its slot
        ep(3, 3, S.FAILED, attempts=plan.MAX_ATTEMPTS, failed_at=NOW - 100 * hour),  # gave up
        ep(4, 4, S.FAILED, attempts=1, failed_at=NOW - 2 * hour),  # due but outside the quota
    ]
    result = plan.select_wanted(podcast(keep=2, backfill=False), episodes, NOW)
    assert actions(result) == [(Action.QUEUE, 1)]
    assert plan.select_wanted(podcast(keep=3, backfill=False), episodes, NOW).queue == (1, 4)
    assert reasons(result)[(Action.QUEUE, 1)] == "retry 2 of 5 after a failure"


def test_retry_backoff_doubles_and_is_capped() -> None:
    assert [plan.backoff(n) for n in (0, 1, 2, 3)] == [timedelta(hours=h) for h in (1, 1, 2, 4)]
    assert plan.backoff(40) == plan.RETRY_CAP
    failed = ep(1, 1, S.FAILED, attempts=2, failed_at=NOW)
    assert not plan.retry_due(failed, NOW + timedelta(minutes=119))
    assert plan.retry_due(failed, NOW + timedelta(hours=2))
    assert plan.retry_due(replace(failed, failed_at=None), NOW)
    assert not plan.retry_due(replace(failed, attempts=plan.MAX_ATTEMPTS), NOW + timedelta(days=9))
    assert not plan.retry_due(replace(failed, state=S.AVAILABLE), NOW)


def test_paused_podcast_queues_nothing_and_rotates_nothing() -> None:
    episodes = [ep(1, 1, S.UNWATCHED), ep(2, 2, S.UNWATCHED), ep(9, 0)]
    assert plan.select_wanted(podcast(paused=True, keep=2), episodes, NOW).decisions == ()


def test_episodes_of_another_podcast_are_refused() -> None:
    with pytest.raises(ValueError, match="podcasts"):
        plan.select_wanted(podcast(), [replace(ep(1, 1), podcast_id=2)], NOW)


def test_select_wanted_leaves_watched_and_expiry_to_housekeeping() -> None:
    episodes = [ep(1, 40, S.UNWATCHED), ep(2, 2, S.WATCHED, watched_at=NOW), ep(3, 3)]
    options = podcast(keep=2, expire_days=30, delete_watched=True)
    # 1 and 2 leave (expired, watched), so 3 fits; only the quota's decision is returned
    assert actions(plan.select_wanted(options, episodes, NOW)) == [(Action.QUEUE, 3)]


def test_summaries_and_counts() -> None:
    queue, delete = Action.QUEUE, Action.DELETE
    result = Plan((Decision(1, queue, "x"), Decision(2, queue, "x"), Decision(3, delete, "y")))
    summary = plan.summarise(result)
    assert (summary["queue"], summary["delete"], summary["unmark"]) == (2, 1, 0)
    counts = plan.counts_by_state([ep(1, 1), ep(2, 2, S.FAILED), ep(3, 3)])
    assert (counts["available"], counts["failed"], counts["deleted"]) == (2, 1, 0)
    assert set(counts) == {s.value for s in EpisodeState}


def test_deletes_at_and_ago() -> None:
    marked = ep(1, 1, S.MARKED_FOR_DELETE, marked_at=NOW)
    assert plan.deletes_at(marked, PodcastOptions(expire_buffer_days=3)) == NOW + timedelta(days=3)
    assert plan.deletes_at(ep(1, 1), PodcastOptions()) is None
    assert [plan.ago(NOW - timedelta(days=d), NOW) for d in (0, 1, 5)] == ["today", "1 day ago", "5 days ago"]


# --- properties ---------------------------------------------------------------------------------------------

REASONS = ["", "over the quota of 2 (keeps newest)", "older than 30 days", "marked by the user"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Podcast, list[Episode], dict[int, datetime]]:
    options = PodcastOptions(
        keep=draw(st.none() | st.integers(0, 6)),
        order=draw(st.sampled_from(KeepOrder)),
        quota_mode=draw(st.sampled_from(QuotaMode)),
        count_marked_as_gone=draw(st.booleans()),
        delete_watched=draw(st.booleans()),
        watched_grace_days=draw(st.integers(0, 3)),
        backfill=draw(st.booleans()),
        expire_days=draw(st.none() | st.integers(1, 40)),
        expire_buffer_days=draw(st.integers(0, 3)),
    )
    some_time = st.none() | st.integers(0, 10 * 24).map(lambda h: NOW - timedelta(hours=h))
    episodes = []
    for i in range(1, draw(st.integers(0, 14)) + 1):
        state = draw(st.sampled_from(EpisodeState))
        episodes.append(
            ep(
                i,
                draw(st.integers(0, 60 * 4)) / 4,  # quarter days: ties in published happen
                state,
                user_deleted=draw(st.booleans()) if state is not S.DELETED else True,
                # WATCHED always carries its time (the service sets both); UNMARK relies on it.
                watched_at=(
                    NOW - timedelta(hours=draw(st.integers(0, 10 * 24)))
                    if state is S.WATCHED
                    else draw(some_time)
                    if state in LIBRARY
                    else None
                ),
                marked_at=draw(some_time) if state is S.MARKED_FOR_DELETE else None,
                reason=draw(st.sampled_from(REASONS)) if state is S.MARKED_FOR_DELETE else "",
                attempts=draw(st.integers(0, 6)) if state is S.FAILED else 0,
                failed_at=draw(some_time) if state is S.FAILED else None,
            )
        )
    unwatched = [e.id for e in episodes if e.state is S.UNWATCHED]
    seen = draw(st.lists(st.sampled_from(unwatched), unique=True)) if unwatched else []
    watched = {i: NOW - timedelta(hours=draw(st.integers(0, 10 * 24))) for i in seen}
    return podcast(paused=draw(st.booleans()) and draw(st.booleans()), **vars_of(options)), episodes, watched


def vars_of(options: PodcastOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in PodcastOptions.__slots__}


ALLOWED = {
    Action.MARK_WATCHED: {S.UNWATCHED},
    Action.UNMARK: {S.MARKED_FOR_DELETE},
    Action.MARK_FOR_DELETE: {S.UNWATCHED, S.WATCHED},
    Action.DELETE: set(LIBRARY),
    Action.UNQUEUE: {S.QUEUED},
    Action.QUEUE: {S.AVAILABLE, S.FAILED},
}


def counted(episodes: Sequence[Episode]) -> int:
    return sum(1 for e in episodes if e.state.in_flight or e.state in (S.UNWATCHED, S.WATCHED))


@settings(max_examples=300)
@given(scenarios())
def test_property_decisions_respect_states_and_never_touch_the_pipeline(
    scenario: tuple[Podcast, list[Episode], dict[int, datetime]],
) -> None:
    pod, episodes, watched = scenario
    by_id = {e.id: e for e in episodes}
    for result in (plan.housekeep(pod, episodes, watched, NOW), plan.select_wanted(pod, episodes, NOW)):
        assert len(set(actions(result))) == len(result.decisions)
        for d in result.decisions:
            episode = by_id[d.episode_id]
            assert episode.state in ALLOWED[d.action], (d, episode.state)
            assert episode.state not in PINNED
            assert d.reason
            if d.action is Action.QUEUE:
                assert not episode.user_deleted
                assert not plan.expired(episode, pod.options, NOW)
                assert not pod.paused
                assert episode.state is S.AVAILABLE or plan.retry_due(episode, NOW)


@settings(max_examples=300)
@given(scenarios())
def test_property_quota_holds_after_applying(
    scenario: tuple[Podcast, list[Episode], dict[int, datetime]],
) -> None:
    pod, episodes, watched = scenario
    keep = pod.options.keep
    result = plan.housekeep(pod, episodes, watched, NOW)
    after = apply(episodes, result, watched, NOW)
    if keep is None:
        return
    if pod.options.quota_mode is QuotaMode.ROTATE:
        pinned = sum(1 for e in episodes if e.state in PINNED)
        assert counted(after) <= max(keep, pinned)
    else:
        gone = pod.options.count_marked_as_gone
        held = counted(after) + (0 if gone else sum(1 for e in after if e.state is S.MARKED_FOR_DELETE))
        # WAIT removes nothing from the library, so only what it queued (or left queued) must fit.
        assert held <= keep or not any(e.state is S.QUEUED for e in after)


@settings(max_examples=300)
@given(scenarios(), st.randoms(use_true_random=False))
def test_property_deterministic_whatever_the_input_order(
    scenario: tuple[Podcast, list[Episode], dict[int, datetime]], rng: random.Random
) -> None:
    pod, episodes, watched = scenario
    shuffled = list(episodes)
    rng.shuffle(shuffled)
    first = plan.housekeep(pod, episodes, watched, NOW)
    assert first == plan.housekeep(pod, episodes, watched, NOW)
    assert first == plan.housekeep(pod, shuffled, watched, NOW)
    assert plan.select_wanted(pod, episodes, NOW) == plan.select_wanted(pod, shuffled, NOW)


@settings(max_examples=300)
@given(scenarios())
def test_property_idempotent_at_the_same_now(
    scenario: tuple[Podcast, list[Episode], dict[int, datetime]],
) -> None:
    pod, episodes, watched = scenario
    after = apply(episodes, plan.housekeep(pod, episodes, watched, NOW), watched, NOW)
    assert plan.housekeep(pod, after, watched, NOW).decisions == ()
    wanted = apply(episodes, plan.select_wanted(pod, episodes, NOW), NO_WATCHED, NOW)
    assert plan.select_wanted(pod, wanted, NOW).decisions == ()
