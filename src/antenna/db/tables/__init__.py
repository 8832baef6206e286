"""ORM tables, one module per area; importing this package registers them all on Base.metadata."""

from antenna.db.tables.core import AppSecret, JobItemFailureRow, JobRow, ScheduleRow

__all__ = ["AppSecret", "JobItemFailureRow", "JobRow", "ScheduleRow"]
