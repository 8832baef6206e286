"""The body of the ``maintenance`` job."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from antenna.db.repos.jobs import JobRepository
from antenna.fs import Trash, remove_file
from antenna.jobs.models import JobContext

JOB_HISTORY_DAYS = 90
# Temp files left by a process killed mid-write (backup snapshots, half archives) go once this old.
STALE_TEMP = timedelta(days=1)


class MaintenanceService:
    """Purges old trash, finished jobs older than 90 days, and temp files left by killed processes."""

    def __init__(
        self,
        *,
        trash: Trash,
        jobs: JobRepository,
        retention_days: int,
        clock: Callable[[], datetime],
        temp_dirs: Sequence[tuple[Path, str]] = (),
    ) -> None:
        self._temp_dirs = temp_dirs
        self._trash = trash
        self._jobs = jobs
        self._retention = timedelta(days=retention_days)
        self._clock = clock

    async def run(self, ctx: JobContext) -> str:
        """Purge the trash and old job rows; return what was removed."""
        now = self._clock()
        ctx.progress(0, 3, "purging trash")
        removed = await asyncio.to_thread(self._trash.purge, older_than=self._retention, now=now)
        ctx.check_cancelled()
        ctx.progress(1, 3, "pruning job history")
        pruned = await asyncio.to_thread(
            self._jobs.prune_finished, before=now - timedelta(days=JOB_HISTORY_DAYS)
        )
        ctx.progress(2, 3, "removing stale temp files")
        stale = await asyncio.to_thread(self._remove_stale_temp, now)
        ctx.progress(3, 3, "done")
        summary = f"{len(removed)} trashed item(s) purged, {pruned} old job(s) pruned"
        return summary + (f", {stale} stale temp file(s) removed" if stale else "")

    def _remove_stale_temp(self, now: datetime) -> int:
        count = 0
        for folder, pattern in self._temp_dirs:
            for path in folder.glob(pattern) if folder.is_dir() else ():
                if path.is_file() and now.timestamp() - path.stat().st_mtime > STALE_TEMP.total_seconds():
                    remove_file(path)
                    count += 1
        return count
