"""Podcast library naming: Plex/Kodi-safe `Season YYYY/<Show> - SYYYYEMMDDNN - <Title>.<ext>`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.fs.names import sanitize_name
from antenna.podcasts.naming import (
    episode_numbers,
    episode_relpath,
    media_extension,
    next_same_day_index,
    nfo_name,
    season_poster_name,
    show_folder_name,
    thumb_name,
)


def test_example_from_the_design() -> None:
    season, episode = episode_numbers(datetime(2024, 3, 17, 8, 0, tzinfo=UTC), 1)
    assert (season, episode) == (2024, 31701)
    path = episode_relpath("My Show", season, episode, "Hello", "mp3")
    assert path == PurePosixPath("Season 2024/My Show - S2024E031701 - Hello.mp3")
    assert thumb_name(path.name) == "My Show - S2024E031701 - Hello-thumb.jpg"
    assert nfo_name(path.name) == "My Show - S2024E031701 - Hello.nfo"
    assert season_poster_name(season) == "season2024-poster.jpg"


def test_numbers_use_the_utc_day() -> None:
    late_evening_in_new_york = datetime(2023, 12, 31, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert episode_numbers(late_evening_in_new_york, 2) == (2024, 10102)
    assert episode_numbers(datetime(1969, 7, 20, 20, 17), 12) == (1969, 72012)  # naive counts as UTC


@pytest.mark.parametrize("index", [0, -1, 100])
def test_same_day_index_range(index: int) -> None:
    with pytest.raises(ValueError, match="same_day_index"):
        episode_numbers(datetime(2024, 1, 1, tzinfo=UTC), index)


def test_next_same_day_index() -> None:
    day = date(2024, 3, 17)
    assert next_same_day_index(day, []) == 1
    # Other days, other years and other shows' numbers do not count; gaps below the highest are not reused.
    taken = [(2024, 31701), (2024, 31703), (2023, 31709), (2024, 31801), (2024, 31699)]
    assert next_same_day_index(day, taken) == 4
    assert next_same_day_index(day, iter(taken)) == 4


def test_next_same_day_index_fills_gaps_once_99_is_taken() -> None:
    day = date(2024, 3, 17)
    assert next_same_day_index(day, [(2024, 31799), (2024, 31701)]) == 2
    with pytest.raises(ValueError, match="all 99 episode numbers"):
        next_same_day_index(day, [(2024, 31700 + i) for i in range(1, 100)])


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "😀" * 300,
        "",
        "...",
        ". .",
        "a/b\\c",
        "nul\x00byte",
        "CON",
        "line\nbreak",
        " ",
        "x" * 1000,
    ],
)
def test_hostile_titles_give_one_safe_name(title: str) -> None:
    path = episode_relpath("Show", 2024, 31701, title, "mp3")
    assert path.parts[0] == "Season 2024"
    assert len(path.parts) == 2
    assert path.name.startswith("Show - S2024E031701")
    assert path.name.endswith(".mp3")
    assert sanitize_name(path.name) == path.name
    assert len(path.name.encode()) <= 255


def test_empty_title_ends_at_the_marker() -> None:
    assert episode_relpath("Show", 2024, 31701, "  ", "m4a").name == "Show - S2024E031701.m4a"
    assert episode_relpath("", 2024, 31701, "T", "m4a").name == "Podcast - S2024E031701 - T.m4a"


def test_long_title_is_cut_first_and_siblings_fit() -> None:
    name = episode_relpath("My Show", 2024, 31701, "T" * 400, "mp3").name
    assert name.startswith("My Show - S2024E031701 - TTT")
    assert len(thumb_name(name).encode()) == 255
    assert len(nfo_name(name).encode()) <= 255


def test_long_show_keeps_a_readable_title() -> None:
    name = episode_relpath("S" * 400, 2024, 31701, "Title " * 40, "mp3").name
    assert "S2024E031701 - Title Title" in name


def test_extension_is_cleaned() -> None:
    assert episode_relpath("S", 2024, 1, "T", "../MP3").name == "S - S2024E000001 - T.mp3"
    assert episode_relpath("S", 2024, 1, "T", "/").name == "S - S2024E000001 - T.bin"


@pytest.mark.parametrize(("season", "episode"), [(-1, 1), (10_000, 1), (2024, -1), (2024, 1_000_000)])
def test_numbers_out_of_range(season: int, episode: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        episode_relpath("S", season, episode, "T", "mp3")


@pytest.mark.parametrize(
    ("title", "folder"),
    [
        ("My Show", "My Show"),
        ("", "Podcast"),
        ("..", "Podcast"),
        ("A/B: C?", "A_B_ C_"),
        ("Two\n lines", "Two lines"),
    ],
)
def test_show_folder_name(title: str, folder: str) -> None:
    assert show_folder_name(title) == folder


@pytest.mark.parametrize(
    ("url", "mime", "ext"),
    [
        ("https://cdn.example.com/ep1.MP3?token=x", "", "mp3"),
        ("https://cdn.example.com/ep1.m4a", "audio/mpeg", "m4a"),  # the URL's known extension wins
        ("https://cdn.example.com/download.php?id=1", "audio/x-m4a", "m4a"),
        ("https://cdn.example.com/ep", "video/mp4; codecs=avc1", "mp4"),
        ("https://cdn.example.com/ep.exe", "application/octet-stream", "mp3"),
        ("https://cdn.example.com/a%2Fb.ogg", "", "ogg"),
        ("http://[broken", "audio/ogg", "ogg"),
        ("", "", "mp3"),
    ],
)
def test_media_extension(url: str, mime: str, ext: str) -> None:
    assert media_extension(url, mime) == ext


@given(st.text(), st.text())
def test_media_extension_is_always_a_plain_suffix(url: str, mime: str) -> None:
    ext = media_extension(url, mime)
    assert ext
    assert ext == ext.lower()
    assert ext.isalnum()
    assert ext.isascii()


@given(
    st.text(),
    st.text(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(1, 99),
    st.text(),
    st.text(),
)
def test_any_title_gives_a_safe_relpath(
    show: str, title: str, published: datetime, index: int, url: str, mime: str
) -> None:
    season, episode = episode_numbers(published, index)
    ext = media_extension(url, mime)
    path = episode_relpath(show, season, episode, title, ext)
    assert len(path.parts) == 2
    assert path.parts[0] == f"Season {season:04d}"
    assert ".." not in path.parts
    assert all(len(part.encode()) <= 255 for part in path.parts)
    assert path.name.endswith(f".{ext}")
    assert f"S{season:04d}E{episode:06d}" in path.name
    assert sanitize_name(path.name) == path.name
    for sibling in (thumb_name(path.name), nfo_name(path.name)):
        assert len(sibling.encode()) <= 255
        assert sanitize_name(sibling) == sibling
    folder = show_folder_name(show)
    assert folder == sanitize_name(folder)
    assert folder not in ("", ".", "..")
