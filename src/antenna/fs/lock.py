"""DataDirLock: one Antenna server per data dir, enforced with an OS lock that dies with its process."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from antenna.errors import DataDirError


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


class DataDirLock:
    """An exclusive flock on a lock file, holding the owner's pid so a second server can say who has it."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._path

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise DataDirError naming the process that has it."""
        if self._fd is not None:
            raise RuntimeError(f"{self._path} is already locked by this object")
        folder = self._path.parent
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise DataDirError(
                f"Cannot open the lock file {self._path} ({exc.strerror}).",
                "Choose another with --data or fix its permissions.",
            ) from exc
        try:
            # flock, not a pid file alone: the kernel drops it when the process dies, even on SIGKILL.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DataDirError(
                f"Another Antenna server is already using {folder} (pid {pid}).",
                "Stop it first, or start this one with another --data dir.",
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up; releasing a lock that is not held does nothing."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # The file stays: unlinking it lets a newcomer lock a fresh inode while a waiter holds the old one.
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
