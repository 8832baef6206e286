"""The data dir: created on first start and proven writable before anything relies on it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from antenna.errors import DataDirError
from antenna.fs.atomic import atomic_write_text, ensure_dir

_HINT = "Choose another with --data or fix its permissions."


def prepare_data_dir(path: Path) -> Path:
    """Create the data dir if needed, prove it is writable, and return its resolved path."""
    folder = Path(path).expanduser().resolve()
    try:
        # Private by default: the database holds the API key and the settings may hold passwords.
        ensure_dir(folder, mode=0o700)
    except FileExistsError:
        raise DataDirError(f"Data dir {folder} is a file, not a folder.", _HINT) from None
    except OSError as exc:
        raise DataDirError(f"Data dir {folder} cannot be created ({exc.strerror}).", _HINT) from exc
    # Permission bits are not enough (read-only mounts, ACLs, root squash): only a real write proves it.
    probe = folder / f".antenna-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataDirError(f"Data dir {folder} is not writable ({exc.strerror}).", _HINT) from exc
    return folder


def write_if_missing(path: Path, text: str) -> bool:
    """Atomically write text to path unless the file already exists; return True if it wrote."""
    if os.path.lexists(path):
        return False
    ensure_dir(path.parent)
    return atomic_write_text(path, text, only_if_changed=False)
