"""Job values shared by the runner, the repositories, the web pages and the CLI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from antenna.db.records import ACTIVE_STATUSES, ItemFailure, Job, JobStatus

__all__ = [
    "ACTIVE_STATUSES",
    "ItemFailure",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobEvent",
    "JobFunction",
    "JobKind",
    "JobStatus",
]


class JobCancelled(Exception):
    """Raised inside a job when it has been asked to stop."""


class JobContext(Protocol):
    """What a running job sees: its parameters, progress reporting, item failures and cancellation."""

    @property
    def job_id(self) -> int:
        """Return the id of the running job."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """Return the parameters the job was started with."""
        ...

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress; safe to call from any thread, often."""
        ...

    def item_failed(self, item: str, reason: str) -> None:
        """Record that one item failed; the job goes on."""
        ...

    def check_cancelled(self) -> None:
        """Raise JobCancelled if the job was asked to stop; safe from any thread."""
        ...

    @property
    def cancelled(self) -> bool:
        """Return True once the job was asked to stop."""
        ...


JobFunction = Callable[[JobContext], Awaitable[str | None]]
"""A job body: runs the work and returns a short summary message (or None)."""


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job the runner knows how to run."""

    name: str
    title: str
    run: JobFunction
    resumable: bool = False
    concurrency: int = 1
    description: str = ""


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A change to a job, as published on the event bus."""

    job: Job
    kind: str = field(default="job")


def job_payload(job: Job) -> dict[str, Any]:
    """Return the public JSON shape of a job (API, SSE, MQTT)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status.value,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "error": job.error,
        "failed_items": job.failed_items,
        "schedule": job.schedule,
        "retry_of": job.retry_of,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
