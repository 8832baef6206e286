"""Writes for trees of many small generated files (a VOD library's .strm and .nfo): atomic, not synced each.

A reader sees the old file or the new one (temp file, then rename), never half of one. Each file is not
fsynced: for hundreds of thousands of files that would take hours, and a generated file lost to a power cut
is simply written again by the next run, which finds it missing or different. Plain os calls on str paths:
pathlib's overhead was most of the cost per file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from pathlib import Path

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


def make_dirs(folders: set[Path]) -> None:
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
