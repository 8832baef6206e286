"""Schedule rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.records import Schedule
from antenna.db.tables import ScheduleRow


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        job_kind=row.job_kind,
        params=dict(row.params or {}),
        expression=row.expression,
        timezone=row.timezone,
        quiet_window=row.quiet_window,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_run_at=row.last_run_at,
        last_job_id=row.last_job_id,
    )


class ScheduleRepository:
    """Reads and writes schedules."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def all(self) -> list[Schedule]:
        """Return every schedule by name."""
        with self._sessions() as session:
            return [_schedule(r) for r in session.scalars(sa.select(ScheduleRow).order_by(ScheduleRow.name))]

    def get(self, name: str) -> Schedule | None:
        """Return one schedule by name, or None."""
        with self._sessions() as session:
            row = session.scalar(sa.select(ScheduleRow).where(ScheduleRow.name == name))
            return _schedule(row) if row else None

    def upsert(
        self,
        name: str,
        *,
        job_kind: str,
        expression: str,
        timezone: str,
        quiet_window: str,
        enabled: bool,
        params: dict[str, Any],
        now: datetime,
    ) -> Schedule:
        """Create or change a schedule; return it."""
        with self._sessions.begin() as session:
            row = session.scalar(sa.select(ScheduleRow).where(ScheduleRow.name == name))
            if row is None:
                row = ScheduleRow(name=name, created_at=now)
                session.add(row)
            row.job_kind = job_kind
            row.expression = expression
            row.timezone = timezone
            row.quiet_window = quiet_window
            row.enabled = enabled
            row.params = params
            row.updated_at = now
            session.flush()
            return _schedule(row)

    def insert_if_missing(self, name: str, *, job_kind: str, expression: str, now: datetime) -> bool:
        """Create a default schedule unless one of that name exists; return True if created."""
        with self._sessions.begin() as session:
            if session.scalar(sa.select(ScheduleRow.id).where(ScheduleRow.name == name)) is not None:
                return False
            session.add(
                ScheduleRow(
                    name=name,
                    job_kind=job_kind,
                    expression=expression,
                    timezone="",
                    quiet_window="",
                    enabled=True,
                    params={},
                    created_at=now,
                    updated_at=now,
                )
            )
            return True

    def delete(self, name: str) -> bool:
        """Delete a schedule; return True if it existed."""
        with self._sessions.begin() as session:
            result = session.execute(sa.delete(ScheduleRow).where(ScheduleRow.name == name))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_run(self, name: str, *, now: datetime, job_id: int) -> None:
        """Record when a schedule last started a job."""
        with self._sessions.begin() as session:
            session.execute(
                sa.update(ScheduleRow)
                .where(ScheduleRow.name == name)
                .values(last_run_at=now, last_job_id=job_id)
            )

    def fingerprint(self) -> str:
        """Return a value that changes whenever a schedule changes (edits from other processes)."""
        query = sa.select(sa.func.count(ScheduleRow.id), sa.func.max(ScheduleRow.updated_at))
        with self._sessions() as session:
            count, latest = session.execute(query).one()
        return f"{count}:{latest}"
