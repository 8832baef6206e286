"""A read-only Xtream Codes VOD client: movie and series catalogues, episode lists and play URLs."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from antenna.clients.xtream import XtreamAccount, XtreamClient, _int, _items, _text, normalise_server
from antenna.errors import Unavailable
from antenna.vod.models import Episode, Movie, Series

log = logging.getLogger(__name__)

BACKOFF = (0.5, 1.0, 2.0, 4.0)  # seconds before each retry of a 429 or 5xx answer
MAX_RETRY_AFTER = 10.0
_NO_ID = {"", "0", "null", "none"}
_YEAR = re.compile(r"(?<!\d)(\d{4})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Retryable(Unavailable):
    """A 429 or 5xx answer, which a later try may get past."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _timed_out(exc: Unavailable) -> bool:
    """Return True when the error came from a request timing out."""
    # XtreamClient raises `from None`, which hides the cause from tracebacks but keeps it in __context__.
    return isinstance(exc.__context__, httpx.TimeoutException)


def _retry_after(response: httpx.Response) -> float | None:
    """Return a Retry-After header given in seconds, capped; None when absent or an HTTP date."""
    try:
        return min(max(float(response.headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


def _info(value: Any) -> Mapping[str, Any]:
    """Return an `info` object; panels send [] (PHP's empty array) for an empty one."""
    return value if isinstance(value, dict) else {}


def _first(item: Mapping[str, Any], *keys: str) -> str:
    """Return the first non-empty text among the keys."""
    for key in keys:
        text = _text(item.get(key))
        if text:
            return text
    return ""


def _ident(item: Mapping[str, Any], *keys: str) -> str:
    """Return an external id (TMDB, IMDb); "", 0 and "0" mean the provider has none."""
    for key in keys:
        text = _text(item.get(key))
        if text.lower() not in _NO_ID:
            return text
    return ""


def _year(item: Mapping[str, Any], *keys: str) -> int | None:
    """Return the first plausible year (1900..2100) among the keys' values (a year or a date)."""
    for key in keys:
        match = _YEAR.search(_text(item.get(key)))
        if match and 1900 <= int(match[1]) <= 2100:
            return int(match[1])
    return None


def _category(item: Mapping[str, Any]) -> str:
    """Return category_id, or the first of category_ids when only that is given."""
    category_id = _text(item.get("category_id"))
    ids = item.get("category_ids")
    if not category_id and isinstance(ids, list) and ids:
        category_id = _text(ids[0])
    return category_id


def _extension(value: Any) -> str:
    return _text(value).lstrip(".") or "mp4"


def stream_url(account: XtreamAccount, kind: str, stream_id: str, extension: str) -> str:
    """Return the play URL of a "movie" or "series" stream (it carries the credentials; redact to show it).

    No connection is needed, so the redirects build it without a client.
    """
    user, password = (quote(s, safe="") for s in (account.username, account.password))
    name = f"{quote(stream_id, safe='')}.{quote(extension.lstrip('.') or 'mp4', safe='')}"
    return f"{normalise_server(account.server)}/{kind}/{user}/{password}/{name}"


class XtreamVodClient(XtreamClient):
    """Read one Xtream account's movies and series; safe to share between threads."""

    def __init__(
        self,
        account: XtreamAccount,
        *,
        timeout: float = 30.0,
        user_agent: str = "",
        output: str = "ts",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(account, timeout=timeout, user_agent=user_agent, output=output)
        self.skipped = 0  # entries without an id or name since the client was made, over all threads
        self.complete = True  # False when the last movies() could not read every category
        self._sleep = sleep
        self._count_lock = threading.Lock()

    def __enter__(self) -> XtreamVodClient:
        return self

    # -- requests -----------------------------------------------------------------------------------------

    def _check_status(self, response: httpx.Response, what: str) -> None:
        """Mark 429 and 5xx answers as worth another try; otherwise as the live client does."""
        status = response.status_code
        if status == 429 or 500 <= status < 600:
            raise _Retryable(
                f"{self.shown} answered {status} {response.reason_phrase} for {what}.", _retry_after(response)
            )
        super()._check_status(response, what)

    def _get_json(self, what: str, **params: str) -> Any:
        """GET player_api.php, trying again after a 429 or 5xx with growing pauses."""
        attempt = 0
        while True:
            try:
                return super()._get_json(what, **params)
            except _Retryable as exc:
                if attempt >= len(BACKOFF):
                    raise
                wait = BACKOFF[attempt] if exc.retry_after is None else exc.retry_after
                attempt += 1
                log.info("%s (try %d); trying again in %g s", exc.message, attempt, wait)
                self._sleep(wait)

    def _skip(self, count: int) -> None:
        if count:
            with self._count_lock:
                self.skipped += count

    def _categories_of(self, action: str, what: str) -> dict[str, str]:
        answer = self._get_json(what, action=action)
        self._check_account(answer, what)
        out: dict[str, str] = {}
        for item in _items(answer):
            if isinstance(item, dict):
                category_id = _text(item.get("category_id"))
                if category_id:
                    out.setdefault(category_id, _text(item.get("category_name")) or category_id)
        return out

    def _list(self, what: str, **params: str) -> list[Any]:
        answer = self._get_json(what, **params)
        self._check_account(answer, what)
        items = _items(answer)
        if not items and answer not in ([], {}):
            log.warning("%s answered %s with %s, not a list", self.shown, what, type(answer).__name__)
        return items

    def _url(self, kind: str, stream_id: str, extension: str) -> str:
        return stream_url(self.account, kind, stream_id, extension)

    # -- movies -------------------------------------------------------------------------------------------

    def vod_categories(self) -> dict[str, str]:
        """Return the movie categories as {category_id: name}."""
        return self._categories_of("get_vod_categories", "the movie categories")

    def movie_url(self, stream_id: str, extension: str) -> str:
        """Return the play URL of a movie (it carries the credentials; redact before showing it)."""
        return self._url("movie", stream_id, extension)

    def movies(self, categories: Mapping[str, str] | None = None) -> list[Movie]:
        """Return every movie; a panel too slow to list them all at once is read category by category."""
        categories = dict(categories) if categories is not None else self.vod_categories()
        try:
            items = self._list("the movies", action="get_vod_streams")
            complete = True
        except Unavailable as exc:
            if not _timed_out(exc) or not categories:
                raise
            log.warning("%s; reading the movies one category at a time", exc.message)
            items, complete = self._movies_by_category(categories, exc)
        self.complete = complete
        movies: list[Movie] = []
        seen: set[str] = set()
        skipped = 0
        for item in items:
            movie = self._movie(item, categories) if isinstance(item, dict) else None
            if movie is None:
                skipped += 1
            elif movie.stream_id not in seen:  # a movie listed in two categories comes twice
                seen.add(movie.stream_id)
                movies.append(movie)
        self._skip(skipped)
        if skipped:
            log.warning("%s: skipped %d movies without a name or stream id", self.shown, skipped)
        return movies

    def _movies_by_category(self, categories: Iterable[str], first: Unavailable) -> tuple[list[Any], bool]:
        """Return the movies of each category and whether every category answered."""
        items: list[Any] = []
        failed = 0
        total = 0
        for category_id in categories:
            total += 1
            try:
                items += self._list(
                    f"the movies of category {category_id}", action="get_vod_streams", category_id=category_id
                )
            except Unavailable as exc:
                failed += 1
                log.warning("%s; the movie list will be incomplete", exc.message)
        if failed == total:
            raise first
        return items, failed == 0

    def _movie(self, item: Mapping[str, Any], categories: Mapping[str, str]) -> Movie | None:
        """Return one get_vod_streams entry as a Movie, or None without a stream id or name."""
        stream_id, title = _text(item.get("stream_id")), _text(item.get("name"))
        if not stream_id or not title:
            return None
        category_id = _category(item)
        return Movie(
            stream_id=stream_id,
            title=title,
            year=_year(item, "year", "release_date", "releasedate"),
            extension=_extension(item.get("container_extension")),
            category_id=category_id,
            category=categories.get(category_id, ""),
            tmdb=_ident(item, "tmdb", "tmdb_id"),
            imdb=_ident(item, "imdb", "imdb_id"),
            plot=_text(item.get("plot")),
            poster=_text(item.get("stream_icon")),
            genre=_text(item.get("genre")),
            rating=_text(item.get("rating")),
            added=_int(item.get("added")),
        )

    def movie_info(self, movie: Movie) -> Movie:
        """Return the movie with plot, genre, rating, TMDB id, year and poster from get_vod_info."""
        what = f"the details of movie {movie.stream_id}"
        answer = self._get_json(what, action="get_vod_info", vod_id=movie.stream_id)
        self._check_account(answer, what)
        info = _info(answer.get("info")) if isinstance(answer, dict) else {}
        changes: dict[str, Any] = {
            "plot": _first(info, "plot", "description"),
            "genre": _text(info.get("genre")),
            "rating": _text(info.get("rating")),
            "tmdb": _ident(info, "tmdb_id", "tmdb"),
            "year": _year(info, "year", "releasedate", "release_date"),
            "poster": _first(info, "movie_image", "cover_big"),
        }
        return replace(movie, **{k: v for k, v in changes.items() if v})

    # -- series -------------------------------------------------------------------------------------------

    def series_categories(self) -> dict[str, str]:
        """Return the series categories as {category_id: name}."""
        return self._categories_of("get_series_categories", "the series categories")

    def episode_url(self, stream_id: str, extension: str) -> str:
        """Return the play URL of an episode (it carries the credentials; redact before showing it)."""
        return self._url("series", stream_id, extension)

    def series_list(self, categories: Mapping[str, str] | None = None) -> list[Series]:
        """Return every series, without episodes."""
        categories = dict(categories) if categories is not None else self.series_categories()
        out: list[Series] = []
        seen: set[str] = set()
        skipped = 0
        for item in self._list("the series", action="get_series"):
            series = self._series(item, categories) if isinstance(item, dict) else None
            if series is None:
                skipped += 1
            elif series.series_id not in seen:
                seen.add(series.series_id)
                out.append(series)
        self._skip(skipped)
        if skipped:
            log.warning("%s: skipped %d series without a name or series id", self.shown, skipped)
        return out

    def _series(self, item: Mapping[str, Any], categories: Mapping[str, str]) -> Series | None:
        """Return one get_series entry as a Series, or None without a series id or name."""
        series_id, title = _text(item.get("series_id")), _text(item.get("name"))
        if not series_id or not title:
            return None
        category_id = _category(item)
        return Series(
            series_id=series_id,
            title=title,
            year=_year(item, "year", "releaseDate", "release_date", "releasedate"),
            category_id=category_id,
            category=categories.get(category_id, ""),
            tmdb=_ident(item, "tmdb", "tmdb_id"),
            imdb=_ident(item, "imdb", "imdb_id"),
            plot=_text(item.get("plot")),
            poster=_text(item.get("cover")),
            genre=_text(item.get("genre")),
            last_modified=_int(item.get("last_modified")),
        )

    def series_info(self, series: Series) -> Series:
        """Return the series with its episodes (sorted by season and episode) from get_series_info."""
        what = f"the episodes of series {series.series_id}"
        answer = self._get_json(what, action="get_series_info", series_id=series.series_id)
        self._check_account(answer, what)
        if not isinstance(answer, dict):
            if answer not in ([], {}, None):
                log.warning("%s answered %s with %s", self.shown, what, type(answer).__name__)
            return replace(series, episodes=())
        found: dict[tuple[int, int], Episode] = {}
        skipped = 0
        for season, position, item in self._episode_items(answer.get("episodes")):
            episode = self._episode(item, season, position)
            if episode is None:
                skipped += 1
            else:
                # Panels list several streams for one S/E (Dispatcharr#556); the first is the one kept.
                found.setdefault((episode.season, episode.episode), episode)
        self._skip(skipped)
        if skipped:
            log.warning("%s: skipped %d episodes without an id in %s", self.shown, skipped, what)
        info = _info(answer.get("info"))
        extra: dict[str, Any] = {
            "tmdb": series.tmdb or _ident(info, "tmdb", "tmdb_id"),
            "plot": series.plot or _text(info.get("plot")),
            "poster": series.poster or _text(info.get("cover")),
            "genre": series.genre or _text(info.get("genre")),
            "year": series.year or _year(info, "year", "releaseDate", "release_date"),
        }
        return replace(series, episodes=tuple(found[k] for k in sorted(found)), **extra)

    @staticmethod
    def _episode_items(episodes: Any) -> list[tuple[int | None, int, Any]]:
        """Return (season from the key, position in that season, item) for each episode entry."""
        out: list[tuple[int | None, int, Any]] = []
        if isinstance(episodes, dict):
            groups: list[tuple[int | None, Any]] = [(_int(k, -1), v) for k, v in episodes.items()]
        elif isinstance(episodes, list) and any(isinstance(v, list) for v in episodes):
            # Season keys contiguous from 0 make PHP send a JSON array: the index is the season.
            groups = list(enumerate(episodes))
        elif isinstance(episodes, list):
            groups = [(None, episodes)]  # a flat list: each episode names its season
        else:
            return out
        for season, group in groups:
            entries = group if isinstance(group, list) else _items(group)
            if isinstance(group, dict) and not entries:
                entries = [group]  # a season holding one episode object instead of a list
            for position, item in enumerate(entries, 1):
                out.append((season if season is None or season >= 0 else None, position, item))
        return out

    def _episode(self, item: Any, season: int | None, position: int) -> Episode | None:
        """Return one get_series_info episode, or None without a stream id."""
        if not isinstance(item, dict):
            return None
        stream_id = _text(item.get("id")) or _text(item.get("stream_id"))
        if not stream_id:
            return None
        own = _int(item.get("season"), -1)
        number = _int(item.get("episode_num"), -1)
        info = _info(item.get("info"))
        aired = _DATE.match(_first(info, "releasedate", "air_date", "releaseDate"))
        return Episode(
            stream_id=stream_id,
            season=own if own >= 0 else (season if season is not None else 1),
            episode=number if number >= 0 else position,
            title=_text(item.get("title")),
            extension=_extension(item.get("container_extension")),
            plot=_text(info.get("plot")),
            aired=aired[0] if aired else "",
            thumb=_text(info.get("movie_image")),
        )
