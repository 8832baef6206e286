"""NFO and .strm files of a VOD tree (movie, tvshow, season, episode), as Jellyfin, Emby and Kodi read them.

Pure: values in, bytes out. The TMDB and IMDb ids always go in as <uniqueid>, whatever the folder tags say:
Jellyfin 10.11 ignores curly-brace folder ids, and Kodi only reads ids from the NFO.
"""

from __future__ import annotations

from antenna.formats.nfo import NfoBuilder, render_season_nfo

__all__ = ["render_episode", "render_movie", "render_season_nfo", "render_strm", "render_tvshow"]


def _ids(b: NfoBuilder, tmdb: str, imdb: str) -> None:
    if tmdb:
        b.add("uniqueid", tmdb, type="tmdb", default="true")
    if imdb and tmdb:
        b.add("uniqueid", imdb, type="imdb")
    elif imdb:
        b.add("uniqueid", imdb, type="imdb", default="true")


def render_movie(
    title: str,
    year: int | None,
    *,
    tmdb: str = "",
    imdb: str = "",
    plot: str = "",
    genre: str = "",
    rating: str = "",
    poster: str = "",
) -> bytes:
    """Return the NFO beside a movie's .strm (same base name)."""
    b = NfoBuilder("movie", kodi_safe=False)
    b.add("title", title, required=True)
    if year:
        b.add("year", str(year))
    b.add("plot", plot)
    for part in genre.split(","):
        b.add("genre", part.strip())
    b.add("rating", rating)
    _ids(b, tmdb, imdb)
    b.add("thumb", poster, aspect="poster")
    return b.render()


def render_tvshow(
    title: str,
    year: int | None,
    *,
    tmdb: str = "",
    imdb: str = "",
    plot: str = "",
    genre: str = "",
    poster: str = "",
) -> bytes:
    """Return tvshow.nfo for a series folder."""
    b = NfoBuilder("tvshow", kodi_safe=False)
    b.add("title", title, required=True)
    b.add("showtitle", title)
    if year:
        b.add("year", str(year))
    b.add("plot", plot)
    for part in genre.split(","):
        b.add("genre", part.strip())
    _ids(b, tmdb, imdb)
    b.add("thumb", poster, aspect="poster")
    return b.render()


def render_episode(
    title: str, series: str, season: int, episode: int, *, plot: str = "", aired: str = "", thumb: str = ""
) -> bytes:
    """Return the NFO beside an episode's .strm (same base name: Jellyfin pairs nothing else)."""
    b = NfoBuilder("episodedetails", kodi_safe=False)
    b.add("title", title or f"Episode {episode}", required=True)
    b.add("showtitle", series)
    b.add("season", str(season))
    b.add("episode", str(episode))
    b.add("aired", aired)
    b.add("plot", plot)
    b.add("thumb", thumb)
    return b.render()


def render_strm(url: str) -> bytes:
    """Return a .strm file: the URL on one line (Jellyfin reads the first line not starting with #)."""
    return url.replace("\r", "").replace("\n", "").strip().encode() + b"\n"
