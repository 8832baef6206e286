"""Movies and series from an M3U playlist's VOD entries (`/movie/` and `/series/` URLs). Pure.

Episodes carry their season and number only in the title ("Show S01E02", "Show 1x02", "Show Season 1
Episode 2"); the series is the text before that mark, so entries of one show group together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from antenna.formats.m3u import M3UEntry
from antenna.vod.models import Episode, Movie, Series

_MARKS = (
    re.compile(r"\bS(?P<season>\d{1,3})\s*[.\-]?\s*E(?P<episode>\d{1,4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<season>\d{1,2})x(?P<episode>\d{1,4})\b", re.IGNORECASE),
    re.compile(r"\bSeason\s*(?P<season>\d{1,3})\s*[,.\-]?\s*Episode\s*(?P<episode>\d{1,4})\b", re.IGNORECASE),
)
_YEAR = re.compile(r"[(\[]((?:19|20)\d\d)[)\]]\s*$|\s-\s((?:19|20)\d\d)\s*$")
_EDGES = " -–:|."


def episode_mark(title: str) -> tuple[str, int, int, str] | None:
    """Split "Show S01E02 - Title" into (show, season, episode, title), or None without a mark."""
    for pattern in _MARKS:
        m = pattern.search(title)
        if m is not None:
            show = title[: m.start()].strip(_EDGES + " ")
            rest = title[m.end() :].strip(_EDGES + " ")
            return show, int(m.group("season")), int(m.group("episode")), rest
    return None


def title_year(title: str) -> tuple[str, int | None]:
    """Split "Title (2001)" into ("Title", 2001); the year stays in titles that only contain one."""
    m = _YEAR.search(title)
    if m is None:
        return title.strip(), None
    head = title[: m.start()].strip(_EDGES + " ")
    return (head, int(m.group(1) or m.group(2))) if head else (title.strip(), None)


def _stream(url: str) -> tuple[str, str]:
    """Return (stream id, extension) from the last part of a VOD URL."""
    name = unquote(urlsplit(url.split("|", 1)[0]).path.rsplit("/", 1)[-1])
    stem, dot, ext = name.rpartition(".")
    return (stem, ext.lower()) if dot and stem and 1 <= len(ext) <= 5 else (name, "mp4")


def vod_entries(
    entries: Iterable[M3UEntry], clean: Callable[[str], str] = str.strip
) -> tuple[list[Movie], list[Series], int]:
    """Return the movies, the series (grouped by show, its name cleaned first) and how many entries failed."""
    movies: list[Movie] = []
    shows: dict[str, tuple[Series, list[Episode]]] = {}
    skipped = 0
    for entry in entries:
        path = urlsplit(entry.url).path
        group = entry.groups[0] if entry.groups else ""
        stream_id, ext = _stream(entry.url)
        if "/movie/" in path:
            title, year = title_year(entry.name)
            if not stream_id or not title:
                skipped += 1
                continue
            movies.append(
                Movie(
                    stream_id,
                    title,
                    year,
                    ext,
                    category=group,
                    category_id=group,
                    poster=entry.tvg_logo,
                    url=entry.url,
                )
            )
        elif "/series/" in path:
            mark = episode_mark(entry.name)
            if mark is None or not stream_id or not mark[0]:
                skipped += 1
                continue
            show_title, season, number, episode_title = mark
            name, year = title_year(clean(show_title))
            key = f"{name.casefold()}|{year or ''}"
            if key not in shows:
                shows[key] = (
                    Series(key, name, year, category=group, category_id=group, poster=entry.tvg_logo),
                    [],
                )
            shows[key][1].append(Episode(stream_id, season, number, episode_title, ext, url=entry.url))
    series: list[Series] = []
    for found, episodes in shows.values():
        seen: set[tuple[int, int]] = set()
        unique = []
        for ep in sorted(episodes, key=lambda e: (e.season, e.episode)):
            if (ep.season, ep.episode) not in seen:  # several streams for one episode: the first wins
                seen.add((ep.season, ep.episode))
                unique.append(ep)
        series.append(replace(found, episodes=tuple(unique)))
    return movies, series, skipped
