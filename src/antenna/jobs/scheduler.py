"""APScheduler adapter: fires stored schedules into the job runner; the only importer of apscheduler.

Schedules live in the database; this process re-reads them when they change (also when another process,
such as `antenna schedule set`, changed them). A schedule never overlaps itself: a fire is skipped while
the job it started last is still queued or running. A fire outside the schedule's quiet window is
deferred to the window's next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from antenna.db.repos.jobs import JobRepository
from antenna.db.repos.schedules import ScheduleRepository
from antenna.errors import UserError
from antenna.jobs.runner import JobRunner
from antenna.jobs.schedule import parse_quiet_window, parse_schedule, resolve_timezone

log = logging.getLogger(__name__)

RELOAD_SECONDS = 15
_PREFIX = "schedule:"
_DEFERRED = "deferred:"


class Scheduler:
    """Keeps APScheduler in step with the schedules table and submits jobs when they fire."""

    def __init__(
        self,
        schedules: ScheduleRepository,
        jobs: JobRepository,
        runner: JobRunner,
        *,
        default_timezone: str = "",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._schedules = schedules
        self._jobs = jobs
        self._runner = runner
        self._default_tz = default_timezone or resolve_timezone("")
        self._clock = clock or (lambda: datetime.now(UTC))
        self._aps: AsyncIOScheduler | None = None
        self._fingerprint = ""

    async def start(self) -> None:
        """Start firing schedules."""
        self._aps = AsyncIOScheduler(timezone=ZoneInfo(self._default_tz))
        self._aps.start()
        await asyncio.to_thread(self.sync)
        self._aps.add_job(self._reload_if_changed, "interval", seconds=RELOAD_SECONDS, id="reload")

    async def stop(self) -> None:
        """Stop firing schedules."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    def sync(self) -> None:
        """Replace every schedule trigger with what the database says now."""
        if self._aps is None:
            return
        self._fingerprint = self._schedules.fingerprint()
        for job in self._aps.get_jobs():
            if job.id.startswith(_PREFIX):
                job.remove()
        for schedule in self._schedules.all():
            if not schedule.enabled:
                continue
            try:
                spec = parse_schedule(schedule.expression, schedule.timezone or self._default_tz)
            except UserError as exc:
                log.error("schedule %s is not valid and will not run: %s", schedule.name, exc)
                continue
            self._aps.add_job(
                self._fire,
                spec.trigger(),
                args=[schedule.name],
                id=_PREFIX + schedule.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=300,
            )

    def next_run(self, name: str) -> datetime | None:
        """Return when a schedule fires next in this process (None when not loaded)."""
        if self._aps is None:
            return None
        job = self._aps.get_job(_PREFIX + name)
        deferred = self._aps.get_job(_DEFERRED + name)
        chosen = deferred or job
        when = getattr(chosen, "next_run_time", None)
        return when if isinstance(when, datetime) else None

    async def _reload_if_changed(self) -> None:
        fingerprint = await asyncio.to_thread(self._schedules.fingerprint)
        if fingerprint != self._fingerprint:
            log.info("schedules changed; reloading")
            await asyncio.to_thread(self.sync)

    async def _fire(self, name: str, deferred: bool = False) -> None:
        await asyncio.to_thread(self.fire, name, deferred)

    def fire(self, name: str, deferred: bool = False) -> int | None:
        """Submit the schedule's job now unless it is running or outside its quiet window; return job id."""
        schedule = self._schedules.get(name)
        if schedule is None or not schedule.enabled:
            return None
        if self._jobs.active(schedule=name):
            log.info("schedule %s fired while its last job still runs; skipped", name)
            return None
        window = parse_quiet_window(schedule.quiet_window) if schedule.quiet_window else None
        if window is not None and not deferred:
            moment = self._clock().astimezone(ZoneInfo(schedule.timezone or self._default_tz))
            if not window.contains(moment):
                start = window.next_start(moment)
                log.info("schedule %s deferred to its quiet window at %s", name, start.isoformat())
                if self._aps is not None:
                    self._aps.add_job(
                        self._fire,
                        DateTrigger(run_date=start),
                        args=[name, True],
                        id=_DEFERRED + name,
                        replace_existing=True,
                    )
                return None
        try:
            job = self._runner.submit(schedule.job_kind, schedule.params, schedule=name)
        except UserError as exc:
            log.error("schedule %s could not start its job: %s", name, exc)
            return None
        self._schedules.mark_run(name, now=self._clock(), job_id=job.id)
        return job.id
