"""Reading a source's catalogue: an Xtream account (series details only for series that changed) or an M3U.

Strictly read-only towards the provider. A series whose details cannot be fetched keeps its files from the
last run and marks the catalogue incomplete, so a cleanup never removes what a flaky provider did not list.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from antenna.clients.http_source import fetch
from antenna.errors import AntennaError, UserError
from antenna.formats.guide import ParseWarning
from antenna.formats.m3u import decode_lines, iter_m3u
from antenna.vod import run_log
from antenna.vod.m3u_vod import vod_entries
from antenna.vod.models import Movie, Series, VodSourceConfig
from antenna.vod.naming import clean_title
from antenna.vod.plan import keep, series_folders

log = logging.getLogger(__name__)


class VodClient(Protocol):
    """What the export needs of an Xtream VOD client (clients/xtream_vod.py)."""

    complete: bool

    def __enter__(self) -> VodClient: ...
    def __exit__(self, *exc: object) -> None: ...
    def movies(self) -> list[Movie]: ...
    def movie_info(self, movie: Movie) -> Movie: ...
    def series_list(self) -> list[Series]: ...
    def series_info(self, series: Series) -> Series: ...
    def movie_url(self, stream_id: str, extension: str) -> str: ...
    def episode_url(self, stream_id: str, extension: str) -> str: ...


@dataclass(slots=True)
class Catalogue:
    """What a source offers this run, after the filters."""

    movies: list[Movie] = field(default_factory=list)
    listed: list[Series] = field(
        default_factory=list
    )  # every series passing the filters (names come from here)
    series: list[Series] = field(default_factory=list)  # those to write: with episodes, or to fetch them for
    kept: set[str] = field(default_factory=set)  # series not fetched again (unchanged, or failed this time)
    recheck: set[str] = field(default_factory=set)  # unchanged series whose files are not all on disk
    details: Callable[[Series], Series] | None = (
        None  # fetches a series' episodes (Xtream); None: it has them
    )
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    listed_series: int = 0
    folders: dict[str, str] = field(default_factory=dict)  # series id -> folder name (Xtream)
    movie_url: Callable[[str, str], str] | None = None  # the provider URL of a movie (Xtream)
    episode_url: Callable[[str, str], str] | None = None


Progress = Callable[[int, int, str], None]
SeriesState = tuple[int, int, str]  # last_modified the provider said, files written, folders' stamp


def _wanted(config: VodSourceConfig, title: str, year: int | None, category_id: str, category: str) -> bool:
    wanted = keep(clean_title(title, config.naming.clean_rules), year, category_id, category, config.filter)
    if not wanted:
        run_log.say(
            f"left out by the filters: {title!r} ({year or 'no year'}, category {category or category_id})"
        )
    return wanted


def from_xtream(
    config: VodSourceConfig,
    client: VodClient,
    states: Mapping[str, SeriesState],
    scope: str,
    progress: Progress,
    check_cancelled: Callable[[], None],
    present: Callable[[str, SeriesState], bool] = lambda folder, state: True,
) -> Catalogue:
    """Read an Xtream account: movies, the series list, and details of the series that changed.

    A series the provider says is unchanged is skipped (no details call, no writes) when `present` says its
    folder still holds the files written for it; otherwise it is fetched and written again.
    """
    out = Catalogue(movie_url=client.movie_url, episode_url=client.episode_url)
    if scope in ("all", "movies"):
        progress(0, 1, "reading the movies")
        out.movies = [
            m for m in client.movies() if _wanted(config, m.title, m.year, m.category_id, m.category)
        ]
        out.complete = client.complete
        if config.rich_nfo:
            out.movies = _details(config, client.movie_info, out.movies, out)
    if scope in ("all", "series"):
        check_cancelled()
        progress(0, 1, "reading the series")
        listed = [
            s for s in client.series_list() if _wanted(config, s.title, s.year, s.category_id, s.category)
        ]
        out.listed_series = len(listed)
        out.folders = series_folders(listed, config.naming)
        changed = []
        for show in listed:
            before = states.get(show.series_id)
            if (
                before is not None
                and show.last_modified
                and before[0] == show.last_modified
                and before[1] > 0
            ):
                if present(out.folders[show.series_id], before):
                    out.kept.add(show.series_id)  # the provider says nothing changed: no details, no writes
                    run_log.say(f"series {show.series_id} {show.title!r}: unchanged and its files are there")
                    continue
                out.recheck.add(show.series_id)  # files went missing: compared with the disk this time
                run_log.say(
                    f"series {show.series_id} {show.title!r}: unchanged, files missing: fetched again"
                )
            else:
                run_log.say(f"series {show.series_id} {show.title!r}: new or changed: fetched")
            changed.append(show)
        out.listed = listed
        out.series = changed
        out.details = client.series_info
    return out


def with_episodes(
    config: VodSourceConfig, found: Catalogue, check_cancelled: Callable[[], None]
) -> Iterator[Series]:
    """Yield the series to write with their episodes, in list order, fetching details a few ahead.

    A series whose details cannot be fetched is left out and kept (its files stay), and the catalogue is
    marked incomplete, so this run's cleanup removes nothing.
    """
    if found.details is None:
        yield from found.series
        return
    workers = max(1, config.provider_workers)
    pending: deque[tuple[Series, Future[Series]]] = deque()
    shows = iter(found.series)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            while len(pending) < 4 * workers:
                show = next(shows, None)
                if show is None:
                    break
                pending.append((show, pool.submit(found.details, show)))
            if not pending:
                return
            show, future = pending.popleft()
            try:
                yield future.result()
            except AntennaError as exc:
                found.complete = False
                found.problems.append(f"{show.title}: {exc}")
                found.kept.add(show.series_id)
            check_cancelled()


def _details(
    config: VodSourceConfig, call: Callable[[Movie], Movie], movies: list[Movie], out: Catalogue
) -> list[Movie]:
    """Return the movies with their richer details, fetched with the provider's own concurrency.

    A movie whose details fail stays as listed (the catalogue is still complete: nothing is missing from it).
    """

    def one(movie: Movie) -> Movie:
        try:
            return call(movie)
        except AntennaError as exc:
            out.problems.append(f"{movie.title}: {exc}")
            return movie

    with ThreadPoolExecutor(max_workers=max(1, config.provider_workers)) as pool:
        return list(pool.map(one, movies))


def from_m3u(config: VodSourceConfig, scope: str) -> Catalogue:
    """Read an M3U (file or URL): its /movie/ entries as movies, its /series/ entries grouped as series."""
    warnings: list[ParseWarning] = []
    with _lines(config.m3u) as lines:
        rules = config.naming.clean_rules
        movies, series, skipped = vod_entries(
            iter_m3u(lines, warnings), lambda title: clean_title(title, rules)
        )
    out = Catalogue()
    if scope in ("all", "movies"):
        out.movies = [m for m in movies if _wanted(config, m.title, m.year, m.category_id, m.category)]
    if scope in ("all", "series"):
        out.series = [s for s in series if _wanted(config, s.title, s.year, s.category_id, s.category)]
        out.listed = out.series
        out.listed_series = len(out.series)
    if skipped:
        out.problems.append(f"{skipped} VOD entries without a usable name or episode number were skipped")
    return out


@contextlib.contextmanager
def _lines(location: str) -> Iterator[Iterator[str]]:
    """Yield the lines of a playlist file or URL."""
    if "://" in location:
        with fetch(location) as (_fetched, chunks):
            yield decode_lines(chunks)
        return
    path = Path(location).expanduser()
    if not path.is_file():
        raise UserError(f"The playlist {location} does not exist.", "Give a file path or an http(s) URL.")
    with path.open("rb") as stream:
        yield decode_lines(iter(lambda: stream.read(1 << 18), b""))
