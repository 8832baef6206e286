"""A local Xtream Codes panel for VOD tests: a generated, editable catalogue behind player_api and get.php.

`VodServer(Catalogue(movies=50, series=8, episodes_per_series=6, seed=1))` serves, for username "user" and
password "pass" (anything else gets `{"user_info": {"auth": 0}}`):

- `player_api.php` with no action (the account), `get_vod_categories`, `get_vod_streams[&category_id=]`,
  `get_vod_info&vod_id=`, `get_series_categories`, `get_series[&category_id=]`, `get_series_info&series_id=`;
- `get.php?type=m3u_plus`: every movie and episode (and one live channel) as `#EXTINF` lines, episodes titled
  "Show Name S01E02";
- `/movie/U/P/ID.EXT` and `/series/U/P/ID.EXT`: 200 with a few bytes when the item exists (GET and HEAD).

Each movie and series keeps its true values and a `variant` choosing how the JSON spells them (numbers as
strings or not, `tmdb` vs `tmdb_id`, `year` vs `release_date`, `category_ids`, …); `FakeMovie.listed()` and
`FakeEpisode.expected()` say what a correct reader makes of them. Each series has a `Shape` choosing how its
`get_series_info` answer looks. Knobs on the server: `fail_html`, `throttle`, `slow_unfiltered`,
`fail_category`; every request lands in `log` as (action, params without the credentials).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

USER, PASSWORD = "user", "pass"
EPOCH = 1_700_000_000
SPECIAL_BASE, DUPLICATE_BASE = 8_000_000, 9_000_000  # stream ids of generated specials and duplicate streams
HTML = b"<!DOCTYPE html><html><head><title>Suspended</title></head><body><h1>Suspended</h1></body></html>"
JUNK_MOVIES: tuple[Any, ...] = ({"name": "No stream id", "stream_id": ""}, {"stream_id": 99_999_999}, None)
JUNK_SERIES: tuple[Any, ...] = ({"name": "No series id"}, {"series_id": 99_999_999, "name": " "})


def _long_title() -> str:
    """Return a title of exactly 400 UTF-8 bytes, with multi-byte characters near the cut."""
    out = ""
    for char in "Très Long Métrage Éternel " * 30:
        if len((out + char).encode()) > 400:
            break
        out += char
    return out + "x" * (400 - len(out.encode()))


LONG_TITLE = _long_title()
SPECIAL_MOVIES: tuple[tuple[str, int | None], ...] = (
    ("|FR| Le Fabuleux Destin d'Amélie Poulain", 2001), ("4K-A+ Dune: Part Two", 2024),
    ("AC/DC: Live at River Plate", 2011), ("CON", 2019), (LONG_TITLE, 2015), ("The Thing", 1982),
    ("The Thing", 1982), ("The Thing", 2011), ("千と千尋の神隠し", 2001), ("🎬 Movie Night 🍿", 2022),
    ("HDR10+| Oppenheimer", 2023), ("EN| The Matrix", 1999), ("[DE] Das Boot", 1981),
    ("Crouching Tiger, Hidden Dragon", 2000), ("Who Framed Roger Rabbit?", 1988),
    ("Léon: The Professional", 1994), ("Untitled Home Video", None), ("PRN", 2018),
)  # fmt: skip
SPECIAL_SERIES: tuple[tuple[str, int | None], ...] = (
    ("|UK| Doctor Who", 2005), ("4K-NF Stranger Things", 2016), ("Law & Order: SVU", 1999),
    ("What If...?", 2021), ("AUX", 2020), ("進撃の巨人", 2013), ("🔥 Hot Ones", 2015), ("Mad Men", 2007),
    ("The Office", 2005), ("The Office", 2005),
)  # fmt: skip
_ADJECTIVES = (
    "Silent",
    "Last",
    "Crimson",
    "Hidden",
    "Broken",
    "Golden",
    "Midnight",
    "Lost",
    "Wild",
    "Frozen",
)
_NOUNS = (
    "River",
    "Empire",
    "Garden",
    "Signal",
    "Harbour",
    "Kingdom",
    "Witness",
    "Horizon",
    "Machine",
    "Road",
)
_GENRES = ("Drama", "Comedy", "Action, Thriller", "Documentary", "Animation", "Science Fiction")
VOD_CATEGORIES = ("|EN| Action", "Comédie", "Kids", "4K UHD", "Documentaries", "Drame / Romance", "Horror")
SERIES_CATEGORIES = ("|EN| Drama", "Anime アニメ", "Reality", "Crime", "Sci-Fi")


@dataclass
class FakeMovie:
    """One movie's true values; `variant` picks how get_vod_streams spells them."""

    stream_id: int
    title: str
    year: int | None
    category_id: str
    tmdb: str = ""  # "" = none; spelled "", 0, "0" or null by variant
    imdb: str = ""
    extension: str = "mp4"
    plot: str = ""
    genre: str = ""
    rating: str = ""
    added: int = EPOCH
    variant: int = 0

    @property
    def poster(self) -> str:
        return f"http://img.example/movie/{self.stream_id}.jpg"

    def raw(self) -> dict[str, Any]:
        """Return the get_vod_streams entry."""
        v = self.variant
        out: dict[str, Any] = {
            "num": v + 1, "name": self.title, "stream_type": "movie",
            "stream_id": self.stream_id if v % 2 else str(self.stream_id), "stream_icon": self.poster,
            "rating": self.rating, "rating_5based": 3.5, "added": str(self.added) if v % 2 else self.added,
            "custom_sid": "", "direct_source": "",
        }  # fmt: skip
        if v % 3 == 2:
            out["category_ids"] = [int(self.category_id)]
        else:
            out["category_id"] = int(self.category_id) if v % 3 else self.category_id
        if self.extension != "mp4" or v % 3:
            out["container_extension"] = self.extension
        if self.year is not None:
            date = f"{self.year}-03-14"
            spellings = (("year", str(self.year)), ("year", self.year), ("release_date", date),
                         ("releasedate", date), ("year", f"{self.year}-01-01"))  # fmt: skip
            key, value = spellings[v % 5]
            out[key] = value
            if key != "year" and v % 2:
                out["year"] = ""
        else:
            out["year"] = ("", "0", None, "unknown")[v % 4]
        key = "tmdb" if v % 2 else "tmdb_id"
        out[key] = (int(self.tmdb) if v % 3 else self.tmdb) if self.tmdb else ("", 0, "0", None)[v % 4]
        if self.imdb:
            out["imdb" if v % 2 else "imdb_id"] = self.imdb
        if v % 2 == 0:
            out |= {"plot": self.plot, "genre": self.genre}
        return out

    def listed(self, categories: dict[str, str]) -> dict[str, Any]:
        """Return the Movie fields a correct reader makes of raw() (category names from `categories`)."""
        return {
            "stream_id": str(self.stream_id), "title": self.title.strip(), "year": self.year,
            "extension": self.extension, "category_id": self.category_id,
            "category": categories.get(self.category_id, ""), "tmdb": self.tmdb, "imdb": self.imdb,
            "plot": self.plot if self.variant % 2 == 0 else "", "poster": self.poster,
            "genre": self.genre if self.variant % 2 == 0 else "", "rating": self.rating, "added": self.added,
        }  # fmt: skip

    def info(self) -> dict[str, Any]:
        """Return the get_vod_info answer; every fifth variant sends `info` as []."""
        info: Any = [] if self.variant % 5 == 4 else {
            "movie_image": self.poster, "tmdb_id": self.tmdb, "genre": self.genre, "plot": self.plot,
            "rating": self.rating, "releasedate": f"{self.year}-03-14" if self.year else "",
            "duration_secs": 5400, "duration": "01:30:00", "backdrop_path": [], "video": {}, "audio": {},
        }  # fmt: skip
        data = {"stream_id": self.stream_id, "name": self.title, "added": str(self.added),
                "category_id": self.category_id, "container_extension": self.extension}  # fmt: skip
        return {"info": info, "movie_data": data}


@dataclass
class FakeEpisode:
    """One episode stream."""

    id: int | str  # "" makes an episode without a stream id
    season: int
    episode: int
    title: str
    extension: str = "mkv"
    plot: str = ""
    aired: str = ""  # YYYY-MM-DD

    @property
    def thumb(self) -> str:
        return f"http://img.example/episode/{self.id}.jpg"

    def expected(self, shape: Shape) -> dict[str, Any]:
        """Return the Episode fields a correct reader makes of this episode served in `shape`."""
        empty = shape.info_list
        return {"stream_id": str(self.id), "season": self.season, "episode": self.episode,
                "title": self.title, "extension": self.extension, "plot": "" if empty else self.plot,
                "aired": "" if empty else self.aired, "thumb": "" if empty else self.thumb}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """How get_series_info answers for one series."""

    episodes: str = "dict"  # "dict" keyed by season, "lists" (a list indexed by season) or "flat" (one list)
    info_list: bool = False  # the series' and episodes' `info` as [] instead of an object
    strings: bool = False  # numbers as strings
    duplicate: bool = False  # a second stream for the first episode (id DUPLICATE_BASE + id), listed after it
    specials: bool = False  # a season 0 special (id SPECIAL_BASE + series id)
    season_field: bool = True  # each episode names its season (needed for "flat")


SHAPES = (
    Shape(), Shape(episodes="lists", specials=True), Shape(episodes="flat", strings=True),
    Shape(info_list=True, strings=True), Shape(duplicate=True, specials=True),
    Shape(episodes="lists", season_field=False),
)  # fmt: skip


@dataclass
class FakeSeries:
    """One series' true values, episodes and answer shape."""

    series_id: int
    title: str
    year: int | None
    category_id: str
    tmdb: str = ""
    plot: str = ""
    genre: str = ""
    last_modified: int = EPOCH
    episodes: list[FakeEpisode] = field(default_factory=list)
    shape: Shape = field(default_factory=Shape)
    variant: int = 0

    @property
    def cover(self) -> str:
        return f"http://img.example/series/{self.series_id}.jpg"

    def streams(self) -> list[FakeEpisode]:
        """Return the episode streams as served, with the shape's special and duplicate."""
        out = list(self.episodes)
        if self.shape.duplicate and out:
            first = out[0]
            out.insert(1, replace(first, id=DUPLICATE_BASE + int(first.id), title=f"{first.title} (alt)"))
        if self.shape.specials:
            out.insert(0, FakeEpisode(SPECIAL_BASE + self.series_id, 0, 1, "Christmas Special", "mp4"))
        return out

    def raw(self) -> dict[str, Any]:
        """Return the get_series entry."""
        v = self.variant
        out: dict[str, Any] = {
            "num": v + 1, "name": self.title, "series_id": self.series_id if v % 2 else str(self.series_id),
            "cover": self.cover, "plot": self.plot, "cast": "", "director": "", "genre": self.genre,
            "last_modified": str(self.last_modified), "rating": "8", "rating_5based": 4,
            "backdrop_path": [] if v % 2 else "", "youtube_trailer": "", "episode_run_time": "45",
            "category_id": self.category_id,
        }  # fmt: skip
        if self.year is not None:
            out[("releaseDate", "release_date", "year")[v % 3]] = f"{self.year}-09-01"
        if self.tmdb or v % 2:
            out["tmdb"] = self.tmdb or ("", 0, "0")[v % 3]
        return out

    def listed(self, categories: dict[str, str]) -> dict[str, Any]:
        """Return the Series fields a correct reader makes of raw()."""
        return {"series_id": str(self.series_id), "title": self.title, "year": self.year,
                "category_id": self.category_id, "category": categories.get(self.category_id, ""),
                "tmdb": self.tmdb, "plot": self.plot, "poster": self.cover, "genre": self.genre,
                "last_modified": self.last_modified}  # fmt: skip

    def info(self) -> dict[str, Any]:
        """Return the get_series_info answer in this series' shape."""
        shape, streams = self.shape, self.streams()
        num: Any = str if shape.strings else int
        seasons = sorted({e.season for e in streams})
        rows: dict[int, list[dict[str, Any]]] = {s: [] for s in seasons}
        for e in streams:
            info: Any = [] if shape.info_list else {
                "movie_image": e.thumb, "plot": e.plot,
                ("air_date" if e.episode % 2 else "releasedate"): e.aired, "duration_secs": 2700,
                "duration": "00:45:00", "rating": "7", "bitrate": 0,
            }  # fmt: skip
            row = {"id": str(e.id), "episode_num": num(e.episode), "title": e.title,
                   "container_extension": e.extension, "added": num(EPOCH), "custom_sid": "",
                   "direct_source": "", "info": info}  # fmt: skip
            if shape.season_field:
                row["season"] = num(e.season)
            rows[e.season].append(row)
        episodes: Any
        if shape.episodes == "lists":
            episodes = [rows.get(s, []) for s in range(max(seasons, default=-1) + 1)]
        elif shape.episodes == "flat":
            episodes = [row for s in seasons for row in rows[s]]
        else:
            episodes = {str(s): rows[s] for s in seasons}
        series_info: Any = [] if shape.info_list else {
            "name": self.title, "cover": self.cover, "plot": self.plot, "genre": self.genre,
            "releaseDate": f"{self.year}-09-01" if self.year else "",
            "last_modified": num(self.last_modified), "tmdb": self.tmdb, "category_id": self.category_id,
            "backdrop_path": [],
        }  # fmt: skip
        season_list = [{"season_number": num(s), "name": f"Season {s}", "episode_count": num(len(rows[s])),
                        "cover": self.cover, "air_date": None} for s in seasons]  # fmt: skip
        return {"seasons": season_list, "info": series_info, "episodes": episodes}


class Catalogue:
    """A generated provider catalogue; deterministic for a seed, and editable while served."""

    def __init__(
        self,
        movies: int = 40,
        series: int = 8,
        episodes_per_series: int = 6,
        seed: int = 1,
        junk: bool = True,
    ) -> None:
        rng = random.Random(seed)
        self.lock = threading.RLock()
        self.junk = junk  # serve JUNK_MOVIES and JUNK_SERIES after the real entries
        self.vod_categories = {str(i + 1): name for i, name in enumerate(VOD_CATEGORIES)}
        self.series_categories = {str(i + 1): name for i, name in enumerate(SERIES_CATEGORIES)}
        self._indexes: dict[str, tuple[int, dict[str, Any]]] = {}
        self.movies = [self._movie(i, rng) for i in range(movies)]
        self.series = [self._series(i, rng, episodes_per_series) for i in range(series)]

    @staticmethod
    def _movie(i: int, rng: random.Random) -> FakeMovie:
        title, year = SPECIAL_MOVIES[i] if i < len(SPECIAL_MOVIES) else Catalogue._title(rng)
        return FakeMovie(
            1000 + i, title, year, str(1 + i % len(VOD_CATEGORIES)),
            tmdb="" if i % 3 == 1 else str(500 + i), imdb=f"tt{1_000_000 + i}" if i % 4 == 0 else "",
            extension=("mkv", "mp4", "avi", "mp4")[i % 4], plot=f"The plot of {title}.",
            genre=rng.choice(_GENRES), rating=f"{rng.randint(10, 95) / 10:g}", added=EPOCH + i * 60,
            variant=i,
        )  # fmt: skip

    @staticmethod
    def _series(i: int, rng: random.Random, count: int) -> FakeSeries:
        title, year = SPECIAL_SERIES[i] if i < len(SPECIAL_SERIES) else Catalogue._title(rng)
        per_season = -(-count // min(1 + i % 3, max(count, 1)))  # one to three seasons
        episodes = []
        for j in range(count):
            season, number = 1 + j // per_season, 1 + j % per_season
            aired = f"{(year or 2010) + season - 1}-{1 + number % 12:02d}-{1 + j % 28:02d}"
            name = rng.choice(
                ("Pilot", "The Return", "Endgame", "Épilogue", "Part 2: Ashes", f"Episode {number}")
            )
            plot = f"Plot of {title} S{season:02d}E{number:02d}."
            episodes.append(
                FakeEpisode(500_000 + i * 1000 + j, season, number, name, ("mkv", "mp4")[j % 2], plot, aired)
            )
        return FakeSeries(
            1 + i, title, year, str(1 + i % len(SERIES_CATEGORIES)), tmdb="" if i % 3 == 1 else str(9000 + i),
            plot=f"All about {title}.", genre=rng.choice(_GENRES), last_modified=EPOCH + i,
            episodes=episodes, shape=SHAPES[i % len(SHAPES)], variant=i,
        )  # fmt: skip

    @staticmethod
    def _title(rng: random.Random) -> tuple[str, int | None]:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}", rng.randint(1950, 2024)

    # -- look-ups and edits -------------------------------------------------------------------------------

    def index(self, items: list[Any], key: str) -> dict[str, Any]:
        """Return items by id as text, rebuilt when the list changed (benchmarks serve 15k series)."""
        cached = self._indexes.get(key)
        if cached is None or cached[0] != len(items):
            cached = (len(items), {str(getattr(item, key)): item for item in items})
            self._indexes[key] = cached
        return cached[1]

    def movie(self, stream_id: int | str) -> FakeMovie:
        """Return the movie with this stream id."""
        return next(m for m in self.movies if str(m.stream_id) == str(stream_id))

    def show(self, series_id: int | str) -> FakeSeries:
        """Return the series with this id."""
        return next(s for s in self.series if str(s.series_id) == str(series_id))

    def rename_movie(self, stream_id: int | str, title: str) -> None:
        """Give a movie a new title."""
        with self.lock:
            self.movie(stream_id).title = title

    def remove_movie(self, stream_id: int | str) -> None:
        """Stop listing a movie."""
        with self.lock:
            self.movies.remove(self.movie(stream_id))

    def remove_series(self, series_id: int | str) -> None:
        """Stop listing a series."""
        with self.lock:
            self.series.remove(self.show(series_id))

    def touch_series(self, series_id: int | str, at: int | None = None) -> int:
        """Bump a series' last_modified (to `at`, or by one second); return the new value."""
        with self.lock:
            series = self.show(series_id)
            series.last_modified = at if at is not None else series.last_modified + 1
            return series.last_modified

    def retitle_episode(
        self, series_id: int | str, episode_id: int | str, title: str, touch: bool = True
    ) -> None:
        """Give an episode a new title and, as panels do, bump its series' last_modified."""
        with self.lock:
            series = self.show(series_id)
            episode = next(e for e in series.episodes if str(e.id) == str(episode_id))
            episode.title = title
            if touch:
                series.last_modified += 1

    def remove_episode(self, series_id: int | str, episode_id: int | str) -> None:
        """Stop listing an episode."""
        with self.lock:
            series = self.show(series_id)
            series.episodes = [e for e in series.episodes if str(e.id) != str(episode_id)]

    def set_shape(self, series_id: int | str, **changes: Any) -> None:
        """Change how a series' get_series_info answer looks (fields of Shape)."""
        with self.lock:
            series = self.show(series_id)
            series.shape = replace(series.shape, **changes)


class VodServer:
    """Serve a Catalogue as an Xtream panel on 127.0.0.1 in a background thread; see the module docstring."""

    def __init__(
        self, catalogue: Catalogue | None = None, *, username: str = USER, password: str = PASSWORD
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        self.username, self.password = username, password
        self.fail_html = False  # answer every player_api.php call with a web page
        self.throttle = 0  # answer this many next requests 429 with Retry-After: 0
        self.slow_unfiltered = 0.0  # seconds the unfiltered get_vod_streams waits before answering
        self.fail_category = ""  # the category whose get_vod_streams / get_series call answers 500
        self.log: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="vodserver", daemon=True
        )

    @property
    def url(self) -> str:
        """Return http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def m3u_url(self) -> str:
        """Return the get.php URL of the catalogue as an M3U (with the credentials)."""
        return f"{self.url}/get.php?username={self.username}&password={self.password}&type=m3u_plus&output=ts"

    def start(self) -> VodServer:
        """Start answering requests."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server, waking any request held by slow_unfiltered."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> VodServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def actions(self, action: str) -> list[dict[str, str]]:
        """Return the params of the logged requests with this action."""
        with self._lock:
            return [params for logged, params in self.log if logged == action]

    # -- answers ------------------------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str, dict[str, str]]:
        """Return (status, body, content type, extra headers) for one request."""
        params = {k: v for k, v in query.items() if k not in ("username", "password", "action")}
        name = path.rsplit("/", 1)[-1]
        kind = path.strip("/").split("/", 1)[0]
        action = (
            query.get("action", "")
            if name == "player_api.php"
            else kind
            if kind in ("movie", "series")
            else name
        )
        with self._lock:
            self.log.append((action, params))
            if self.throttle > 0:
                self.throttle -= 1
                return 429, b"Too Many Requests", "text/plain", {"Retry-After": "0"}
        if kind in ("movie", "series", "live"):
            return self._stream(kind, path)
        if (query.get("username"), query.get("password")) != (self.username, self.password):
            return 200, json.dumps({"user_info": {"auth": 0}}).encode(), "application/json", {}
        if name == "get.php":
            return 200, self._m3u().encode(), "audio/x-mpegurl", {}
        if name != "player_api.php":
            return 404, b"not found", "text/plain", {}
        if self.fail_html:
            return 200, HTML, "text/html", {}
        category = query.get("category_id", "")
        if category and category == self.fail_category and action in ("get_vod_streams", "get_series"):
            return 500, b"Internal Server Error", "text/plain", {}
        if action == "get_vod_streams" and not category and self.slow_unfiltered:
            self._closing.wait(self.slow_unfiltered)
        with self.catalogue.lock:
            answer = self._json(action, category, query)
        return 200, json.dumps(answer, ensure_ascii=bool(len(self.log) % 2)).encode(), "application/json", {}

    def _json(self, action: str, category: str, query: dict[str, str]) -> Any:
        cat = self.catalogue
        if action == "":
            info = {"username": self.username, "password": self.password, "auth": 1, "status": "Active",
                    "exp_date": "1999999999", "max_connections": "1", "active_cons": "0",
                    "allowed_output_formats": ["m3u8", "ts"]}  # fmt: skip
            return {"user_info": info, "server_info": {"url": "127.0.0.1", "port": "80", "timezone": "UTC"}}
        if action in ("get_vod_categories", "get_series_categories"):
            names = cat.vod_categories if action == "get_vod_categories" else cat.series_categories
            return [{"category_id": k, "category_name": v, "parent_id": 0} for k, v in names.items()]
        if action in ("get_vod_streams", "get_series"):
            items: list[Any] = cat.movies if action == "get_vod_streams" else cat.series
            rows: list[Any] = [i.raw() for i in items if not category or i.category_id == category]
            if cat.junk and not category:
                rows += JUNK_MOVIES if action == "get_vod_streams" else JUNK_SERIES
            return rows
        if action == "get_vod_info":
            movie = cat.index(cat.movies, "stream_id").get(query.get("vod_id", ""))
            return movie.info() if movie is not None else []
        if action == "get_series_info":
            show = cat.index(cat.series, "series_id").get(query.get("series_id", ""))
            return show.info() if show is not None else {"seasons": [], "info": [], "episodes": []}
        return []

    def _stream(self, kind: str, path: str) -> tuple[int, bytes, str, dict[str, str]]:
        """Answer /movie|series|live/U/P/ID.EXT with a few bytes when the item exists."""
        parts = path.strip("/").split("/")
        if len(parts) != 4 or (parts[1], parts[2]) != (self.username, self.password):
            return 401, b"Unauthorized", "text/plain", {}
        stream_id = parts[3].split(".", 1)[0]
        with self.catalogue.lock:
            if kind == "movie":
                known = {str(m.stream_id) for m in self.catalogue.movies}
            elif kind == "series":
                known = {str(e.id) for s in self.catalogue.series for e in s.streams()}
            else:
                known = {"1"}
        if stream_id not in known:
            return 404, b"not found", "text/plain", {}
        return 200, f"{kind} {stream_id}\n".encode(), "video/mp4", {}

    def _m3u(self) -> str:
        base = f"{self.url}/%s/{self.username}/{self.password}"
        lines = ["#EXTM3U", *_extinf("News", "", "|EN| News", f"{base % 'live'}/1.ts")]
        with self.catalogue.lock:
            cat = self.catalogue
            for m in cat.movies:
                url = f"{base % 'movie'}/{m.stream_id}.{m.extension}"
                lines += _extinf(m.title, m.poster, cat.vod_categories.get(m.category_id, ""), url)
            for s in cat.series:
                group = cat.series_categories.get(s.category_id, "")
                for e in s.streams():
                    title = f"{s.title} S{e.season:02d}E{e.episode:02d}"
                    lines += _extinf(title, s.cover, group, f"{base % 'series'}/{e.id}.{e.extension}")
        return "\n".join(lines) + "\n"


def _extinf(name: str, logo: str, group: str, url: str) -> list[str]:
    return [f'#EXTINF:-1 tvg-id="" tvg-name="{name}" tvg-logo="{logo}" group-title="{group}",{name}', url]


def _handler(server: VodServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        panel = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    panel: VodServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait for delayed ACKs

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, data, content_type, headers = self.panel.answer(url.path, query)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(data)
        except OSError:  # the client gave up (a short timeout in a fallback test)
            self.close_connection = True
