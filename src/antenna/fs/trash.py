"""The trash: user media is moved here instead of deleted, in one folder per batch, and purged after a while.

Batch folders are named by the UTC time they were made (`YYYYmmdd-HHMMSS`); a naive datetime is taken as
UTC. Time always comes in as a parameter so callers and tests decide what "now" is.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from antenna.errors import UnsafePath
from antenna.fs.atomic import atomic_move
from antenna.fs.names import MAX_NAME_BYTES, truncate_utf8

BATCH_FORMAT = "%Y%m%d-%H%M%S"
_BATCH_NAME = re.compile(r"\d{8}-\d{6}")
_MAX_UNIQUE_TRIES = 10_000


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _numbered(path: Path, number: int) -> Path:
    """path with " (number)" before its extension, shortened so the name still fits in 255 bytes."""
    suffix = path.suffix if len(path.suffix.encode("utf-8", "surrogatepass")) <= 16 else ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    tag = f" ({number})"
    budget = MAX_NAME_BYTES - len((tag + suffix).encode("utf-8", "surrogatepass"))
    return path.with_name(truncate_utf8(stem, budget) + tag + suffix)


def _unique(path: Path) -> Path:
    if not os.path.lexists(path):
        return path
    for number in range(1, _MAX_UNIQUE_TRIES):
        candidate = _numbered(path, number)
        if not os.path.lexists(candidate):
            return candidate
    raise FileExistsError(f"No free name for {path} in the trash")


def _free_destination(batch: Path, relative: PurePosixPath) -> Path:
    """batch/relative, giving the leaf (or a folder blocked by an earlier file) a free name."""
    current = batch
    *folders, leaf = relative.parts
    for part in folders:
        current = current / part
        if os.path.lexists(current) and not (current.is_dir() and not current.is_symlink()):
            current = _unique(current)
    return _unique(current / leaf)


def _size(path: Path) -> int:
    return path.lstat().st_size


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """One file in the trash: where it is now, when it was trashed, its size and where it came from."""

    path: Path
    trashed_at: datetime
    size_bytes: int
    original: PurePosixPath


class Trash:
    """A folder that keeps removed files for a retention period before they are really deleted."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Trash({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The resolved trash folder."""
        return self._path

    def check(self, path: Path, *, relative_to: Path) -> PurePosixPath:
        """Return path's place below relative_to; raise UnsafePath if it cannot go to this trash."""
        source = Path(os.path.abspath(path))
        base = Path(os.path.abspath(relative_to))
        if not _inside(source, base) or source == base:
            raise UnsafePath(
                f"{source} is not inside {base}.", "Only files inside the library can be trashed."
            )
        if _inside(source, self._path) or _inside(self._path, source):
            raise UnsafePath(f"{source} is or holds the trash {self._path}.", "Trash the items one by one.")
        return PurePosixPath(source.relative_to(base).as_posix())

    def put(self, path: Path, *, relative_to: Path, now: datetime) -> Path:
        """Move a file or folder into the batch for now, keeping its path below relative_to; return where."""
        relative = self.check(path, relative_to=relative_to)
        source = Path(os.path.abspath(path))
        if not os.path.lexists(source):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(source))
        batch = self._path / _utc(now).strftime(BATCH_FORMAT)
        destination = _free_destination(batch, relative)
        atomic_move(source, destination)
        return destination

    def batches(self) -> list[tuple[Path, datetime]]:
        """Return the batch folders with their times, oldest first; other files in the trash are ignored."""
        if not self._path.is_dir():
            return []
        found = []
        for child in self._path.iterdir():
            if _BATCH_NAME.fullmatch(child.name) and child.is_dir() and not child.is_symlink():
                try:
                    moment = datetime.strptime(child.name, BATCH_FORMAT).replace(tzinfo=UTC)
                except ValueError:  # 8+6 digits that are not a date, e.g. 20241399-000000: not ours
                    continue
                found.append((child, moment))
        return sorted(found, key=lambda batch: batch[1])

    def entries(self) -> list[TrashEntry]:
        """List every file in the trash (folders are listed by their files), oldest batch first."""
        listed = []
        for batch, moment in self.batches():
            for folder, dirs, files in os.walk(batch):
                dirs.sort()
                # os.walk does not descend into symlinked folders; list the link itself like a file.
                links = [name for name in dirs if os.path.islink(os.path.join(folder, name))]
                for name in sorted(files + links):
                    path = Path(folder, name)
                    original = PurePosixPath(path.relative_to(batch).as_posix())
                    listed.append(TrashEntry(path, moment, _size(path), original))
        return listed

    def purge(self, *, older_than: timedelta, now: datetime) -> list[Path]:
        """Really delete batches trashed more than older_than before now; return the removed batch folders."""
        cutoff = _utc(now) - older_than
        removed = []
        for batch, moment in self.batches():
            if moment < cutoff:
                shutil.rmtree(batch)
                removed.append(batch)
        return removed
