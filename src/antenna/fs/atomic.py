"""Atomic file writes and moves: a reader (or a crash) sees the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from antenna.fs.names import truncate_utf8

_CHUNK = 1024 * 1024
# ".{name}.{8 hex}.tmp" must still fit in 255 bytes, so long names are shortened in the temp name only.
_TEMP_NAME_BYTES = 200
# Some filesystems (FUSE, some network mounts) cannot fsync a directory; the data itself is already synced.
_DIR_FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EACCES})


def _temp_path(target: Path) -> Path:
    return target.with_name(f".{truncate_utf8(target.name, _TEMP_NAME_BYTES)}.{secrets.token_hex(4)}.tmp")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        if exc.errno in _DIR_FSYNC_UNSUPPORTED:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _DIR_FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    """Remove a leftover temp file or folder; only used while another error is already propagating."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()


def _open_temp(target: Path) -> tuple[Path, int]:
    # Our own O_EXCL open instead of mkstemp: mkstemp forces mode 0600, which would hide media from a
    # Plex or Jellyfin server running as another user; 0666 lets the umask decide as for any new file.
    while True:
        temp = _temp_path(target)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        try:
            # Replacing a file keeps its permissions, so a user's chmod survives our rewrite.
            os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            _discard(temp)
            raise
        return temp, fd


def same_content(path: Path, data: bytes) -> bool:
    """Return True if path is a regular file holding exactly data (size first, then bytes)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        with open(path, "rb") as existing:
            view = memoryview(data)
            offset = 0
            while chunk := existing.read(_CHUNK):
                if chunk != view[offset : offset + len(chunk)]:
                    return False
                offset += len(chunk)
            return offset == len(data)
    except (FileNotFoundError, NotADirectoryError):
        return False


@contextmanager
def atomic_writer(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """Stream into a temp file beside path; replace path with it only if the block exits cleanly.

    ``mode`` sets the permission bits before anything is written (0o600 for files holding secrets).
    """
    temp, fd = _open_temp(path)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise
    _fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes, *, only_if_changed: bool = True) -> bool:
    """Write data to path atomically; return False (and leave mtime alone) if it already holds data."""
    if only_if_changed and same_content(path, data):
        return False
    with atomic_writer(path) as stream:
        stream.write(data)
    return True


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8", only_if_changed: bool = True) -> bool:
    """Write text to path atomically; return False if the file already holds exactly that text."""
    return atomic_write(path, text.encode(encoding), only_if_changed=only_if_changed)


def ensure_dir(path: Path, *, mode: int | None = None) -> None:
    """Create a folder and its parents if missing; ``mode`` is applied to a folder this call creates."""
    if mode is not None and not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)  # mkdir's mode is masked by the umask; chmod is not
        return
    path.mkdir(parents=True, exist_ok=True)


def remove_file(path: Path) -> None:
    """Delete one file or symlink (never a folder); a file that is already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    _fsync_dir(path.parent)


def _copy_across(src: Path, temp: Path) -> None:
    if src.is_symlink():
        os.symlink(os.readlink(src), temp)
    elif src.is_dir():
        shutil.copytree(src, temp, symlinks=True)
        for folder, _dirs, files in os.walk(temp):
            for name in files:
                if not os.path.islink(os.path.join(folder, name)):
                    _fsync_file(Path(folder, name))
    else:
        shutil.copy2(src, temp)
        _fsync_file(temp)


def atomic_move(src: Path, dst: Path) -> None:
    """Move a file or folder to dst, creating its parents; copy safely when dst is on another filesystem."""
    ensure_dir(dst.parent)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    else:
        _fsync_dir(dst.parent)
        return
    # Across filesystems: copy beside dst, then one rename, so dst is never seen half copied.
    if not os.path.lexists(src):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(src))
    temp = _temp_path(dst)
    try:
        _copy_across(src, temp)
        os.replace(temp, dst)
    except BaseException:
        _discard(temp)
        raise
    _fsync_dir(dst.parent)
    # Only now is the copy safe on disk, so only now may the original go.
    if src.is_dir() and not src.is_symlink():
        shutil.rmtree(src)
    else:
        os.unlink(src)
    _fsync_dir(src.parent)
