"""Job rows: create, claim, progress, finish, item failures, crash recovery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.records import ACTIVE_STATUSES, ItemFailure, Job, JobStatus
from antenna.db.tables import JobItemFailureRow, JobRow


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        status=JobStatus(row.status),
        params=dict(row.params or {}),
        done=row.done,
        total=row.total,
        message=row.message,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        schedule=row.schedule,
        retry_of=row.retry_of,
        owner=row.owner,
        failed_items=row.failed_items,
    )


class JobRepository:
    """Reads and writes job rows."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        now: datetime,
        schedule: str | None = None,
        retry_of: int | None = None,
        owner: str = "",
    ) -> Job:
        """Insert a queued job and return it."""
        with self._sessions.begin() as session:
            row = JobRow(
                kind=kind,
                status=JobStatus.QUEUED.value,
                params=params,
                done=0,
                total=0,
                message="",
                error="",
                created_at=now,
                schedule=schedule,
                retry_of=retry_of,
                owner=owner,
                cancel_requested=False,
                failed_items=0,
            )
            session.add(row)
            session.flush()
            return _job(row)

    def get(self, job_id: int) -> Job | None:
        """Return one job, or None."""
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            return _job(row) if row else None

    def search(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: Sequence[JobStatus] = (),
        kind: str | None = None,
        search: str = "",
        order: str = "newest",
    ) -> list[Job]:
        """Return jobs, optionally filtered, in an order: newest, oldest, kind or status (then newest)."""
        columns: dict[str, list[sa.ColumnElement[Any]]] = {
            "newest": [JobRow.id.desc()],
            "oldest": [JobRow.id.asc()],
            "kind": [JobRow.kind.asc(), JobRow.id.desc()],
            "status": [JobRow.status.asc(), JobRow.id.desc()],
        }
        query = sa.select(JobRow).order_by(*columns.get(order, columns["newest"])).limit(limit).offset(offset)
        query = self._filtered(query, status, kind, search)
        with self._sessions() as session:
            return [_job(row) for row in session.scalars(query)]

    def count(self, *, status: Sequence[JobStatus] = (), kind: str | None = None, search: str = "") -> int:
        """Return how many jobs match the filters."""
        query = self._filtered(sa.select(sa.func.count(JobRow.id)), status, kind, search)
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    @staticmethod
    def _filtered(
        query: sa.Select[Any], status: Sequence[JobStatus], kind: str | None, search: str
    ) -> sa.Select[Any]:
        if status:
            query = query.where(JobRow.status.in_([s.value for s in status]))
        if kind:
            query = query.where(JobRow.kind == kind)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(JobRow.kind).like(pattern),
                    sa.func.lower(JobRow.message).like(pattern),
                    sa.func.lower(JobRow.error).like(pattern),
                )
            )
        return query

    def active(self, *, kind: str | None = None, schedule: str | None = None) -> list[Job]:
        """Return queued and running jobs, oldest first."""
        query = sa.select(JobRow).where(JobRow.status.in_([s.value for s in ACTIVE_STATUSES]))
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        if schedule is not None:
            query = query.where(JobRow.schedule == schedule)
        with self._sessions() as session:
            return [_job(row) for row in session.scalars(query.order_by(JobRow.id))]

    def claim(self, job_id: int, owner: str, *, now: datetime) -> bool:
        """Mark a queued job running for owner; return False if someone else got it first."""
        with self._sessions.begin() as session:
            result = session.execute(
                sa.update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.RUNNING.value, owner=owner, started_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_owner(self, job_id: int, owner: str) -> None:
        """Record which process will run a queued job."""
        with self._sessions.begin() as session:
            session.execute(sa.update(JobRow).where(JobRow.id == job_id).values(owner=owner))

    def progress(self, job_id: int, done: int, total: int, message: str) -> None:
        """Store progress of a running job."""
        with self._sessions.begin() as session:
            session.execute(
                sa.update(JobRow).where(JobRow.id == job_id).values(done=done, total=total, message=message)
            )

    def finish(
        self, job_id: int, status: JobStatus, *, now: datetime, message: str | None = None, error: str = ""
    ) -> Job | None:
        """Mark a job finished with status; return it."""
        values: dict[str, Any] = {"status": status.value, "finished_at": now, "error": error}
        if message is not None:
            values["message"] = message
        with self._sessions.begin() as session:
            session.execute(sa.update(JobRow).where(JobRow.id == job_id).values(**values))
            row = session.get(JobRow, job_id)
            return _job(row) if row else None

    def request_cancel(self, job_id: int) -> Job | None:
        """Flag a job for cancellation (the runner that owns it stops it); return it."""
        with self._sessions.begin() as session:
            session.execute(sa.update(JobRow).where(JobRow.id == job_id).values(cancel_requested=True))
            row = session.get(JobRow, job_id)
            return _job(row) if row else None

    def cancel_requested(self, job_ids: Sequence[int]) -> set[int]:
        """Return which of these jobs were asked to stop."""
        if not job_ids:
            return set()
        query = sa.select(JobRow.id).where(JobRow.id.in_(job_ids), JobRow.cancel_requested.is_(True))
        with self._sessions() as session:
            return set(session.scalars(query))

    def record_failure(self, job_id: int, item: str, reason: str, *, now: datetime) -> None:
        """Record a failed item and count it on the job."""
        with self._sessions.begin() as session:
            session.add(JobItemFailureRow(job_id=job_id, item=item[:2000], reason=reason[:4000], at=now))
            session.execute(
                sa.update(JobRow).where(JobRow.id == job_id).values(failed_items=JobRow.failed_items + 1)
            )

    def failures(self, job_id: int, *, limit: int = 500) -> list[ItemFailure]:
        """Return the item failures of a job."""
        query = (
            sa.select(JobItemFailureRow)
            .where(JobItemFailureRow.job_id == job_id)
            .order_by(JobItemFailureRow.id)
            .limit(limit)
        )
        with self._sessions() as session:
            return [ItemFailure(r.job_id, r.item, r.reason, r.at) for r in session.scalars(query)]

    def mark_interrupted(self, job_id: int, *, now: datetime, reason: str) -> Job | None:
        """Mark a job whose process died as interrupted."""
        return self.finish(job_id, JobStatus.INTERRUPTED, now=now, error=reason)

    def prune_finished(self, *, before: datetime) -> int:
        """Delete finished jobs older than before; return how many."""
        finished = [s.value for s in JobStatus if s.finished]
        with self._sessions.begin() as session:
            result = session.execute(
                sa.delete(JobRow).where(JobRow.status.in_(finished), JobRow.finished_at < before)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
