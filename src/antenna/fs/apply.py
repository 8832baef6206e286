"""Apply a plan's file operations inside a LibraryRoot and log what changed; or, in a dry run, what would."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from antenna.errors import UnsafePath
from antenna.fs.atomic import atomic_move, atomic_write, ensure_dir, remove_file
from antenna.fs.ops import (
    Change,
    ChangeAction,
    ChangeLog,
    DeleteFile,
    FileOp,
    MakeDir,
    MoveFile,
    TrashFile,
    WriteFile,
)
from antenna.fs.preview import DiskState, Overlay, RealDisk
from antenna.fs.root import LibraryRoot
from antenna.fs.trash import Trash


class _Refused(Exception):
    """An operation that cannot be done; it becomes a `failed` change, never an error for the whole plan."""


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


class _Applier:
    """Carries the context one apply() call shares between its operations."""

    def __init__(self, root: LibraryRoot, trash: Trash | None, dry_run: bool, now: datetime | None) -> None:
        self.root = root
        self.trash = trash
        self.dry_run = dry_run
        self.now = now
        self.disk: DiskState = Overlay() if dry_run else RealDisk()

    def target(self, rel: str) -> Path:
        path = self.root.resolve(rel)
        if path == self.root.path:
            raise UnsafePath(
                f"Path {rel!r} is the library folder itself.", "Name a file or folder inside it."
            )
        return path

    def check_parents(self, path: Path) -> None:
        # mkdir would fail on a file where a folder should be; say so in a dry run too.
        for parent in path.parents:
            kind = self.disk.kind(parent)
            if kind == "file":
                raise _Refused(f"{self.root.relative(parent)} is a file, not a folder")
            if kind == "dir":
                return

    def write(self, op: WriteFile) -> Change:
        path = self.target(op.path)
        kind = self.disk.kind(path)
        if kind == "dir":
            raise _Refused("a folder is in the way")
        self.check_parents(path)
        if kind is None:
            action = ChangeAction.CREATED
        elif self.disk.same_content(path, op.data):
            action = ChangeAction.UNCHANGED
        else:
            action = ChangeAction.UPDATED
        if action is not ChangeAction.UNCHANGED and not self.dry_run:
            ensure_dir(path.parent)
            if not atomic_write(path, op.data):
                action = ChangeAction.UNCHANGED
        self.disk.wrote(path, op.data)
        return Change(action, op.path, op.reason)

    def move(self, op: MoveFile) -> Change:
        src, dst = self.target(op.src), self.target(op.dst)
        if self.disk.kind(src) is None:
            raise _Refused(f"{op.src} does not exist")
        if src == dst:
            return Change(ChangeAction.UNCHANGED, op.dst, op.reason, "already in place")
        if self.disk.kind(dst) is not None:
            raise _Refused(f"{op.dst} already exists")
        if src in dst.parents:
            raise _Refused("cannot move a folder into itself")
        self.check_parents(dst)
        if not self.dry_run:
            atomic_move(src, dst)
        self.disk.moved(src, dst)
        return Change(ChangeAction.MOVED, op.dst, op.reason, f"from {op.src}")

    def to_trash(self, op: TrashFile) -> Change:
        if self.trash is None:
            raise _Refused("no trash folder is configured, so user files are not removed")
        path = self.target(op.path)
        if self.disk.kind(path) is None:
            return Change(ChangeAction.UNCHANGED, op.path, op.reason, "already gone")
        self.trash.check(path, relative_to=self.root.path)
        detail = ""
        if not self.dry_run:
            when = self.now if self.now is not None else datetime.now(UTC)
            detail = f"to {self.trash.put(path, relative_to=self.root.path, now=when)}"
        self.disk.removed(path)
        return Change(ChangeAction.TRASHED, op.path, op.reason, detail)

    def delete(self, op: DeleteFile) -> Change:
        path = self.target(op.path)
        kind = self.disk.kind(path)
        if kind is None:
            return Change(ChangeAction.UNCHANGED, op.path, op.reason, "already gone")
        if kind == "dir":
            raise _Refused("is a folder; only single generated files are deleted")
        if not self.dry_run:
            remove_file(path)
        self.disk.removed(path)
        return Change(ChangeAction.DELETED, op.path, op.reason)

    def make_dir(self, op: MakeDir) -> Change:
        path = self.target(op.path)
        kind = self.disk.kind(path)
        if kind == "dir":
            return Change(ChangeAction.UNCHANGED, op.path, op.reason)
        if kind == "file":
            raise _Refused("a file is in the way")
        self.check_parents(path)
        if not self.dry_run:
            ensure_dir(path)
        self.disk.made_dir(path)
        return Change(ChangeAction.CREATED, op.path, op.reason, "folder")

    def one(self, op: FileOp) -> Change:
        match op:
            case WriteFile():
                return self.write(op)
            case MoveFile():
                return self.move(op)
            case TrashFile():
                return self.to_trash(op)
            case DeleteFile():
                return self.delete(op)
            case MakeDir():
                return self.make_dir(op)


def _op_path(op: FileOp) -> str:
    return op.dst if isinstance(op, MoveFile) else op.path


def apply(
    root: LibraryRoot,
    ops: Iterable[FileOp],
    *,
    trash: Trash | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ChangeLog:
    """Perform ops inside root (or, with dry_run, only say what would happen) and return the change log."""
    applier = _Applier(root, trash, dry_run, now)
    log = ChangeLog()
    for op in ops:
        try:
            change = applier.one(op)
        except (_Refused, UnsafePath, OSError) as exc:
            # One bad path or full disk fails that operation only; the rest of the plan still runs.
            change = Change(ChangeAction.FAILED, _op_path(op), op.reason, _describe(exc))
        log.add(change)
    return log
