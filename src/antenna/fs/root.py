"""LibraryRoot: the folder a capability may write in, and the guard that keeps every path inside it."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from antenna.errors import UnsafePath
from antenna.fs.names import MAX_NAME_BYTES, sanitize_name

_SEPARATORS = re.compile(r"[/\\]")


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class LibraryRoot:
    """A folder that relative paths are resolved against; nothing resolved may leave it."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LibraryRoot({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The resolved absolute path of the root folder."""
        return self._path

    def ensure(self) -> None:
        """Create the root folder (and its parents) if it is missing."""
        self._path.mkdir(parents=True, exist_ok=True)

    def resolve(self, rel: str | PurePath) -> Path:
        """Return the real path of rel inside the root; raise UnsafePath if it is absolute or would leave."""
        text = str(rel)
        if "\0" in text:
            raise UnsafePath(f"Path {text!r} contains a NUL character.", "Remove it from the name.")
        # Check both flavours: a Windows-style path from a provider must not sneak past as one odd name.
        if PurePosixPath(text).is_absolute() or PureWindowsPath(text).anchor:
            raise UnsafePath(f"Path {text!r} is absolute.", f"Use a path relative to {self._path}.")
        parts = [part for part in _SEPARATORS.split(text) if part not in ("", ".")]
        if ".." in parts:
            raise UnsafePath(f"Path {text!r} goes up with '..'.", f"Use a path inside {self._path}.")
        for part in parts:
            try:
                size = len(os.fsencode(part))
            except UnicodeEncodeError:
                raise UnsafePath(f"Path {text!r} is not a valid file name.", "Use plain text.") from None
            if size > MAX_NAME_BYTES:
                raise UnsafePath(
                    f"Name {part[:40]!r}… is {size} bytes long.", f"Keep names under {MAX_NAME_BYTES} bytes."
                )
        candidate = self._path.joinpath(*parts)
        # realpath follows every symlink that exists so far: a link inside the root that points out is caught.
        real = os.path.realpath(candidate)
        if not _is_inside(real, str(self._path)):
            raise UnsafePath(
                f"Path {text!r} leads outside {self._path} (to {real}).",
                "Remove the symlink or choose a path inside the library.",
            )
        return Path(real)

    def resolver(self) -> Callable[[str], str]:
        """Return a resolve() for many files: each folder is resolved (and guarded) once, names are checked.

        For trees of hundreds of thousands of files, where realpath on every file cost most of a write. The
        name itself is only checked as one component: a symlink there is replaced by a write, not followed.
        """

        @functools.lru_cache(maxsize=8192)
        def folder(rel: str) -> str:
            return str(self.resolve(rel)) if rel else str(self._path)

        def resolve(rel: str) -> str:
            head, _, name = rel.rpartition("/")
            if (
                name in ("", ".", "..")
                or "\\" in name
                or "\0" in name
                or len(os.fsencode(name)) > MAX_NAME_BYTES
            ):
                return str(self.resolve(rel))  # the full check raises the right error
            return os.path.join(folder(head), name)

        return resolve

    def safe_path(self, *parts: str) -> Path:
        """Sanitise each part as one name, then resolve the joined path inside the root."""
        return self.resolve(PurePosixPath(*(sanitize_name(part) for part in parts)))

    def relative(self, path: Path) -> PurePosixPath:
        """Return path relative to the root, as a POSIX path; raise UnsafePath if it is not inside."""
        root = str(self._path)
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            if _is_inside(candidate, root):
                return PurePosixPath(Path(candidate).relative_to(self._path).as_posix())
        raise UnsafePath(f"Path {path} is not inside {self._path}.", "Use a path inside the library.")
