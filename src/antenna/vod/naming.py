"""Names of the VOD tree: cleaned titles, ID tags, folder and file names that every server pairs up.

Pure: no I/O. Every name is one safe path component (fs.names.sanitize_name); a .strm and its .nfo always
share one base name, cut short enough for the longer of the two extensions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from antenna.fs.names import MAX_NAME_BYTES, sanitize_name
from antenna.vod.models import IdStyle, Naming

STRM, NFO = ".strm", ".nfo"
BASE_BYTES = MAX_NAME_BYTES - max(len(STRM), len(NFO))  # room for either extension
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_SPACES = re.compile(r"\s+")
_DANGLING = re.compile(r"^[\s\-–.]+|[\s\-–]+$")


@functools.lru_cache(maxsize=64)
def _rules(rules: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rule) for rule in rules)


def clean_title(title: str, rules: Sequence[str]) -> str:
    """Return a provider title without its tags ("|FR| Title" -> "Title"); the original if nothing is left."""
    text = _SPACES.sub(" ", title).strip()
    for pattern in _rules(tuple(rules)):
        cut = pattern.sub("", text, count=1).strip()
        if cut:
            text = cut
    return text or title.strip()


def id_tag(tmdb: str, style: IdStyle) -> str:
    """Return the folder tag carrying a TMDB id in the style the media server reads, or ""."""
    if not tmdb or style is IdStyle.NONE:
        return ""
    return f"{{tmdb-{tmdb}}}" if style is IdStyle.PLEX else f"[tmdbid-{tmdb}]"


def fill(template: str, **values: object) -> str:
    """Fill a naming template; empty parts leave no "()", doubled spaces or dangling dashes behind."""
    try:
        text = template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"naming template {template!r} cannot be filled: {exc}") from None
    text = _EMPTY_BRACKETS.sub("", text)
    return _DANGLING.sub("", _SPACES.sub(" ", text)).strip()


def component(text: str, *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """Return text as one safe path component."""
    return sanitize_name(text, max_bytes=max_bytes)


def movie_base(title: str, year: int | None, tmdb: str, naming: Naming) -> str:
    """Return a movie's folder name, which is also the base name of its .strm and .nfo."""
    name = fill(naming.movie_template, title=title, year=year or "", id=id_tag(tmdb, naming.id_style))
    return component(name or title, max_bytes=BASE_BYTES)


def series_folder(title: str, year: int | None, tmdb: str, naming: Naming) -> str:
    """Return a series' folder name."""
    name = fill(naming.series_template, title=title, year=year or "", id=id_tag(tmdb, naming.id_style))
    return component(name or title)


def season_folder(season: int) -> str:
    """Return "Season 01", or "Season 00 (Specials)" for season 0 (Jellyfin, Kodi and Plex all read it)."""
    return "Season 00 (Specials)" if season == 0 else f"Season {season:02d}"


def episode_base(series: str, season: int, episode: int, title: str, naming: Naming) -> str:
    """Return an episode's base name: the same for its .strm and its .nfo, as Jellyfin and Kodi pair them."""
    name = fill(naming.episode_template, series=series, season=season, episode=episode, title=title)
    return component(name, max_bytes=BASE_BYTES)


def distinct(name: str, taken: set[str], discriminator: str) -> str:
    """Return name, or name with the provider id when another item already has it (case-blind, as SMB is).

    The first item in provider-id order keeps the plain name, so the same catalogue gives the same names.
    """
    key = name.casefold()
    if key not in taken:
        taken.add(key)
        return name
    suffix = f" [{component(discriminator)}]"
    head = component(name, max_bytes=BASE_BYTES - len(suffix.encode()))
    unique = head + suffix
    taken.add(unique.casefold())
    return unique
