"""Job schedules: parse the three accepted forms, build APScheduler 3 triggers, preview the next runs.

Forms (case-insensitive), each with an IANA timezone. "" means this machine's zone as named by tzlocal (an
APScheduler 3 dependency), else "UTC"; it is looked up at parse time, the only environment read here.
* interval ``every 30m``, ``every 1h30m``, ``every 2 hours``: 1 minute to 31 days of real time, anchored when
  the job is scheduled, so ``every 1d`` shifts by an hour on the wall clock across a DST change;
* daily ``daily 03:30`` or ``daily 03:30,15:00``: wall-clock times in the schedule's zone;
* cron: a 5-field crontab with cron(5) meaning, which APScheduler 3 alone gets wrong: weekday 0 and 7 are
  Sunday, and when day-of-month and day-of-week are both restricted a day matching either one fires.
DST: a fixed wall-clock time (daily, or a crontab whose minute and hour do not start with ``*``) fires once
when clocks fall back; a time skipped when they spring forward fires one gap later (02:30 at 03:30 CEST).
Quiet window: a heavy job may carry a window such as ``01:00-05:00`` ([start, end) on the wall clock of the
schedule's zone; it may wrap past midnight). A run its schedule fires outside the window is deferred to the
window's next start (``QuietWindow.defer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import tzlocal
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from antenna.errors import UserError

FORMS_HINT = 'Use "every 6h", "daily 03:30" or a 5-field crontab such as "*/15 * * * *".'
TIME_HINT = 'Write times as HH:MM on a 24-hour clock, such as "daily 03:30" or "daily 03:30,15:00".'
WINDOW_HINT = 'Write it as HH:MM-HH:MM, such as "01:00-05:00"; it may wrap past midnight ("22:00-06:00").'
ZONE_HINT = 'Use an IANA name such as "Europe/Berlin" or "UTC", or leave it empty for this machine\'s zone.'
MIN_INTERVAL = 60
MAX_INTERVAL = 31 * 86400

_UNIT = "seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PARTS = (("w", "wk", 604800), ("d", "d", 86400), ("h", "h", 3600), ("m", "min", 60), ("s", "s", 1))
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY = "[0-7]|" + "|".join(_CRON_DAYS)
_DAY_NUMBER = {**{str(n): n for n in range(8)}, **{name: n for n, name in enumerate(_CRON_DAYS)}}
_WEEKDAY_ITEM = re.compile(rf"(\*|({_DAY})(?:-({_DAY}))?)(?:/([0-9]{{1,2}}))?")
_CRON_WORD = re.compile(r"[0-9*/,-]+|[a-z]{3}(?:[-,][0-9a-z]{1,3})*")


class _Invalid(Exception):
    """Why an expression was refused, and what to write instead."""

    def __init__(self, reason: str, hint: str = FORMS_HINT) -> None:
        super().__init__(reason)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A parsed, normalised schedule: its kind, canonical text and IANA timezone."""

    kind: Literal["interval", "daily", "cron"]
    expression: str
    timezone: str
    interval_seconds: int = 0
    times: tuple[time, ...] = ()

    def trigger(self, start: datetime | None = None) -> BaseTrigger:
        """Build the APScheduler 3 trigger; `start` anchors an interval (else APScheduler: now + interval)."""
        zone = ZoneInfo(self.timezone)
        if self.kind == "interval":
            return IntervalTrigger(seconds=self.interval_seconds, start_date=start, timezone=zone)
        if self.kind == "daily":
            parts = [CronTrigger(hour=t.hour, minute=t.minute, timezone=zone) for t in self.times]
            fixed = True
        else:
            fields = self.expression.split()
            parts = _cron_triggers(fields, zone)
            fixed = not fields[0].startswith("*") and not fields[1].startswith("*")
        inner = parts[0] if len(parts) == 1 else OrTrigger(parts)
        return _OncePerWallClock(inner) if fixed else inner

    def describe(self) -> str:
        """Say the schedule in words, e.g. "daily at 03:30 (Europe/Berlin)"."""
        if self.kind == "interval":
            return "every " + " ".join(f"{n} {label}" for n, _, label in _split(self.interval_seconds))
        if self.kind == "daily":
            return f"daily at {', '.join(f'{t:%H:%M}' for t in self.times)} ({self.timezone})"
        return f"cron {self.expression} ({self.timezone})"


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """A daily wall-clock window [start, end) in which a heavy job may run; it may wrap past midnight."""

    start: time
    end: time

    @property
    def text(self) -> str:
        """Return the window as "HH:MM-HH:MM"."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: datetime) -> bool:
        """Return True when the wall-clock time of `moment` (in the schedule's zone) is inside the window."""
        wall = moment.time()
        return self.start <= wall < self.end if self.start < self.end else not self.end <= wall < self.start

    def next_start(self, after: datetime) -> datetime:
        """Return the first moment at or after the aware `after` at which the window opens, in its tzinfo."""
        if (zone := after.tzinfo) is None or after.utcoffset() is None:
            raise ValueError(f"after must be timezone-aware, got {after!r}")
        day = after.date()
        while True:
            for opening in _moments(datetime.combine(day, self.start), zone):
                if opening.astimezone(UTC) >= after.astimezone(UTC):
                    return opening
            day += timedelta(days=1)

    def defer(self, moment: datetime) -> datetime:
        """Return when a heavy run due at `moment` may start: at once inside the window, else at its start."""
        return moment if self.contains(moment) else self.next_start(moment)


class _OncePerWallClock(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """Wrap a fixed-time trigger so a wall-clock time that DST repeats fires only once, as cron(5) does."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """Return the inner trigger's next fire time, skipping the second pass through a repeated hour."""
        fire: datetime | None = self.inner.get_next_fire_time(previous_fire_time, now)
        while fire is not None and fire.fold == 1:
            fire = self.inner.get_next_fire_time(None, _just_after(fire))
        return fire

    def __str__(self) -> str:
        return str(self.inner)


def parse_schedule(expression: str, timezone: str) -> ScheduleSpec:
    """Parse a schedule expression in an IANA timezone ("" = this machine's zone), or raise UserError."""
    zone = resolve_timezone(timezone)
    text = " ".join(expression.split()).lower()
    head, _, rest = text.partition(" ")
    words = text.split()
    try:
        if head == "every":
            return _parse_interval(rest, zone)
        if head == "daily":
            return _parse_daily(rest, zone)
        if len(words) == 5:
            _cron_triggers(words, ZoneInfo(zone))
            return ScheduleSpec("cron", text, zone)
        if words and all(_CRON_WORD.fullmatch(word) for word in words):
            raise _Invalid(f"a crontab has 5 fields (minute hour day month weekday), not {len(words)}")
        raise _Invalid("it is not an interval, a daily time or a crontab" if text else "it is empty")
    except _Invalid as bad:
        raise UserError(f'Schedule "{_shown(expression.strip())}" is not valid: {bad}.', bad.hint) from None


def resolve_timezone(name: str) -> str:
    """Return the IANA zone name for `name` ("" = this machine's zone, else "UTC"), or raise UserError."""
    name = name.strip()
    try:
        ZoneInfo(name or (local := tzlocal.get_localzone_name() or "UTC"))
    except (KeyError, ValueError, OSError):
        if not name:
            return "UTC"
        raise UserError(f'Unknown timezone "{_shown(name)}".', ZONE_HINT) from None
    return name or local


def next_runs(spec: ScheduleSpec, after: datetime, count: int = 3) -> list[datetime]:
    """Return the next `count` fire times strictly after the aware `after`, in the spec's zone."""
    if after.utcoffset() is None:
        raise ValueError(f"after must be timezone-aware, got {after!r}")
    zone = ZoneInfo(spec.timezone)
    trigger = spec.trigger(start=after)
    runs: list[datetime] = []
    while len(runs) < count:
        now = _just_after(runs[-1] if runs else after).astimezone(zone)
        if (fire := trigger.get_next_fire_time(None, now)) is None:
            break
        runs.append(fire.astimezone(UTC).astimezone(zone))
    return runs


def parse_quiet_window(text: str | None) -> QuietWindow | None:
    """Parse "HH:MM-HH:MM" into a QuietWindow; empty, "none" or "off" mean no window; else raise UserError."""
    cleaned = " ".join((text or "").split()).lower()
    if cleaned in ("", "none", "off", "-"):
        return None
    try:
        if not (match := re.fullmatch(r"([0-9:]+) ?[-–] ?([0-9:]+)", cleaned)):
            raise _Invalid("it is not two times joined by a dash")
        window = QuietWindow(_parse_hhmm(match[1]), _parse_hhmm(match[2]))
        if window.start == window.end:
            raise _Invalid("it starts and ends at the same time")
    except _Invalid as bad:
        raise UserError(f'Quiet window "{_shown(cleaned)}" is not valid: {bad}.', WINDOW_HINT) from None
    return window


def _parse_interval(rest: str, zone: str) -> ScheduleSpec:
    rest = "1 " + rest if re.fullmatch(_UNIT, rest) else rest
    if not re.fullmatch(rf"(?:[0-9]+ ?(?:{_UNIT}) ?)+", rest):
        raise _Invalid(
            'an interval is numbers with units s, m, h, d or w, like "every 30m" or "every 2 hours"'
        )
    parts = re.findall(rf"([0-9]+) ?({_UNIT})", rest)
    seconds = sum((int(n) if len(n) <= 12 else MAX_INTERVAL) * _UNIT_SECONDS[unit[0]] for n, unit in parts)
    if seconds < MIN_INTERVAL:
        raise _Invalid("the shortest interval is 1 minute", 'Use "every 1m" or longer.')
    if seconds > MAX_INTERVAL:
        raise _Invalid("the longest interval is 31 days", 'For rarer runs use a crontab such as "0 4 1 * *".')
    compact = "".join(f"{n}{unit}" for n, unit, _ in _split(seconds))
    return ScheduleSpec("interval", f"every {compact}", zone, interval_seconds=seconds)


def _parse_daily(rest: str, zone: str) -> ScheduleSpec:
    rest = rest.removeprefix("at ").replace(" ", "")
    if not rest:
        raise _Invalid("it has no time", TIME_HINT)
    times = tuple(sorted({_parse_hhmm(item) for item in rest.split(",")}))
    return ScheduleSpec("daily", "daily " + ",".join(f"{t:%H:%M}" for t in times), zone, times=times)


def _parse_hhmm(text: str) -> time:
    if not (match := re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", text)):
        raise _Invalid(f'"{_shown(text)}" is not a time', TIME_HINT)
    if int(match[1]) > 23 or int(match[2]) > 59:
        raise _Invalid(f'"{text}" is not a time of day: hour must be 00-23 and minute 00-59', TIME_HINT)
    return time(int(match[1]), int(match[2]))


def _cron_triggers(fields: list[str], zone: tzinfo) -> list[Any]:
    """Build CronTriggers for 5 crontab fields with cron(5) weekday numbering and day matching."""
    minute, hour, day, month, weekday = fields
    for name, value in (("minute", minute), ("hour", hour), ("day of month", day), ("month", month)):
        try:
            CronTrigger(**{name.replace(" of month", ""): value}, timezone=zone)
        except ValueError as exc:
            raise _Invalid(f'{name} "{_shown(value)}": {str(exc)[:1].lower()}{str(exc)[1:200]}') from None
    days = _cron_weekdays(weekday)
    names = ",".join(_CRON_DAYS[d] for d in sorted(days)) if len(days) < 7 else "*"
    either = not day.startswith("*") and not weekday.startswith("*")
    variants = [(day, "*"), ("*", names)] if either else [(day, names)]
    common = {"minute": minute, "hour": hour, "month": month, "timezone": zone}
    parts = [CronTrigger(day=d, day_of_week=w, **common) for d, w in variants]
    fields_of = parts[0].fields  # year, month, day, ...: refuse "30 feb" here, APScheduler would scan to 9999
    if not either and not any(
        fields_of[1].get_next_value(first := datetime(2024, m, 1)) == m and fields_of[2].get_next_value(first)
        for m in range(1, 13)
    ):
        raise _Invalid(f'day of month "{_shown(day)}" never occurs in month "{_shown(month)}"')
    return parts


def _cron_weekdays(field: str) -> set[int]:
    """Expand a crontab weekday field (0 and 7 = Sunday, names such as mon-fri) into days 0-6 from Sunday."""
    days: set[int] = set()
    for item in field.split(","):
        match = _WEEKDAY_ITEM.fullmatch(item)
        if not match or (match[4] and match[2] and not match[3]):
            raise _Invalid(f'weekday "{_shown(field)}" is not valid: use 0-7 (0 and 7 are Sunday) or sun-sat')
        low, high = (0, 6) if match[1] == "*" else (_DAY_NUMBER[match[2]], _DAY_NUMBER[match[3] or match[2]])
        if low > high or match[4] == "0":
            raise _Invalid(f'weekday "{item}" is not an upward range with a step of 1 or more, such as 1-5')
        days.update(d % 7 for d in range(low, high + 1, int(match[4] or 1)))
    return days


def _split(s: int) -> list[tuple[int, str, str]]:
    """Split seconds into (count, unit, label) parts from weeks down to seconds."""
    tops = (s + 1, *(size for _, _, size in _PARTS[:-1]))
    return [(n, u, lb) for (u, lb, size), top in zip(_PARTS, tops, strict=True) if (n := s % top // size)]


def _moments(wall: datetime, zone: tzinfo) -> list[datetime]:
    """Return the moments a naive wall-clock time names: one, two when DST repeats it, or one after a gap."""
    found = []
    for fold in (0, 1):
        moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).astimezone(zone)
        if moment.replace(tzinfo=None) == wall:
            found.append(moment)
    return found or [wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)]


def _just_after(moment: datetime) -> datetime:
    return (moment.astimezone(UTC) + timedelta(microseconds=1)).astimezone(moment.tzinfo)


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
