"""Use cases for schedules: list with next runs, set with validation, delete, run now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from antenna.db.records import Schedule
from antenna.db.repos.schedules import ScheduleRepository
from antenna.errors import NotFound, UserError
from antenna.jobs.runner import JobRunner
from antenna.jobs.schedule import next_runs, parse_quiet_window, parse_schedule, resolve_timezone


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule with what a person wants to see about it."""

    schedule: Schedule
    description: str
    next_runs: tuple[datetime, ...]
    valid: bool
    problem: str = ""


def schedule_payload(view: ScheduleView) -> dict[str, Any]:
    """Return the public JSON shape of a schedule (API, CLI --json)."""
    s = view.schedule
    return {
        "name": s.name,
        "job_kind": s.job_kind,
        "expression": s.expression,
        "description": view.description,
        "timezone": s.timezone,
        "quiet_window": s.quiet_window,
        "enabled": s.enabled,
        "valid": view.valid,
        "problem": view.problem,
        "next_runs": [t.isoformat() for t in view.next_runs],
        "last_run_at": s.last_run_at.isoformat() if s.last_run_at else None,
        "last_job_id": s.last_job_id,
    }


class ScheduleService:
    """Validates and stores schedules; the shells (CLI, API, UI) call this."""

    def __init__(
        self,
        repo: ScheduleRepository,
        runner: JobRunner,
        *,
        default_timezone: str = "",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._repo = repo
        self._runner = runner
        self._default_tz = default_timezone or resolve_timezone("")
        self._clock = clock or (lambda: datetime.now(UTC))

    def list(self) -> list[ScheduleView]:
        """Return every schedule with its description and next three runs."""
        return [self._view(s) for s in self._repo.all()]

    def get(self, name: str) -> ScheduleView:
        """Return one schedule or raise NotFound."""
        schedule = self._repo.get(name)
        if schedule is None:
            raise NotFound(f"No schedule named {name!r}.", "See `antenna schedule list`.")
        return self._view(schedule)

    def set(
        self,
        name: str,
        expression: str,
        *,
        job_kind: str | None = None,
        timezone: str | None = None,
        quiet_window: str | None = None,
        enabled: bool | None = None,
        params: dict[str, Any] | None = None,
    ) -> ScheduleView:
        """Create or change a schedule after validating every part; raise UserError naming the bad one."""
        current = self._repo.get(name)
        kind = job_kind or (current.job_kind if current else name)
        self._runner.kind(kind)
        tz = timezone if timezone is not None else (current.timezone if current else "")
        spec = parse_schedule(expression, tz or self._default_tz)
        quiet = quiet_window if quiet_window is not None else (current.quiet_window if current else "")
        window = parse_quiet_window(quiet) if quiet else None
        stored = self._repo.upsert(
            name,
            job_kind=kind,
            expression=spec.expression,
            timezone=tz,
            quiet_window=window.text if window else "",
            enabled=enabled if enabled is not None else (current.enabled if current else True),
            params=params if params is not None else (current.params if current else {}),
            now=self._clock(),
        )
        return self._view(stored)

    def delete(self, name: str) -> None:
        """Delete a schedule or raise NotFound."""
        if not self._repo.delete(name):
            raise NotFound(f"No schedule named {name!r}.", "See `antenna schedule list`.")

    def _view(self, schedule: Schedule) -> ScheduleView:
        tz = schedule.timezone or self._default_tz
        try:
            spec = parse_schedule(schedule.expression, tz)
        except UserError as exc:
            return ScheduleView(schedule, schedule.expression, (), False, str(exc))
        now = self._clock().astimezone(ZoneInfo(spec.timezone))
        runs = tuple(next_runs(spec, now, 3)) if schedule.enabled else ()
        return ScheduleView(schedule, spec.describe(), runs, True)
