"""File operations that plans return, and the change log that applying them produces.

Paths in operations are strings relative to a LibraryRoot; the applier resolves (and guards) them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class WriteFile:
    """Write data to path (created, updated, or left alone when it already holds data)."""

    path: str
    data: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class MoveFile:
    """Move a file or folder from src to dst; an existing dst is never overwritten."""

    src: str
    dst: str
    reason: str


@dataclass(frozen=True, slots=True)
class TrashFile:
    """Move a file or folder to the trash, where it stays for the retention period."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeleteFile:
    """Really delete a file; only for files Antenna generated itself (NFO, STRM, artwork it wrote)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class MakeDir:
    """Create a folder and any missing parents."""

    path: str
    reason: str


FileOp = WriteFile | MoveFile | TrashFile | DeleteFile | MakeDir


class ChangeAction(StrEnum):
    """What applying one operation did (or, in a dry run, would do)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    MOVED = "moved"
    TRASHED = "trashed"
    DELETED = "deleted"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a change log: the action, the root-relative path, why, and any detail (error, origin)."""

    action: ChangeAction
    path: str
    reason: str
    detail: str = ""


CSV_HEADER = ("action", "path", "reason", "detail")


@dataclass
class ChangeLog:
    """The ordered list of changes one apply made, with counts for summaries and rows for CSV reports."""

    changes: list[Change] = field(default_factory=list)

    def add(self, change: Change) -> None:
        """Append one change."""
        self.changes.append(change)

    def counts(self) -> dict[str, int]:
        """Return how many changes there are of every action (zeros included), in ChangeAction order."""
        counts = {action.value: 0 for action in ChangeAction}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def summary(self) -> str:
        """Return a one-line summary such as "2 created, 1 unchanged" ("no changes" when empty)."""
        parts = [f"{count} {action}" for action, count in self.counts().items() if count]
        return ", ".join(parts) if parts else "no changes"

    @property
    def failed(self) -> list[Change]:
        """The changes that failed."""
        return [change for change in self.changes if change.action is ChangeAction.FAILED]

    def to_csv_rows(self) -> list[tuple[str, str, str, str]]:
        """Return a header row and one row per change, ready for csv.writer."""
        rows = [CSV_HEADER]
        rows.extend(
            (change.action.value, change.path, change.reason, change.detail) for change in self.changes
        )
        return rows
