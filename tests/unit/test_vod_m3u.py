"""VOD entries of an M3U: movies by /movie/ URLs, episodes by /series/ URLs and the S/E mark in titles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.m3u import M3UEntry
from antenna.vod.m3u_vod import episode_mark, title_year, vod_entries


def test_episode_marks() -> None:
    assert episode_mark("Mad Men S01E02 - Ladies Room") == ("Mad Men", 1, 2, "Ladies Room")
    assert episode_mark("Mad Men 1x02") == ("Mad Men", 1, 2, "")
    assert episode_mark("Mad Men Season 2 Episode 10 Title") == ("Mad Men", 2, 10, "Title")
    assert episode_mark("Show s00e01: Pilot") == ("Show", 0, 1, "Pilot")
    assert episode_mark("Just a movie") is None


def test_title_year() -> None:
    assert title_year("The Movie (2001)") == ("The Movie", 2001)
    assert title_year("The Movie - 1999") == ("The Movie", 1999)
    assert title_year("(2001)") == ("(2001)", None)
    assert title_year("2001: A Space Odyssey") == ("2001: A Space Odyssey", None)


def test_entries_group_into_movies_and_series() -> None:
    entries = [
        M3UEntry("A Film (2010)", "http://p/movie/u/p/5.mkv", groups=("Films",)),
        M3UEntry("Show S01E02", "http://p/series/u/p/8.mp4"),
        M3UEntry("Show S01E01", "http://p/series/u/p/7.mp4"),
        M3UEntry(
            "Show S01E01", "http://p/series/u/p/9.mp4"
        ),  # a second stream of one episode: the first wins
        M3UEntry("Show without mark", "http://p/series/u/p/10.mp4"),
        M3UEntry("Live", "http://p/live/u/p/1.ts"),
    ]
    movies, series, skipped = vod_entries(entries)
    assert [(m.stream_id, m.title, m.year, m.extension, m.category) for m in movies] == [
        ("5", "A Film", 2010, "mkv", "Films")
    ]
    (show,) = series
    assert [(e.stream_id, e.season, e.episode) for e in show.episodes] == [("7", 1, 1), ("8", 1, 2)]
    assert skipped == 1


@given(st.text(max_size=200))
def test_marks_and_years_never_raise(title: str) -> None:
    episode_mark(title)
    title_year(title)
    vod_entries(
        [M3UEntry(title, f"http://p/series/u/p/{len(title)}.mp4"), M3UEntry(title, "http://p/movie/x")]
    )
