"""Schedule parsing, APScheduler triggers, next-run previews, DST handling and quiet windows."""

from __future__ import annotations

import contextlib
import pickle
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
import tzlocal
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.errors import UserError
from antenna.jobs.schedule import (
    QuietWindow,
    ScheduleSpec,
    next_runs,
    parse_quiet_window,
    parse_schedule,
    resolve_timezone,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone: tzinfo = BERLIN) -> datetime:
    """Return an aware datetime for "YYYY-MM-DD HH:MM" in `zone`."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def stamps(moments: list[datetime]) -> list[str]:
    """Render moments with their UTC offset so DST mistakes show in assertion diffs."""
    return [m.isoformat(timespec="minutes") for m in moments]


@pytest.mark.parametrize(
    ("expression", "kind", "canon", "text"),
    [
        ("every 30m", "interval", "every 30m", "every 30 min"),
        ("every 6h", "interval", "every 6h", "every 6 h"),
        ("every 1d", "interval", "every 1d", "every 1 d"),
        ("every 90s", "interval", "every 1m30s", "every 1 min 30 s"),
        ("every 1h30m", "interval", "every 1h30m", "every 1 h 30 min"),
        ("  EVERY 2 Hours ", "interval", "every 2h", "every 2 h"),
        ("every 15 minutes", "interval", "every 15m", "every 15 min"),
        ("every 1 h 30 min", "interval", "every 1h30m", "every 1 h 30 min"),
        ("every 60 seconds", "interval", "every 1m", "every 1 min"),
        ("every 2 weeks", "interval", "every 2w", "every 2 wk"),
        ("every 1w 3d", "interval", "every 1w3d", "every 1 wk 3 d"),
        ("every 31 days", "interval", "every 4w3d", "every 4 wk 3 d"),
        ("every hour", "interval", "every 1h", "every 1 h"),
        ("daily 03:30", "daily", "daily 03:30", "daily at 03:30 (Europe/Berlin)"),
        ("Daily 3:05", "daily", "daily 03:05", "daily at 03:05 (Europe/Berlin)"),
        ("daily at 23:59", "daily", "daily 23:59", "daily at 23:59 (Europe/Berlin)"),
        ("daily 15:00, 03:30,3:30", "daily", "daily 03:30,15:00", "daily at 03:30, 15:00 (Europe/Berlin)"),
        ("*/15 * * * *", "cron", "*/15 * * * *", "cron */15 * * * * (Europe/Berlin)"),
        ("0   4 * *\t1-5", "cron", "0 4 * * 1-5", "cron 0 4 * * 1-5 (Europe/Berlin)"),
        (
            "0 4 * JAN,Jul Mon-Fri",
            "cron",
            "0 4 * jan,jul mon-fri",
            "cron 0 4 * jan,jul mon-fri (Europe/Berlin)",
        ),
        ("0 0 29 2 *", "cron", "0 0 29 2 *", "cron 0 0 29 2 * (Europe/Berlin)"),
        ("5 0-23/2 1,15 * 0,7", "cron", "5 0-23/2 1,15 * 0,7", "cron 5 0-23/2 1,15 * 0,7 (Europe/Berlin)"),
    ],
)
def test_valid_expressions_are_normalised(expression: str, kind: str, canon: str, text: str) -> None:
    spec = parse_schedule(expression, "Europe/Berlin")
    assert (spec.kind, spec.expression, spec.timezone, spec.describe()) == (
        kind,
        canon,
        "Europe/Berlin",
        text,
    )
    assert parse_schedule(spec.expression, spec.timezone) == spec


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("evry 5m", "it is not an interval, a daily time or a crontab"),
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("hourly", "it is not an interval"),
        ("every", "an interval is numbers with units"),
        ("every 5", "an interval is numbers with units"),
        ("every 5 parsecs", "an interval is numbers with units"),
        ("every -5m", "an interval is numbers with units"),
        ("every 1.5h", "an interval is numbers with units"),
        ("every 30s", "the shortest interval is 1 minute"),
        ("every 0m", "the shortest interval is 1 minute"),
        ("every 59 seconds", "the shortest interval is 1 minute"),
        ("every 32d", "the longest interval is 31 days"),
        ("every 99999999999999999999999999h", "the longest interval is 31 days"),
        ("daily", "it has no time"),
        ("daily 25:00", "hour must be 00-23"),
        ("daily 03:60", "minute 00-59"),
        ("daily 3pm", '"3pm" is not a time'),
        ("daily 03:30,", '"" is not a time'),
        ("daily 0330", '"0330" is not a time'),
        ("* * * *", "a crontab has 5 fields (minute hour day month weekday), not 4"),
        ("0 * * * * *", "a crontab has 5 fields (minute hour day month weekday), not 6"),
        ("60 * * * *", 'minute "60"'),
        ("* 24 * * *", 'hour "24"'),
        ("* * 32 * *", 'day of month "32"'),
        ("* * * 13 *", 'month "13"'),
        ("* * * foo *", 'month "foo"'),
        ("*/0 * * * *", "increment must be higher than 0"),
        ("0 0 * * 8", 'weekday "8" is not valid'),
        ("0 0 * * funday", 'weekday "funday" is not valid'),
        ("0 0 * * 1#2", 'weekday "1#2" is not valid'),
        ("0 0 * * fri-mon", 'weekday "fri-mon" is not an upward range'),
        ("0 0 * * */0", 'weekday "*/0" is not an upward range'),
        ("0 0 30 2 *", 'day of month "30" never occurs in month "2"'),
        ("0 0 31 apr,jun,sep,nov *", 'day of month "31" never occurs'),
    ],
)
def test_invalid_expressions_are_refused_clearly(expression: str, reason: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_schedule(expression, "UTC")
    assert caught.value.message.startswith(f'Schedule "{expression.strip()}" is not valid: ')
    assert reason in caught.value.message
    assert caught.value.hint


def test_generic_refusal_shows_the_three_forms() -> None:
    with pytest.raises(UserError) as caught:
        parse_schedule("evry 5m", "UTC")
    assert str(caught.value) == (
        'Schedule "evry 5m" is not valid: it is not an interval, a daily time or a crontab. '
        'Use "every 6h", "daily 03:30" or a 5-field crontab such as "*/15 * * * *".'
    )


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(UserError) as caught:
        parse_schedule("x" * 10_000, "UTC")
    assert len(caught.value.message) < 200


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "../etc/passwd", "/etc/passwd", "Europe/Berlin/"])
def test_unknown_timezone_is_refused(zone: str) -> None:
    with pytest.raises(UserError, match="Unknown timezone"):
        parse_schedule("every 1h", zone)


def test_timezone_is_trimmed_and_kept() -> None:
    assert parse_schedule("daily 03:30", " America/New_York ").timezone == "America/New_York"


@pytest.mark.parametrize(
    ("local_name", "expected"),
    [("Europe/Berlin", "Europe/Berlin"), (None, "UTC"), ("Not/AZone", "UTC")],
)
def test_empty_timezone_means_this_machine(
    monkeypatch: pytest.MonkeyPatch, local_name: str | None, expected: str
) -> None:
    # The machine's zone cannot be changed from a test, so tzlocal's answer is substituted.
    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: local_name)
    assert resolve_timezone("") == expected
    assert parse_schedule("every 1h", "  ").timezone == expected


def test_empty_timezone_resolves_on_this_machine() -> None:
    assert ZoneInfo(resolve_timezone(""))


@pytest.mark.parametrize("weekday", ["0", "7", "sun", "SUN", "0,7", "7-7"])
def test_cron_weekday_zero_and_seven_are_sunday(weekday: str) -> None:
    spec = parse_schedule(f"0 6 * * {weekday}", "UTC")
    runs = next_runs(spec, at("2024-05-01 00:00", UTC), 3)
    assert [run.strftime("%a %d %H:%M") for run in runs] == ["Sun 05 06:00", "Sun 12 06:00", "Sun 19 06:00"]


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("1-5/2", ["Mon", "Wed", "Fri"]),
        ("sat,1", ["Mon", "Sat"]),
        ("*", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
    ],
)
def test_cron_weekdays_follow_crontab_numbering(weekday: str, days: list[str]) -> None:
    spec = parse_schedule(f"0 6 * * {weekday}", "UTC")
    runs = next_runs(spec, at("2024-05-04 12:00", UTC), 14)  # a Saturday: two full weeks follow
    assert {run.strftime("%a") for run in runs} == set(days)


def test_cron_day_of_month_or_weekday_fires_on_either() -> None:
    # cron(5): "0 0 13 * fri" runs on every 13th and on every Friday, not only on Friday the 13th.
    runs = next_runs(parse_schedule("0 0 13 * fri", "UTC"), at("2024-09-01 00:00", UTC), 7)
    assert [run.strftime("%a %d.%m") for run in runs] == [
        "Fri 06.09",
        "Fri 13.09",
        "Fri 20.09",
        "Fri 27.09",
        "Fri 04.10",
        "Fri 11.10",
        "Sun 13.10",
    ]


def test_cron_with_only_day_of_month_restricted_ands_as_usual() -> None:
    runs = next_runs(parse_schedule("0 0 1 * *", "UTC"), at("2024-01-15 00:00", UTC), 2)
    assert stamps(runs) == ["2024-02-01T00:00+00:00", "2024-03-01T00:00+00:00"]


def test_cron_leap_day_is_found_years_ahead() -> None:
    runs = next_runs(parse_schedule("0 0 29 feb *", "UTC"), at("2024-03-01 00:00", UTC), 2)
    assert stamps(runs) == ["2028-02-29T00:00+00:00", "2032-02-29T00:00+00:00"]


def test_next_runs_interval_is_anchored_at_after() -> None:
    spec = parse_schedule("every 1h30m", "Europe/Berlin")
    runs = next_runs(spec, at("2024-05-01 10:07"), 3)
    assert stamps(runs) == ["2024-05-01T11:37+02:00", "2024-05-01T13:07+02:00", "2024-05-01T14:37+02:00"]


def test_next_runs_are_strictly_after_and_in_the_schedule_zone() -> None:
    spec = parse_schedule("daily 03:30", "Europe/Berlin")
    runs = next_runs(spec, at("2024-05-01 01:30", UTC), 2)  # 03:30 Berlin exactly: not included
    assert stamps(runs) == ["2024-05-02T03:30+02:00", "2024-05-03T03:30+02:00"]
    assert next_runs(spec, at("2024-05-01 01:30", UTC), 0) == []


def test_next_runs_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_runs(parse_schedule("every 1h", "UTC"), datetime(2024, 1, 1), 1)


def test_daily_several_times_a_day() -> None:
    spec = parse_schedule("daily 15:00,03:30,04:00", "Europe/Berlin")
    assert spec.times == (time(3, 30), time(4, 0), time(15, 0))
    runs = next_runs(spec, at("2024-05-01 12:00"), 5)
    assert stamps(runs) == [
        "2024-05-01T15:00+02:00",
        "2024-05-02T03:30+02:00",
        "2024-05-02T04:00+02:00",
        "2024-05-02T15:00+02:00",
        "2024-05-03T03:30+02:00",
    ]


def test_timezone_decides_the_wall_clock() -> None:
    after = at("2024-01-10 00:00", UTC)
    tokyo = next_runs(parse_schedule("daily 09:00", "Asia/Tokyo"), after, 1)[0]
    new_york = next_runs(parse_schedule("0 9 * * *", "America/New_York"), after, 1)[0]
    assert (tokyo.astimezone(UTC).hour, new_york.astimezone(UTC).hour) == (0, 14)


def test_daily_keeps_wall_clock_across_spring_forward_in_berlin() -> None:
    runs = next_runs(parse_schedule("daily 04:00", "Europe/Berlin"), at("2024-03-30 12:00"), 2)
    assert stamps(runs) == ["2024-03-31T04:00+02:00", "2024-04-01T04:00+02:00"]
    assert [run.astimezone(UTC).hour for run in runs] == [2, 2]


def test_daily_time_skipped_by_spring_forward_fires_one_gap_later() -> None:
    runs = next_runs(parse_schedule("daily 02:30", "Europe/Berlin"), at("2024-03-30 12:00"), 2)
    assert stamps(runs) == ["2024-03-31T03:30+02:00", "2024-04-01T02:30+02:00"]


def test_fixed_time_fires_once_when_clocks_fall_back_in_berlin() -> None:
    for expression in ("daily 02:30", "30 2 * * *"):
        runs = next_runs(parse_schedule(expression, "Europe/Berlin"), at("2024-10-26 12:00"), 3)
        assert stamps(runs) == ["2024-10-27T02:30+02:00", "2024-10-28T02:30+01:00", "2024-10-29T02:30+01:00"]


def test_wildcard_hour_cron_runs_through_the_repeated_hour() -> None:
    runs = next_runs(parse_schedule("0 * * * *", "Europe/Berlin"), at("2024-10-27 01:30"), 4)
    assert stamps(runs) == [
        "2024-10-27T02:00+02:00",
        "2024-10-27T02:00+01:00",
        "2024-10-27T03:00+01:00",
        "2024-10-27T04:00+01:00",
    ]


def test_interval_counts_real_time_across_dst() -> None:
    runs = next_runs(parse_schedule("every 1d", "Europe/Berlin"), at("2024-03-30 12:00"), 2)
    assert stamps(runs) == ["2024-03-31T13:00+02:00", "2024-04-01T13:00+02:00"]


def test_trigger_kinds() -> None:
    assert isinstance(parse_schedule("every 6h", "UTC").trigger(), IntervalTrigger)
    assert isinstance(parse_schedule("*/15 * * * *", "UTC").trigger(), CronTrigger)
    assert isinstance(parse_schedule("*/30 * 13 * fri", "UTC").trigger(), OrTrigger)
    fixed = parse_schedule("daily 03:30,15:00", "UTC").trigger()
    assert isinstance(fixed.inner, OrTrigger)
    assert "hour='15'" in str(fixed)


def test_trigger_behaves_under_scheduler_calls_through_fall_back() -> None:
    # APScheduler passes the previous fire time and a "now" just after it; the 02:30 repeat must not fire.
    trigger = parse_schedule("daily 02:30", "Europe/Berlin").trigger()
    fired: list[datetime] = []
    previous = None
    now = at("2024-10-26 12:00")
    for _ in range(2):
        previous = trigger.get_next_fire_time(previous, now)
        fired.append(previous)
        now = (previous.astimezone(UTC) + timedelta(seconds=5)).astimezone(BERLIN)
    assert stamps(fired) == ["2024-10-27T02:30+02:00", "2024-10-28T02:30+01:00"]


def test_triggers_survive_pickling_for_a_job_store() -> None:
    after = at("2024-05-01 12:00")
    for expression in ("every 2h", "daily 03:30,15:00", "0 0 13 * fri", "*/15 * * * 0"):
        spec = parse_schedule(expression, "Europe/Berlin")
        copy = pickle.loads(pickle.dumps(spec.trigger(start=after)))
        assert copy.get_next_fire_time(None, after + timedelta(seconds=1)) == spec.trigger(
            start=after
        ).get_next_fire_time(None, after + timedelta(seconds=1))


def test_spec_is_frozen() -> None:
    spec = parse_schedule("every 1h", "UTC")
    with pytest.raises(AttributeError):
        spec.expression = "every 2h"  # type: ignore[misc]
    assert isinstance(spec, ScheduleSpec)


@pytest.mark.parametrize(
    ("text", "start", "end", "normalised"),
    [
        ("01:00-05:00", time(1), time(5), "01:00-05:00"),
        ("1:00 - 5:30", time(1), time(5, 30), "01:00-05:30"),
        ("22:00–06:00", time(22), time(6), "22:00-06:00"),
    ],
)
def test_quiet_window_parses(text: str, start: time, end: time, normalised: str) -> None:
    window = parse_quiet_window(text)
    assert window == QuietWindow(start, end)
    assert window.text == normalised


@pytest.mark.parametrize("text", [None, "", "  ", "none", "Off", "-"])
def test_no_quiet_window(text: str | None) -> None:
    assert parse_quiet_window(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("01:00-01:00", "starts and ends at the same time"),
        ("01:00", "not two times joined by a dash"),
        ("night", "not two times joined by a dash"),
        ("25:00-05:00", "hour must be 00-23"),
        ("01:00-05:61", "minute 00-59"),
        ("1-5", '"1" is not a time'),
    ],
)
def test_bad_quiet_window_is_refused(text: str, reason: str) -> None:
    with pytest.raises(UserError, match=reason) as caught:
        parse_quiet_window(text)
    assert caught.value.message.startswith(f'Quiet window "{text}" is not valid: ')
    assert "HH:MM-HH:MM" in caught.value.hint


@pytest.mark.parametrize(
    ("window", "inside", "outside"),
    [
        ("01:00-05:00", ["01:00", "03:00", "04:59"], ["00:59", "05:00", "12:00", "23:30"]),
        ("22:00-06:00", ["22:00", "23:59", "00:00", "05:59"], ["06:00", "12:00", "21:59"]),
    ],
)
def test_quiet_window_contains(window: str, inside: list[str], outside: list[str]) -> None:
    quiet = parse_quiet_window(window)
    assert quiet is not None
    assert all(quiet.contains(at(f"2024-05-01 {hhmm}")) for hhmm in inside)
    assert not any(quiet.contains(at(f"2024-05-01 {hhmm}")) for hhmm in outside)


@pytest.mark.parametrize(
    ("window", "after", "expected"),
    [
        ("01:00-05:00", "2024-05-01 00:30", "2024-05-01T01:00+02:00"),
        ("01:00-05:00", "2024-05-01 01:00", "2024-05-01T01:00+02:00"),
        ("01:00-05:00", "2024-05-01 03:00", "2024-05-02T01:00+02:00"),
        ("01:00-05:00", "2024-05-01 12:00", "2024-05-02T01:00+02:00"),
        ("22:00-06:00", "2024-05-01 12:00", "2024-05-01T22:00+02:00"),
        ("22:00-06:00", "2024-05-01 23:00", "2024-05-02T22:00+02:00"),
        ("22:00-06:00", "2024-05-02 02:00", "2024-05-02T22:00+02:00"),
        ("01:00-05:00", "2024-03-30 12:00", "2024-03-31T01:00+01:00"),
        ("02:30-05:00", "2024-03-30 12:00", "2024-03-31T03:30+02:00"),  # 02:30 does not exist that night
        ("02:30-05:00", "2024-10-27 02:40", "2024-10-27T02:30+01:00"),  # reopens in the repeated hour
    ],
)
def test_quiet_window_next_start(window: str, after: str, expected: str) -> None:
    quiet = parse_quiet_window(window)
    assert quiet is not None
    opening = quiet.next_start(at(after))
    assert opening.isoformat(timespec="minutes") == expected
    assert opening.tzinfo is BERLIN


def test_quiet_window_next_start_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        QuietWindow(time(1), time(5)).next_start(datetime(2024, 1, 1))


def test_quiet_window_defers_heavy_runs_fired_outside_it() -> None:
    quiet = QuietWindow(time(1), time(5))
    spec = parse_schedule("every 6h", "Europe/Berlin")
    runs = next_runs(spec, at("2024-05-01 00:00"), 4)
    assert stamps([quiet.defer(run) for run in runs]) == [
        "2024-05-02T01:00+02:00",
        "2024-05-02T01:00+02:00",
        "2024-05-02T01:00+02:00",
        "2024-05-02T01:00+02:00",
    ]
    assert quiet.defer(at("2024-05-01 02:00")) == at("2024-05-01 02:00")


_CRON_ALPHABET = st.sampled_from([*"0123456789*/,-", "mon", "sun", "jan", "l", "last", "#", "?", "w", " "])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_random_text_is_refused_only_with_user_error(text: str) -> None:
    for parse in (lambda: parse_schedule(text, "UTC"), lambda: parse_quiet_window(text)):
        with contextlib.suppress(UserError):
            parse()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CRON_ALPHABET, min_size=1, max_size=5).map("".join), min_size=1, max_size=6))
def test_cron_like_text_is_accepted_or_refused_with_user_error(fields: list[str]) -> None:
    expression = " ".join(fields)
    try:
        spec = parse_schedule(expression, "Europe/Berlin")
    except UserError:
        return
    next_runs(spec, at("2024-01-01 00:00"), 2)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40))
def test_random_timezone_is_refused_only_with_user_error(zone: str) -> None:
    with contextlib.suppress(UserError):
        parse_schedule("every 1h", zone)
