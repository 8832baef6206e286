"""What the disk looks like while a plan is applied: the real disk, or an overlay for dry runs.

A dry run must report the same actions a real run would, even when one operation depends on an earlier
one (make a folder, then write into it; move a file away, then write a new one in its place). The overlay
records the effect of each operation in memory and answers questions as if it had happened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from antenna.fs.atomic import same_content

Kind = Literal["file", "dir"]


def disk_kind(path: Path) -> Kind | None:
    """Return "dir", "file" (anything else that exists, even a dangling symlink) or None."""
    if os.path.isdir(path):
        return "dir"
    return "file" if os.path.lexists(path) else None


class DiskState(Protocol):
    """Questions the applier asks before each operation, and the effects it reports after it."""

    def kind(self, path: Path) -> Kind | None: ...
    def same_content(self, path: Path, data: bytes) -> bool: ...
    def wrote(self, path: Path, data: bytes) -> None: ...
    def made_dir(self, path: Path) -> None: ...
    def removed(self, path: Path) -> None: ...
    def moved(self, src: Path, dst: Path) -> None: ...


class RealDisk:
    """The disk itself: questions go to the filesystem, and the effects are already there."""

    def kind(self, path: Path) -> Kind | None:
        """Return what is at path on disk."""
        return disk_kind(path)

    def same_content(self, path: Path, data: bytes) -> bool:
        """Return True if the file on disk holds exactly data."""
        return same_content(path, data)

    def wrote(self, path: Path, data: bytes) -> None:
        """Nothing to record: the file was written."""

    def made_dir(self, path: Path) -> None:
        """Nothing to record: the folder was made."""

    def removed(self, path: Path) -> None:
        """Nothing to record: the file was removed."""

    def moved(self, src: Path, dst: Path) -> None:
        """Nothing to record: the file was moved."""


@dataclass(frozen=True, slots=True)
class _Entry:
    # file: written in this run (data); dir: made in this run, empty; gone: removed;
    # alias: something real that now appears here (moved from source).
    kind: Literal["file", "dir", "gone", "alias"]
    data: bytes = b""
    source: Path | None = None


class Overlay:
    """The disk as it would be after the operations recorded so far; nothing real is touched."""

    def __init__(self) -> None:
        self._entries: dict[Path, _Entry] = {}

    def _nearest(self, path: Path) -> tuple[Path, _Entry] | None:
        for anchor in (path, *path.parents):
            entry = self._entries.get(anchor)
            if entry is not None:
                return anchor, entry
        return None

    def _real(self, path: Path) -> Path | None:
        """Where on the real disk path's content lives now, or None if it has no real backing."""
        hit = self._nearest(path)
        if hit is None:
            return path
        anchor, entry = hit
        if entry.kind == "alias" and entry.source is not None:
            return entry.source / path.relative_to(anchor)
        return None

    def _under(self, path: Path) -> list[Path]:
        return [key for key in self._entries if key == path or path in key.parents]

    def _set(self, path: Path, entry: _Entry) -> None:
        for key in self._under(path):
            del self._entries[key]
        self._entries[path] = entry

    def _make_parents(self, path: Path) -> None:
        missing = []
        for parent in path.parents:
            if self.kind(parent) == "dir":
                break
            missing.append(parent)
        for parent in reversed(missing):
            self._set(parent, _Entry("dir"))

    def kind(self, path: Path) -> Kind | None:
        """Return what would be at path."""
        entry = self._entries.get(path)
        if entry is not None and entry.kind in ("file", "dir"):
            return "file" if entry.kind == "file" else "dir"
        real = self._real(path)
        return disk_kind(real) if real is not None else None

    def same_content(self, path: Path, data: bytes) -> bool:
        """Return True if the file at path would hold exactly data."""
        entry = self._entries.get(path)
        if entry is not None and entry.kind == "file":
            return entry.data == data
        real = self._real(path)
        return real is not None and same_content(real, data)

    def wrote(self, path: Path, data: bytes) -> None:
        """Record that path now holds data."""
        self._make_parents(path)
        self._set(path, _Entry("file", data=data))

    def made_dir(self, path: Path) -> None:
        """Record that the folder path exists."""
        if self.kind(path) != "dir":
            self._make_parents(path)
            self._set(path, _Entry("dir"))

    def removed(self, path: Path) -> None:
        """Record that path (and everything below it) is gone."""
        self._set(path, _Entry("gone"))

    def moved(self, src: Path, dst: Path) -> None:
        """Record that whatever was at src (with everything below it) is now at dst."""
        own = self._entries.get(src)
        if own is None or own.kind == "gone":
            real = self._real(src)
            own = _Entry("alias", source=real) if real is not None else _Entry("gone")
        children = {dst / key.relative_to(src): self._entries[key] for key in self._under(src) if key != src}
        self._set(src, _Entry("gone"))
        self._make_parents(dst)
        self._set(dst, own)
        self._entries.update(children)
