"""The body of the ``maintenance`` job."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from antenna.db.repos.jobs import JobRepository
from antenna.fs import Trash
from antenna.jobs.models import JobContext

JOB_HISTORY_DAYS = 90


class MaintenanceService:
    """Purges trashed files older than the retention and finished jobs older than 90 days."""

    def __init__(
        self, *, trash: Trash, jobs: JobRepository, retention_days: int, clock: Callable[[], datetime]
    ) -> None:
        self._trash = trash
        self._jobs = jobs
        self._retention = timedelta(days=retention_days)
        self._clock = clock

    async def run(self, ctx: JobContext) -> str:
        """Purge the trash and old job rows; return what was removed."""
        now = self._clock()
        ctx.progress(0, 2, "purging trash")
        removed = await asyncio.to_thread(self._trash.purge, older_than=self._retention, now=now)
        ctx.check_cancelled()
        ctx.progress(1, 2, "pruning job history")
        pruned = await asyncio.to_thread(
            self._jobs.prune_finished, before=now - timedelta(days=JOB_HISTORY_DAYS)
        )
        ctx.progress(2, 2, "done")
        return f"{len(removed)} trashed item(s) purged, {pruned} old job(s) pruned"
