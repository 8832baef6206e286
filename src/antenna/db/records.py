"""Plain values the repositories return: no ORM rows leave db/."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        """Return True when the job will not change any more."""
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERRUPTED}


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class Job:
    """One run of some long piece of work, as stored."""

    id: int
    kind: str
    status: JobStatus
    params: dict[str, Any]
    done: int
    total: int
    message: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    schedule: str | None = None
    retry_of: int | None = None
    owner: str = ""
    failed_items: int = 0

    @property
    def percent(self) -> int:
        """Return progress as a whole percentage (0 when the total is unknown)."""
        if self.status is JobStatus.SUCCEEDED:
            return 100
        if self.total <= 0:
            return 0
        return max(0, min(100, (self.done * 100) // self.total))


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """One item of a job that failed without failing the job."""

    job_id: int
    item: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a kind of job runs by itself, as stored."""

    id: int
    name: str
    job_kind: str
    params: dict[str, Any]
    expression: str
    timezone: str
    quiet_window: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    last_job_id: int | None
