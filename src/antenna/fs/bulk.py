"""Writes for trees of many small generated files (a VOD library's .strm and .nfo): atomic, not synced each.

A reader sees the old file or the new one (temp file, then rename), never half of one. Each file is not
fsynced: for hundreds of thousands of files that would take hours, and a generated file lost to a power cut
is simply written again by the next run, which finds it missing or different. Plain os calls on str paths:
pathlib's overhead was most of the cost per file.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

try:
    from antenna.fs import _tree_write as _built
except ImportError:  # pragma: no cover - depends on the install (hatch_build.py compiles it with gcc)
    _built = None  # type: ignore[assignment]

_COUNTER = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def write_generated(path: Path | str, data: bytes) -> bool:
    """Write data to path by temp file and rename; False when it already held data (folders must exist)."""
    target = os.fspath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISREG(info.st_mode) and info.st_size == len(data):
        with open(target, "rb") as existing:
            if existing.read() == data:
                return False
    folder, name = os.path.split(target)
    fd = -1
    while True:
        # The name cut short keeps ".{name}.{n}.tmp" under 255 bytes; O_EXCL makes a clash just try again.
        temp = os.path.join(folder, f".{name[:120]}.{os.getpid()}.{next(_COUNTER)}.tmp")
        try:
            fd = os.open(temp, _FLAGS, 0o666)
            break
        except FileExistsError:
            continue
    try:
        if info is not None:
            os.fchmod(fd, stat.S_IMODE(info.st_mode))  # a user's chmod survives our rewrite
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
        fd = -1
        os.replace(temp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def move_generated(source: Path | str, target: Path | str) -> None:
    """Move a generated file within its tree (one filesystem), making the target's folders; not synced.

    Like write_generated, no fsync: a move a power cut undid leaves the file at its old name, which the next
    run finds missing at the new one and writes again. atomic_move's folder fsync per file made renaming a
    thousand files take seconds on a slow disk.
    """
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(source, target)


NEW_FOLDER_PREFIX = ".antenna-new-"


def write_new_folder(target: str, files: Sequence[tuple[str, bytes]]) -> bool:
    """Create the folder target holding files (paths inside it), all at once; False when target exists.

    The files are written into a hidden temp folder beside target, which is then renamed into place: a media
    server sees the whole folder or nothing, so no file needs its own temp file, rename or content check
    (three system calls a file, as a bare write loop makes). target's parent must exist; the caller vouches
    for it (resolved inside the library) and for the names in files (one safe component each).
    """
    if os.path.lexists(target):
        return False
    parent = os.path.dirname(target)
    temp = os.path.join(parent, f"{NEW_FOLDER_PREFIX}{os.getpid()}.{next(_COUNTER)}")
    os.mkdir(temp)
    try:
        made = {""}
        for rel, data in files:
            if any(part in ("", ".", "..") for part in rel.split("/")) or "\0" in rel:
                raise ValueError(f"unsafe name in a new folder: {rel!r}")
            sub = rel.rpartition("/")[0]
            if sub not in made:
                os.makedirs(os.path.join(temp, sub), exist_ok=True)
                made.add(sub)
            fd = os.open(os.path.join(temp, rel), _FLAGS, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        try:
            os.rename(temp, target)  # replaces nothing but an empty folder made meanwhile
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise
            shutil.rmtree(temp)
            return False  # something appeared there meanwhile: the caller writes file by file
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return True


def count_files(folder: Path, suffixes: tuple[str, ...]) -> int:
    """Count the files ending in suffixes in folder and its subfolders, one level down (0 if it is missing).

    One listing per folder, no stat per file: how an export checks that an unchanged series' files are
    still there without reading each one.
    """
    found = 0
    try:
        with os.scandir(folder) as entries:
            subfolders = []
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.name.endswith(suffixes):
                    found += 1
        for sub in subfolders:
            with os.scandir(sub) as entries:
                found += sum(1 for entry in entries if entry.name.endswith(suffixes))
    except (FileNotFoundError, NotADirectoryError):
        return found
    return found


def folder_stamp(folder: Path, subfolders: Iterable[str] | None = None) -> str:
    """Return the modification times of folder and of its subfolders, as a stamp ("" if one is missing).

    subfolders None: those folder holds now (a listing).

    Adding, removing or renaming a file changes its folder's time: while the stamp holds (stamp_holds), the
    files written there are all still there, known from one stat per folder instead of a listing.
    """
    if subfolders is None:
        try:
            with os.scandir(folder) as entries:
                subfolders = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            return ""
    lines = []
    for rel in ("", *sorted(subfolders)):
        try:
            lines.append(f"{rel}={os.stat(os.path.join(folder, rel) if rel else folder).st_mtime_ns}")
        except OSError:
            return ""
    return "\n".join(lines)  # names hold no newline (sanitize_name removes control characters)


def stamp_holds(folder: Path, stamp: str) -> bool:
    """Return True when folder and the subfolders a folder_stamp recorded still have the times it records."""
    for line in stamp.split("\n"):
        rel, _, ns = line.rpartition("=")
        try:
            if os.stat(os.path.join(folder, rel) if rel else folder).st_mtime_ns != int(ns):
                return False
        except (OSError, ValueError):
            return False
    return bool(stamp)


def native() -> ModuleType | None:
    """Return the C twin of write_new_folder (fs/_tree_write.c), or None: not built, or ANTENNA_NO_C=1."""
    return None if os.environ.get("ANTENNA_NO_C", "") == "1" else _built


def write_new_folders(folders: Sequence[tuple[str, Sequence[tuple[str, bytes]]]]) -> list[bool]:
    """write_new_folder for each (target, files), in C without the GIL when built (see _tree_write.c)."""
    module = native()
    if module is None:
        return [write_new_folder(target, files) for target, files in folders]
    targets = [target for target, _files in folders]
    temps = [
        os.path.join(os.path.dirname(t), f"{NEW_FOLDER_PREFIX}{os.getpid()}.{next(_COUNTER)}")
        for t in targets
    ]
    try:
        statuses = module.write_new_folders(
            targets,
            temps,
            [len(files) for _target, files in folders],
            [rel for _target, files in folders for rel, _data in files],
            [data for _target, files in folders for _rel, data in files],
        )
    except BaseException:
        for temp in temps:
            shutil.rmtree(temp, ignore_errors=True)
        raise
    for temp, status in zip(temps, statuses, strict=True):
        if status == 0 and os.path.lexists(temp):
            shutil.rmtree(temp)  # its target appeared meanwhile: the caller writes file by file
    return [status == 1 for status in statuses]


def remove_abandoned_new_folders(parent: Path) -> int:
    """Remove the temp folders of write_new_folder that a killed process left in parent; count them."""
    removed = 0
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(NEW_FOLDER_PREFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        pid = entry.name[len(NEW_FOLDER_PREFIX) :].partition(".")[0]
        if not entry.is_dir(follow_symlinks=False) or (pid.isdigit() and _running(int(pid))):
            continue  # a live export's folder (this one's, or another process's), or not ours
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_NETWORK = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "afs", "davfs")


def on_network_filesystem(path: Path) -> bool:
    """Return True when path is on a network or FUSE filesystem (NFS, SMB, rclone, sshfs…), by /proc/mounts.

    Writes there wait on the network, so a pool of writers helps; on a local disk the threads only contend.
    """
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    target, best, kind = os.path.realpath(path), "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind in _NETWORK or kind.startswith("fuse.")


def make_dirs(folders: set[str]) -> None:
    """Create folders and their parents (before a pool writes into them)."""
    for folder in sorted(folders):
        os.makedirs(folder, exist_ok=True)


def prune_empty_dirs(root: Path, folders: set[Path]) -> int:
    """Remove the given folders when empty, then their parents that become empty (never root); count them."""
    removed = 0
    for folder in sorted(folders, key=lambda f: -len(f.parts)):
        path = folder
        while path != root and root in path.parents and path.is_dir():
            try:
                path.rmdir()
            except OSError:  # not empty (a user's file, a subtitle): it stays
                break
            removed += 1
            path = path.parent
    return removed
