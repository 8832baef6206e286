"""Pure VOD export decisions: which files a catalogue makes, and what to do about the files written before.

`movie_files` and `series_files` give the tree of one item (paths relative to the output root, contents as
bytes, and the item and role each file belongs to, which is how a renamed item's files are moved in place).
Files no item makes any more are cleanup candidates, removed only by `cleanup_decision`'s verdict.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from antenna.formats.vod_nfo import (
    render_episode,
    render_movie,
    render_season_nfo,
    render_strm,
    render_tvshow,
)
from antenna.vod.models import Cleanup, Movie, Naming, Series, VodFilter
from antenna.vod.naming import (
    NFO,
    STRM,
    clean_title,
    distinct,
    episode_base,
    movie_base,
    season_folder,
    series_folder,
)

UrlFor = Callable[[str, str], str]  # (stream id, extension) -> what the .strm holds


@dataclass(frozen=True, slots=True)
class TreeFile:
    """One file of the tree: where, what, and which item and role it belongs to (for renames and reports)."""

    path: str
    data: bytes
    item: str  # "movie:ID", "series:ID", "episode:ID"
    role: str  # "strm", "nfo", "tvshow", "season:N"
    series: str = ""  # the series id a series' own and its episodes' files belong to

    @property
    def digest(self) -> str:
        """Return the fingerprint the manifest keeps instead of the content."""
        return hashlib.blake2b(self.data, digest_size=16).hexdigest()


def keep(title: str, year: int | None, category_id: str, category: str, rules: VodFilter) -> bool:
    """Return True when a title passes the source's filters (categories by id or name, years, regex)."""
    wanted = {c.casefold() for c in rules.include_categories}
    if wanted and category_id.casefold() not in wanted and category.casefold() not in wanted:
        return False
    unwanted = {c.casefold() for c in rules.exclude_categories}
    if unwanted and (category_id.casefold() in unwanted or category.casefold() in unwanted):
        return False
    if rules.year_min is not None and (year is None or year < rules.year_min):
        return False
    if rules.year_max is not None and (year is None or year > rules.year_max):
        return False
    return not rules.title_regex or re.search(rules.title_regex, title, re.IGNORECASE) is not None


def movie_files(movie: Movie, naming: Naming, url_for: UrlFor, taken: set[str]) -> list[TreeFile]:
    """Return a movie's .strm and .nfo in `Movies/<name>/<name>.*`; taken holds the names used so far."""
    title = clean_title(movie.title, naming.clean_rules)
    base = distinct(movie_base(title, movie.year, movie.tmdb, naming), taken, movie.stream_id)
    folder = f"{naming.movies_folder}/{base}"
    item = f"movie:{movie.stream_id}"
    nfo = render_movie(
        title,
        movie.year,
        tmdb=movie.tmdb,
        imdb=movie.imdb,
        plot=movie.plot,
        genre=movie.genre,
        rating=movie.rating,
        poster=movie.poster,
    )
    return [
        TreeFile(
            f"{folder}/{base}{STRM}", render_strm(url_for(movie.stream_id, movie.extension)), item, "strm"
        ),
        TreeFile(f"{folder}/{base}{NFO}", nfo, item, "nfo"),
    ]


def series_folders(listed: Iterable[Series], naming: Naming) -> dict[str, str]:
    """Return each listed series' folder name, given in series-id order so duplicates resolve the same way
    every run (whether or not a series' details are fetched this time)."""
    taken: set[str] = set()
    folders = {}
    for show in sorted(listed, key=lambda s: _number_first(s.series_id)):
        title = clean_title(show.title, naming.clean_rules)
        folders[show.series_id] = distinct(
            series_folder(title, show.year, show.tmdb, naming), taken, show.series_id
        )
    return folders


def series_files(series: Series, naming: Naming, url_for: UrlFor, folder_name: str) -> list[TreeFile]:
    """Return a series' tvshow.nfo, season.nfo files and each episode's .strm and .nfo (one base name)."""
    title = clean_title(series.title, naming.clean_rules)
    folder = f"{naming.series_folder}/{folder_name}"
    item, sid = f"series:{series.series_id}", series.series_id
    tvshow = render_tvshow(
        title, series.year, tmdb=series.tmdb, imdb=series.imdb, plot=series.plot, genre=series.genre,
        poster=series.poster,
    )  # fmt: skip
    files = [TreeFile(f"{folder}/tvshow.nfo", tvshow, item, "tvshow", sid)]
    seasons: set[int] = set()
    names: set[str] = set()
    for ep in series.episodes:
        season = season_folder(ep.season)
        if ep.season not in seasons:
            seasons.add(ep.season)
            label = "Specials" if ep.season == 0 else f"Season {ep.season}"
            files.append(
                TreeFile(
                    f"{folder}/{season}/season.nfo",
                    render_season_nfo(ep.season, label),
                    item,
                    f"season:{ep.season}",
                    sid,
                )
            )
        base = distinct(episode_base(title, ep.season, ep.episode, ep.title, naming), names, ep.stream_id)
        episode = f"episode:{ep.stream_id}"
        nfo = render_episode(
            ep.title, title, ep.season, ep.episode, plot=ep.plot, aired=ep.aired, thumb=ep.thumb
        )
        files.append(
            TreeFile(
                f"{folder}/{season}/{base}{STRM}",
                render_strm(url_for(ep.stream_id, ep.extension)),
                episode,
                "strm",
                sid,
            )
        )
        files.append(TreeFile(f"{folder}/{season}/{base}{NFO}", nfo, episode, "nfo", sid))
    return files


@dataclass(frozen=True, slots=True)
class CleanupVerdict:
    """Whether stale files go, and why not when they stay."""

    remove: bool
    reason: str


def cleanup_decision(
    mode: Cleanup, stale: int, tree: int, *, complete: bool, threshold: float, force: bool
) -> CleanupVerdict:
    """Decide a run's cleanup: Apply is refused after an incomplete fetch or past the share threshold."""
    if mode is Cleanup.OFF or stale == 0:
        return CleanupVerdict(False, "cleanup off" if mode is Cleanup.OFF else "nothing to remove")
    if mode is Cleanup.PREVIEW:
        return CleanupVerdict(False, f"preview: {stale} files would be removed")
    if not complete and not force:
        return CleanupVerdict(
            False, "refused: the catalogue was not fetched completely, so nothing is removed"
        )
    share = stale / tree if tree else 1.0
    if share > threshold and not force:
        return CleanupVerdict(
            False,
            f"refused: {stale} of {tree} files ({share:.0%}) would go, more than {threshold:.0%}; "
            "run with --force if the provider really dropped them",
        )
    return CleanupVerdict(True, f"{stale} files removed")


def movie_chunks(
    movies: Iterable[Movie], naming: Naming, url_for: UrlFor, size: int = 1000
) -> Iterator[list[TreeFile]]:
    """Yield the movies' files a chunk at a time, in provider-id order (stable names for duplicates)."""
    taken: set[str] = set()
    chunk: list[TreeFile] = []
    for movie in sorted(movies, key=_id_order):
        chunk.extend(movie_files(movie, naming, url_for, taken))
        if len(chunk) >= 2 * size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def all_files(
    movies: Iterable[Movie], series: Iterable[Series], naming: Naming, movie_url: UrlFor, episode_url: UrlFor
) -> Iterator[TreeFile]:
    """Yield the whole tree: movies in provider-id order, then series (stable names for duplicates)."""
    for chunk in movie_chunks(movies, naming, movie_url):
        yield from chunk
    shows = list(series)
    folders = series_folders(shows, naming)
    for show in sorted(shows, key=lambda s: _number_first(s.series_id)):
        yield from series_files(show, naming, episode_url, folders[show.series_id])


def _id_order(movie: Movie) -> tuple[int, str]:
    return _number_first(movie.stream_id)


def _number_first(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)
