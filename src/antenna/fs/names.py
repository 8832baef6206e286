"""Safe file names: one path component that every OS and media server accepts, capped in UTF-8 bytes.

Pure: no I/O, stdlib only. Names come from feeds and providers, so anything may arrive here.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from antenna.errors import UnsafePath

MAX_NAME_BYTES = 255
# A suffix longer than this is more likely part of a title ("Mr. Robot: The End") than a real extension.
MAX_EXTENSION_BYTES = 16
REPLACEMENT = "_"

# Windows refuses these characters in names; Samba/SMB shares of a Linux library hit the same wall.
_FORBIDDEN = frozenset('/\\:*?"<>|')
# Windows reserves these stems with any extension ("con.txt"); the superscript digits count too.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{kind}{digit}" for kind in ("COM", "LPT") for digit in "123456789¹²³"}
)
_SEPARATORS = re.compile(r"[/\\]")


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut text to at most max_bytes of UTF-8 without splitting a character."""
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, not {max_bytes}")
    # surrogatepass: lone surrogates count as 3 bytes instead of raising; sanitize_name removes them anyway.
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    end = max_bytes
    while end > 0 and (encoded[end] & 0xC0) == 0x80:  # a continuation byte: back up to the char start
        end -= 1
    return encoded[:end].decode("utf-8", "surrogatepass")


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# _FORBIDDEN, and the categories Cc (C0/C1 controls and DEL) and Cs (lone surrogates, which cannot be
# encoded as a file name at all), as one class: a regex, as a per-character test cost most of a VOD export's
# naming. A test checks it against unicodedata.category over every code point.
_BAD_CHARS = re.compile('[/\\\\:*?"<>|\x00-\x1f\x7f-\x9f\ud800-\udfff]')


def _first_segment(name: str) -> str:
    return name.split(".", 1)[0]


def _is_reserved(name: str) -> bool:
    # Windows ignores trailing spaces before the dot: "CON .txt" is still the console device.
    return _first_segment(name).rstrip(" ").upper() in _RESERVED


def _extension(name: str) -> str:
    dot = name.rfind(".")
    if dot <= 0:
        return ""
    ext = name[dot:]
    if len(ext) < 2 or " " in ext or _byte_len(ext) > MAX_EXTENSION_BYTES:
        return ""
    return ext


def _truncate_name(name: str, max_bytes: int) -> str:
    ext = _extension(name)
    if ext:
        budget = max_bytes - _byte_len(ext)
        stem = truncate_utf8(name[: -len(ext)], budget) if budget > 0 else ""
        if stem:
            return stem + ext
    # No room for the extension: a readable start of the name beats a bare extension (a hidden ".mkv").
    return truncate_utf8(name, max_bytes).rstrip(" .")


def _clean(name: str, max_bytes: int) -> str:
    """Sanitise a name; "" when nothing usable is left."""
    name = unicodedata.normalize("NFC", name)
    name = _BAD_CHARS.sub(REPLACEMENT, name)
    # Leading dots hide files (and ".."/"." are not names); Windows drops trailing dots and spaces silently.
    name = name.lstrip(" .").rstrip(" .")
    if not name:
        return ""
    if _is_reserved(name):
        first = _first_segment(name)
        name = first + REPLACEMENT + name[len(first) :]
    if _byte_len(name) > max_bytes:
        name = _truncate_name(name, max_bytes)
        if name and _is_reserved(name):
            # Truncation cut "CONSOLE" back to "CON": swap its last char instead, which cannot add bytes.
            first = _first_segment(name)
            name = first[:-1] + REPLACEMENT + name[len(first) :]
    return name


def sanitize_name(name: str, *, max_bytes: int = MAX_NAME_BYTES, fallback: str = REPLACEMENT) -> str:
    """Turn any text into one safe path component of at most max_bytes UTF-8 bytes."""
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, not {max_bytes}")
    if fallback != REPLACEMENT and (not fallback or _clean(fallback, max_bytes) != fallback):
        raise ValueError(f"fallback {fallback!r} is not itself a safe name of at most {max_bytes} bytes")
    return _clean(name, max_bytes) or fallback


def sanitize_relpath(path: str, *, max_bytes: int = MAX_NAME_BYTES) -> PurePosixPath:
    """Turn a relative path from outside into safe components; refuse "..", absolute or empty paths."""
    if path.startswith(("/", "\\")):
        raise UnsafePath(f"Path {path!r} is absolute.", "Use a path relative to the library folder.")
    parts = [part for part in _SEPARATORS.split(path) if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"Path {path!r} goes up with '..'.", "Use a path inside the library folder.")
    if not parts:
        raise UnsafePath(f"Path {path!r} names no file.", "Give a file or folder name.")
    return PurePosixPath(*(sanitize_name(part, max_bytes=max_bytes) for part in parts))
