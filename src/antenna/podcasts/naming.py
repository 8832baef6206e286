"""Library names for podcast episodes: `Season YYYY/<Show> - SYYYYEMMDDNN - <Title>.<ext>` and siblings.

Numbers and names are fixed when an episode is first queued (renaming later loses watch state), so these
functions must give the same answer for the same input forever. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from antenna.fs.names import MAX_NAME_BYTES, sanitize_name, truncate_utf8

SHOW_FALLBACK = "Podcast"
MAX_SAME_DAY = 99  # two digits of the episode number
THUMB_SUFFIX = "-thumb.jpg"
# The media name leaves room for its "-thumb.jpg" and ".nfo" siblings, which must fit the same byte cap.
_MAX_STEM_BYTES = MAX_NAME_BYTES - len(THUMB_SUFFIX)
_MIN_TITLE_BYTES = 64
_DEFAULT_EXTENSION = "mp3"
MEDIA_EXTENSIONS = frozenset(
    {"mp3", "m4a", "m4b", "aac", "ogg", "oga", "opus", "flac", "wav", "wma", "mka", "weba"}
    | {"mp4", "m4v", "mov", "mkv", "webm", "avi", "wmv", "mpg", "mpeg", "3gp", "ts", "flv"}
)
_MIME_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mpeg3": "mp3",
    "audio/x-mpeg": "mp3",
    "audio/x-mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4b": "m4b",
    "audio/aac": "aac",
    "audio/aacp": "aac",
    "audio/x-aac": "aac",
    "audio/ogg": "ogg",
    "audio/vorbis": "ogg",
    "audio/opus": "opus",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/x-ms-wma": "wma",
    "audio/webm": "weba",
    "video/mp4": "mp4",
    "video/x-m4v": "m4v",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
    "video/mpeg": "mpg",
    "video/3gpp": "3gp",
    "video/mp2t": "ts",
}
_MAX_EXTENSION = 8
_EXTENSION_CHARS = re.compile(r"[^a-z0-9]")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def show_folder_name(title: str) -> str:
    """Return the show folder's name for a feed title."""
    return sanitize_name(_one_line(title), fallback=SHOW_FALLBACK)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def episode_numbers(published: datetime, same_day_index: int) -> tuple[int, int]:
    """Return (season, episode) = (year, MMDDNN) for the same_day_index-th (from 1) episode of a UTC day."""
    if not 1 <= same_day_index <= MAX_SAME_DAY:
        raise ValueError(f"same_day_index must be 1..{MAX_SAME_DAY}, not {same_day_index}")
    day = _utc(published)
    return day.year, day.month * 10_000 + day.day * 100 + same_day_index


def next_same_day_index(published_day: date, taken: Iterable[tuple[int, int]]) -> int:
    """Return the index for a new episode of that day: one past the highest taken, else the lowest gap."""
    base = published_day.month * 10_000 + published_day.day * 100
    used = {
        episode - base
        for season, episode in taken
        if season == published_day.year and base < episode <= base + MAX_SAME_DAY
    }
    # Never reusing a lower number keeps a new episode from inheriting a deleted one's watch state.
    highest = max(used, default=0)
    if highest < MAX_SAME_DAY:
        return highest + 1
    for index in range(1, MAX_SAME_DAY + 1):
        if index not in used:
            return index
    raise ValueError(f"all {MAX_SAME_DAY} episode numbers of {published_day.isoformat()} are taken")


def season_folder_name(season: int) -> str:
    """Return "Season YYYY"."""
    return f"Season {season:04d}"


def _clean_extension(ext: str) -> str:
    return _EXTENSION_CHARS.sub("", ext.lower())[:_MAX_EXTENSION] or "bin"


def _fit(text: str, max_bytes: int) -> str:
    """Cut a sanitised piece to max_bytes without leaving a trailing space or dot."""
    return truncate_utf8(text, max(max_bytes, 0)).rstrip(" .")


def episode_relpath(show: str, season: int, episode: int, title: str, ext: str) -> PurePosixPath:
    """Return `Season YYYY/<Show> - SYYYYEMMDDNN - <Title>.<ext>`, capped in bytes (title cut first)."""
    if not 0 <= season <= 9999 or not 0 <= episode <= 999_999:
        raise ValueError(f"season {season} / episode {episode} out of range for SYYYYEMMDDNN")
    ext = _clean_extension(ext)
    marker = f"S{season:04d}E{episode:06d}"
    show_part = sanitize_name(_one_line(show), fallback=SHOW_FALLBACK)
    title_part = sanitize_name(_one_line(title), fallback="_")
    if title_part == "_":  # nothing usable in the title: the name ends at the marker
        title_part = ""
    fixed = f" - {marker}"
    room = _MAX_STEM_BYTES - len(fixed) - (3 if title_part else 0)  # bytes left for show and title
    show_bytes, title_bytes = len(show_part.encode()), len(title_part.encode())
    if show_bytes + title_bytes > room:
        # The title goes first, but keeps a readable start when the show name alone is very long.
        title_part = _fit(title_part, max(room - show_bytes, min(title_bytes, _MIN_TITLE_BYTES)))
        show_part = _fit(show_part, room - len(title_part.encode())) or SHOW_FALLBACK
    stem = f"{show_part}{fixed} - {title_part}" if title_part else f"{show_part}{fixed}"
    return PurePosixPath(season_folder_name(season), f"{stem}.{ext}")


def _stem(media_name: str) -> str:
    name = PurePosixPath(media_name).name
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def thumb_name(media_name: str) -> str:
    """Return `<basename>-thumb.jpg`, the episode thumbnail Kodi, Jellyfin and Plex pick up."""
    return _fit(_stem(media_name), _MAX_STEM_BYTES) + THUMB_SUFFIX


def nfo_name(media_name: str) -> str:
    """Return `<basename>.nfo`, the episode NFO's name."""
    return _fit(_stem(media_name), MAX_NAME_BYTES - 4) + ".nfo"


def season_poster_name(season: int) -> str:
    """Return `season<YYYY>-poster.jpg`, the season poster name the servers' local-asset readers use."""
    return f"season{season:04d}-poster.jpg"


def media_extension(url: str, mime_type: str) -> str:
    """Return the media file's extension: the URL's when it is a known media one, else the MIME type's."""
    try:
        path = unquote(urlsplit(url.strip()).path)
    except ValueError:
        path = ""
    last = path.rsplit("/", 1)[-1]
    if "." in last:
        ext = last.rsplit(".", 1)[1].strip().lower()
        if ext in MEDIA_EXTENSIONS:
            return ext
    mime = mime_type.split(";", 1)[0].strip().lower()
    return _MIME_EXTENSIONS.get(mime, _DEFAULT_EXTENSION)
