"""The Xtream VOD client against tests/vodserver.py: every field spelling and answer shape panels send."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from typing import Any

import httpx
import pytest

from antenna.clients.xtream import XtreamAccount, XtreamClient
from antenna.clients.xtream_vod import BACKOFF, XtreamVodClient
from antenna.errors import Unavailable, UserError
from antenna.vod.models import Episode, Movie, Series
from tests.vodserver import (
    DUPLICATE_BASE,
    JUNK_MOVIES,
    JUNK_SERIES,
    LONG_TITLE,
    SPECIAL_BASE,
    Catalogue,
    FakeEpisode,
    FakeSeries,
    Shape,
    VodServer,
)

USER, PASSWORD = "alice-user", "s3cret-pass"


@pytest.fixture
def server() -> Iterator[VodServer]:
    with VodServer(
        Catalogue(movies=45, series=12, episodes_per_series=7, seed=3), username=USER, password=PASSWORD
    ) as s:
        yield s


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: VodServer, sleeps: list[float]) -> Iterator[XtreamVodClient]:
    with XtreamVodClient(XtreamAccount(server.url, USER, PASSWORD), timeout=5, sleep=sleeps.append) as xc:
        yield xc


def _fields(item: Movie | Series | Episode, names: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in names}


def _secret_free(error: BaseException, *secrets: str) -> str:
    """Assert the error is one line and names no secret; return its text."""
    text = str(error)
    assert "\n" not in text
    for secret in (USER, PASSWORD, *secrets):
        assert secret not in text
    return text


def _expected_episodes(series: FakeSeries) -> list[dict[str, Any]]:
    """Return what series_info should make of a fake series: first stream per S/E, sorted."""
    kept: dict[tuple[int, int], FakeEpisode] = {}
    for episode in series.streams():
        kept.setdefault((episode.season, episode.episode), episode)
    return [kept[key].expected(series.shape) for key in sorted(kept)]


def test_categories(client: XtreamVodClient, server: VodServer) -> None:
    assert client.vod_categories() == server.catalogue.vod_categories
    assert client.series_categories() == server.catalogue.series_categories
    assert client.vod_categories()["2"] == "Comédie"


def test_movies_every_field_spelling(client: XtreamVodClient, server: VodServer) -> None:
    catalogue = server.catalogue
    movies = client.movies()
    expected = [m.listed(catalogue.vod_categories) for m in catalogue.movies]
    assert [_fields(m, expected[0]) for m in movies] == expected
    assert client.skipped == len(JUNK_MOVIES)
    assert client.complete
    assert all(m.url == "" for m in movies)
    titles = [m.title for m in movies]
    assert titles.count("The Thing") == 3  # two share title and year; ids tell them apart
    assert len({m.stream_id for m in movies if (m.title, m.year) == ("The Thing", 1982)}) == 2
    assert len(next(t for t in titles if t.startswith("Très")).encode()) == 400 == len(LONG_TITLE.encode())
    assert {
        "AC/DC: Live at River Plate",
        "CON",
        "🎬 Movie Night 🍿",
        "|FR| Le Fabuleux Destin d'Amélie Poulain",
    } <= set(titles)
    assert server.actions("get_vod_streams") == [{}]  # one unfiltered call


def test_movie_years_and_tmdb_none_spellings(client: XtreamVodClient, server: VodServer) -> None:
    raws = [m.raw() for m in server.catalogue.movies]
    fakes = server.catalogue.movies
    nones = {
        repr(r["tmdb"] if "tmdb" in r else r["tmdb_id"])
        for r, f in zip(raws, fakes, strict=True)
        if not f.tmdb
    }
    assert nones == {"''", "0", "'0'", "None"}
    assert {k for r in raws for k in ("year", "release_date", "releasedate") if k in r} == {
        "year",
        "release_date",
        "releasedate",
    }
    by_id = {m.stream_id: m for m in client.movies()}
    for raw, fake in zip(raws, server.catalogue.movies, strict=True):
        movie = by_id[str(fake.stream_id)]
        assert movie.tmdb == fake.tmdb, raw
        assert movie.year == fake.year, raw
    assert by_id["1016"].year is None  # "Untitled Home Video": year "" / "0" / null / "unknown"


def test_movie_and_episode_urls(server: VodServer) -> None:
    with XtreamVodClient(XtreamAccount(server.url + "/", "a/b", "p w"), timeout=5) as xc:
        assert xc.movie_url("12", "mkv") == f"{server.url}/movie/a%2Fb/p%20w/12.mkv"
        assert xc.episode_url("7/8", ".mp4") == f"{server.url}/series/a%2Fb/p%20w/7%2F8.mp4"
        assert xc.movie_url("3", "") == f"{server.url}/movie/a%2Fb/p%20w/3.mp4"


def test_play_urls_answer(client: XtreamVodClient, server: VodServer) -> None:
    movie = client.movies()[0]
    series = client.series_info(client.series_list()[0])
    with httpx.Client(timeout=5) as http:
        answer = http.get(client.movie_url(movie.stream_id, movie.extension))
        assert (answer.status_code, answer.content) == (200, f"movie {movie.stream_id}\n".encode())
        episode = series.episodes[0]
        assert http.head(client.episode_url(episode.stream_id, episode.extension)).status_code == 200
        assert http.get(client.movie_url("424242", "mp4")).status_code == 404
        m3u = http.get(server.m3u_url).text
    assert m3u.startswith("#EXTM3U\n")
    assert f"/movie/{USER}/{PASSWORD}/{movie.stream_id}.{movie.extension}" in m3u
    assert f",{series.title} S01E01\n" in m3u
    assert f"/series/{USER}/{PASSWORD}/{episode.stream_id}.{episode.extension}" in m3u


def test_series_list(client: XtreamVodClient, server: VodServer) -> None:
    catalogue = server.catalogue
    listed = client.series_list()
    expected = [s.listed(catalogue.series_categories) for s in catalogue.series]
    assert [_fields(s, expected[0]) for s in listed] == expected
    assert all(s.episodes == () for s in listed)
    assert client.skipped == len(JUNK_SERIES)


SHAPES = {
    "dict": Shape(),
    "dict-no-season-field": Shape(season_field=False),
    "lists": Shape(episodes="lists"),
    "lists-specials": Shape(episodes="lists", specials=True),
    "lists-no-season-field": Shape(episodes="lists", season_field=False, specials=True),
    "flat": Shape(episodes="flat"),
    "strings": Shape(strings=True, specials=True),
    "info-empty-list": Shape(info_list=True, strings=True),
    "duplicate": Shape(duplicate=True),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_series_info_shapes(client: XtreamVodClient, server: VodServer, shape: Shape) -> None:
    fake = server.catalogue.series[2]  # three seasons
    server.catalogue.set_shape(fake.series_id, **{f.name: getattr(shape, f.name) for f in fields(shape)})
    series = next(s for s in client.series_list() if s.series_id == str(fake.series_id))
    full = client.series_info(series)
    assert full.series_id == series.series_id
    assert full.title == series.title
    got = [_fields(e, Episode.__dataclass_fields__) for e in full.episodes]
    expected = [{**e, "url": ""} for e in _expected_episodes(fake)]
    assert got == expected
    assert {e.season for e in full.episodes} == ({0, 1, 2, 3} if shape.specials else {1, 2, 3})
    if shape.specials:
        assert full.episodes[0].stream_id == str(SPECIAL_BASE + fake.series_id)
    if shape.duplicate:
        assert not any(e.stream_id.startswith(str(DUPLICATE_BASE)[:2]) for e in full.episodes)
        assert len(full.episodes) == len(fake.streams()) - 1  # the second stream for S01E01 is dropped
    if shape.info_list:
        assert all(e.plot == e.thumb == e.aired == "" for e in full.episodes)
    else:
        assert all(len(e.aired) == 10 for e in full.episodes if e.season)


def test_series_info_skips_episodes_without_id(client: XtreamVodClient, server: VodServer) -> None:
    fake = server.catalogue.series[0]
    fake.episodes.append(FakeEpisode("", 9, 1, "No id"))
    full = client.series_info(Series(str(fake.series_id), fake.title))
    assert client.skipped == 1
    assert all(e.season != 9 for e in full.episodes)
    assert (full.tmdb, full.plot) == (fake.tmdb, fake.plot)  # filled from the answer's info
    assert full.poster == fake.cover


def test_series_info_unknown_series(client: XtreamVodClient) -> None:
    assert client.series_info(Series("424242", "Gone")).episodes == ()


def test_series_info_from_many_threads(client: XtreamVodClient, server: VodServer) -> None:
    listed = client.series_list()
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(client.series_info, listed * 3))
    for fake, full in zip(server.catalogue.series * 3, together, strict=True):
        assert [_fields(e, e.__dataclass_fields__) for e in full.episodes] == [
            {**e, "url": ""} for e in _expected_episodes(fake)
        ]


def test_movie_info(client: XtreamVodClient, server: VodServer) -> None:
    by_id = {m.stream_id: m for m in client.movies()}
    for fake in server.catalogue.movies[:10]:
        bare = by_id[str(fake.stream_id)]
        full = client.movie_info(bare)
        if fake.variant % 5 == 4:  # info: []
            assert full == bare
            continue
        assert (full.plot, full.genre, full.rating, full.poster) == (
            fake.plot,
            fake.genre,
            fake.rating,
            fake.poster,
        )
        assert full.tmdb == fake.tmdb
        assert full.year == fake.year
        assert (full.title, full.extension, full.category) == (bare.title, bare.extension, bare.category)
    ghost = Movie("424242", "Ghost", 2001, tmdb="7")
    assert client.movie_info(ghost) == ghost  # the panel answers [] for an unknown id


def test_429_is_retried(client: XtreamVodClient, server: VodServer, sleeps: list[float]) -> None:
    server.throttle = 3
    assert client.vod_categories() == server.catalogue.vod_categories
    assert sleeps == [0.0, 0.0, 0.0]  # Retry-After: 0 is honoured
    assert len(server.actions("get_vod_categories")) == 4


def test_429_gives_up_after_four_retries(
    client: XtreamVodClient, server: VodServer, sleeps: list[float]
) -> None:
    server.throttle = 10
    with pytest.raises(Unavailable, match="answered 429") as caught:
        client.series_list()
    _secret_free(caught.value)
    assert len(sleeps) == 4
    assert len(server.log) == 5


def test_live_client_does_not_retry(server: VodServer) -> None:
    server.throttle = 1
    with (
        XtreamClient(XtreamAccount(server.url, USER, PASSWORD), timeout=5) as xc,
        pytest.raises(Unavailable, match="answered 429"),
    ):
        xc.live_categories()
    assert len(server.log) == 1


def test_html_answer(client: XtreamVodClient, server: VodServer) -> None:
    server.fail_html = True
    with pytest.raises(
        Unavailable, match="answered a web page, not JSON, for the movie categories"
    ) as caught:
        client.movies()
    _secret_free(caught.value)


def test_refused_account(server: VodServer) -> None:
    with XtreamVodClient(XtreamAccount(server.url, USER, "wrong-pass-1"), timeout=5) as xc:
        for call in (xc.vod_categories, xc.movies, xc.series_list, lambda: xc.series_info(Series("1", "x"))):
            with pytest.raises(UserError, match="not active") as caught:
                call()
            _secret_free(caught.value, "wrong-pass-1")


def test_slow_panel_falls_back_to_categories(server: VodServer, sleeps: list[float]) -> None:
    server.slow_unfiltered = 5.0
    with XtreamVodClient(XtreamAccount(server.url, USER, PASSWORD), timeout=0.5, sleep=sleeps.append) as xc:
        movies = xc.movies()
        assert xc.complete
    catalogue = server.catalogue
    assert sorted(m.stream_id for m in movies) == sorted(str(m.stream_id) for m in catalogue.movies)
    assert {m.stream_id: m.category for m in movies} == {
        str(m.stream_id): catalogue.vod_categories[m.category_id] for m in catalogue.movies
    }
    calls = server.actions("get_vod_streams")
    assert calls == [{}] + [{"category_id": c} for c in catalogue.vod_categories]
    assert sleeps == []


def test_fallback_with_a_failing_category_is_incomplete(server: VodServer, sleeps: list[float]) -> None:
    server.slow_unfiltered = 5.0
    server.fail_category = "2"
    with XtreamVodClient(XtreamAccount(server.url, USER, PASSWORD), timeout=0.5, sleep=sleeps.append) as xc:
        movies = xc.movies()
        assert not xc.complete
        assert sleeps == list(BACKOFF)  # the 500 was tried five times, no Retry-After
        server.slow_unfiltered = 0
        xc.movies()
        assert xc.complete
    expected = {str(m.stream_id) for m in server.catalogue.movies if m.category_id != "2"}
    assert {m.stream_id for m in movies} == expected


def test_timeout_message_is_secret_free(server: VodServer) -> None:
    server.slow_unfiltered = 5.0
    with (
        XtreamVodClient(XtreamAccount(server.url, USER, PASSWORD), timeout=0.3) as xc,
        pytest.raises(Unavailable, match="did not answer the movies within") as caught,
    ):
        xc.movies(categories={})  # no categories to fall back on
    _secret_free(caught.value)


def test_catalogue_edits_show_up(client: XtreamVodClient, server: VodServer) -> None:
    catalogue = server.catalogue
    first = catalogue.movies[20]
    catalogue.rename_movie(first.stream_id, "Renamed / Again")
    catalogue.remove_movie(catalogue.movies[21].stream_id)
    movies = {m.stream_id: m for m in client.movies()}
    assert movies[str(first.stream_id)].title == "Renamed / Again"
    assert len(movies) == len(catalogue.movies)

    show = catalogue.series[0]
    before = next(s for s in client.series_list() if s.series_id == str(show.series_id))
    episode = show.episodes[1]
    catalogue.retitle_episode(show.series_id, episode.id, "A New Name")
    after = next(s for s in client.series_list() if s.series_id == str(show.series_id))
    assert after.last_modified == before.last_modified + 1
    titles = {e.stream_id: e.title for e in client.series_info(after).episodes}
    assert titles[str(episode.id)] == "A New Name"
    catalogue.remove_series(show.series_id)
    assert str(show.series_id) not in {s.series_id for s in client.series_list()}
