"""VOD domain types: a provider's movies, series and episodes as Antenna reads them, and export settings.

Plain frozen dataclasses, standard library only (clients/ may import this module and nothing else of vod/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class IdStyle(StrEnum):
    """How folder names carry the TMDB id."""

    PLEX = "plex"  # "Title (2001) {tmdb-123}" (Plex, Jellyfin 12)
    JELLYFIN = "jellyfin"  # "Title (2001) [tmdbid-123]" (Jellyfin 10.11, Emby)
    NONE = "none"


class UrlMode(StrEnum):
    """What a .strm file holds."""

    REDIRECT = "redirect"  # Antenna's stable {base_url}/vod/movie/{id}: no credentials in files
    PROVIDER = "provider"  # the provider's own URL


class Cleanup(StrEnum):
    """What an export does with files it wrote before that the catalogue no longer has."""

    OFF = "off"
    PREVIEW = "preview"
    APPLY = "apply"


@dataclass(frozen=True, slots=True)
class Movie:
    """One provider movie."""

    stream_id: str
    title: str
    year: int | None = None
    extension: str = "mp4"
    category_id: str = ""
    category: str = ""
    tmdb: str = ""  # "" when the provider has none ("", 0 and "0" mean none)
    imdb: str = ""
    plot: str = ""
    poster: str = ""
    genre: str = ""
    rating: str = ""
    added: int = 0  # unix time
    url: str = ""  # the provider URL when the source gives one directly (M3U)


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode of a series (one stream; a provider may list several for one S/E, the first wins)."""

    stream_id: str
    season: int
    episode: int
    title: str = ""
    extension: str = "mp4"
    plot: str = ""
    aired: str = ""  # YYYY-MM-DD when known
    thumb: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    """One provider series; `episodes` is empty until its details were fetched."""

    series_id: str
    title: str
    year: int | None = None
    category_id: str = ""
    category: str = ""
    tmdb: str = ""
    imdb: str = ""
    plot: str = ""
    poster: str = ""
    genre: str = ""
    last_modified: int = 0  # unix time the provider last changed it (0: unknown)
    episodes: tuple[Episode, ...] = ()


@dataclass(frozen=True, slots=True)
class VodFilter:
    """Which titles an export takes."""

    include_categories: tuple[str, ...] = ()  # names or ids; empty: all
    exclude_categories: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    title_regex: str = ""


# Provider tags cut from the start of titles before naming: "|FR| Title", "4K-A+ Title", "HDR10+| Title",
# "EN: Title". Case matters: "It: Chapter Two" and "CSI: Miami" are titles, "IT: " and "FR: " are tags.
DEFAULT_CLEAN_RULES: tuple[str, ...] = (
    r"^\s*[|\[(]\s*[A-Z]{2,3}(?:[-/][A-Z]{2,3})?\s*[|\])]\s*[-:]?\s*",
    r"^\s*(?:4K|8K|UHD)-[A-Z0-9+]+\s+",
    r"^\s*(?:4K|8K|UHD|FHD|HD|SD|HDR10\+?|HDR|DV|3D)\s*[|:]\s*",
    r"^\s*(?:AR|DE|EN|ES|FR|IT|NL|PL|PT|RU|TR|UK|US|LAT|MULTI|VOSTFR)\s*[|:]\s+",
)


@dataclass(frozen=True, slots=True)
class Naming:
    """How the tree is named (templates take {title}, {year}, {id}, {series}, {season}, {episode})."""

    id_style: IdStyle = IdStyle.PLEX
    movies_folder: str = "Movies"
    series_folder: str = "TV"
    movie_template: str = "{title} ({year}) {id}"
    series_template: str = "{title} ({year}) {id}"
    episode_template: str = "{series} - S{season:02d}E{episode:02d} - {title}"
    clean_rules: tuple[str, ...] = DEFAULT_CLEAN_RULES


@dataclass(frozen=True, slots=True)
class VodSourceConfig:
    """A VOD source as stored: an Xtream account or an M3U playlist, and where its tree goes."""

    id: int
    name: str
    kind: str  # "xtream" or "m3u"
    root: str  # the output folder
    server: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    m3u: str = ""  # URL or file of an M3U with /movie/ and /series/ entries
    base_url: str = "http://127.0.0.1:8765"
    url_mode: UrlMode = UrlMode.REDIRECT
    naming: Naming = field(default_factory=Naming)
    filter: VodFilter = field(default_factory=VodFilter)
    rich_nfo: bool = False  # fetch get_vod_info for each movie
    provider_workers: int = 4
    disk_workers: int | None = None  # None: 12 on a network filesystem, 1 on a local disk
    threshold: float = 0.2  # cleanup apply refused when it would remove more than this share of the tree
    schedule: str = ""  # "daily HH:MM" or a crontab; "" = by hand
    debug_log: bool = False  # each run also writes a debug log (every decision) beside its report
