"""Kodi/Jellyfin NFO writers (golden files, byte for byte) and the reader for hand edits."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.nfo import (
    EpisodeInfo,
    NfoError,
    ShowInfo,
    read_episode_nfo,
    render_episode_nfo,
    render_season_nfo,
    render_tvshow_nfo,
    xml_text,
)
from antenna.formats.safe_xml import safe_xml

GOLDEN = Path(__file__).parent.parent / "fixtures" / "nfo"

SHOW = ShowInfo(
    title="The Example Show",
    uniqueid="917393e3-1b1e-5cef-ace4-edaa54e1f810",
    plot="A weekly show about examples & <tests>.\nSecond line 😀",
    studio="Example Media",
    premiered=date(2019, 5, 1),
    genres=("Technology", "News"),
    named_seasons=((2024, "2024"),),
)
EPISODE = EpisodeInfo(
    title="Episode 2: Ünïcode & more 🎙️",
    show_title="The Example Show",
    season=2024,
    episode=31701,
    aired=date(2024, 3, 17),
    uniqueid="ex-show-0002",
    plot="First paragraph.\r\n\r\nSecond\x00 paragraph\x1b.",
    runtime_seconds=3723,
    studio="Example Media",
    genres=("Technology",),
    thumb="The Example Show - S2024E031701 - Episode 2-thumb.jpg",
    date_added=datetime(2024, 3, 18, 6, 5, 4),
)
MINIMAL = EpisodeInfo(
    title="", show_title="", season=1999, episode=123101, aired=date(1999, 12, 31), uniqueid="k"
)


@pytest.mark.parametrize(
    ("name", "rendered"),
    [
        ("tvshow.nfo", lambda: render_tvshow_nfo(SHOW)),
        ("tvshow_kodi_safe.nfo", lambda: render_tvshow_nfo(SHOW, kodi_safe=True)),
        ("episode.nfo", lambda: render_episode_nfo(EPISODE)),
        ("episode_kodi_safe.nfo", lambda: render_episode_nfo(EPISODE, kodi_safe=True)),
        ("episode_minimal.nfo", lambda: render_episode_nfo(MINIMAL)),
        ("season.nfo", lambda: render_season_nfo(2024, "2024")),
    ],
)
def test_golden(name: str, rendered: object) -> None:
    assert callable(rendered)
    assert rendered() == (GOLDEN / name).read_bytes()


@pytest.mark.parametrize(("seconds", "minutes"), [(1, "1"), (60, "1"), (61, "2"), (3723, "63")])
def test_runtime_is_minutes_rounded_up(seconds: int, minutes: str) -> None:
    root, _ = safe_xml(
        render_episode_nfo(EpisodeInfo("t", "s", 1, 1, date(2000, 1, 1), "k", runtime_seconds=seconds))
    )
    assert root.findtext("runtime") == minutes


@pytest.mark.parametrize("seconds", [None, 0])
def test_unknown_runtime_is_left_out(seconds: int | None) -> None:
    root, _ = safe_xml(
        render_episode_nfo(EpisodeInfo("t", "s", 1, 1, date(2000, 1, 1), "k", runtime_seconds=seconds))
    )
    assert root.find("runtime") is None


def test_show_without_artwork_and_other_id_type() -> None:
    show = ShowInfo("Channel", "UC123", poster="", fanart="", id_type="youtube")
    root, _ = safe_xml(render_tvshow_nfo(show))
    assert root.find("thumb") is None
    assert root.find("fanart") is None
    uid = root.find("uniqueid")
    assert (uid.get("type"), uid.get("default"), uid.text) == ("youtube", "true", "UC123")


def test_read_episode_nfo_reads_the_golden_file() -> None:
    edits = read_episode_nfo((GOLDEN / "episode.nfo").read_bytes())
    assert edits.title == "Episode 2: Ünïcode & more 🎙️"
    assert edits.plot == "First paragraph.\n\nSecond paragraph."
    assert edits.aired == date(2024, 3, 17)
    assert (edits.studio, edits.genres, edits.uniqueid) == ("Example Media", ("Technology",), "ex-show-0002")


def test_read_hand_edited_nfo() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- edited in Kodi -->
<episodedetails>
  <title>  My better title </title>
  <plot>Line one
Line &amp; two</plot>
  <aired>2024-03-18 20:00</aired>
  <uniqueid type="imdb">tt1</uniqueid>
  <uniqueid type="podcast" default="true">key-1</uniqueid>
</episodedetails>
"""
    edits = read_episode_nfo(data)
    assert (edits.title, edits.plot, edits.aired) == (
        "My better title",
        "Line one\nLine & two",
        date(2024, 3, 18),
    )
    assert edits.uniqueid == "key-1"


def test_read_nfo_with_bad_date_keeps_the_rest() -> None:
    edits = read_episode_nfo(b"<episodedetails><title>T</title><aired>someday</aired></episodedetails>")
    assert (edits.title, edits.aired, edits.plot) == ("T", None, "")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "not well-formed"),
        (b"<episodedetails><title>cut", "not well-formed"),
        (b"<tvshow><title>x</title></tvshow>", "holds <tvshow>, not <episodedetails>"),
        (b"<episodedetails/><episodedetails/>", "not well-formed"),
    ],
)
def test_read_malformed_nfo(data: bytes, match: str) -> None:
    with pytest.raises(NfoError, match=match):
        read_episode_nfo(data)


@pytest.mark.parametrize(
    ("text", "kodi_safe", "expected"),
    [
        ("  plain  ", False, "plain"),
        ("a\x00b\x08c\x0bd\x7fe\x85f\ud800g\uffffh", False, "abcdefgh"),
        ("tab\tand\r\nnewline\rcr", False, "tab\tand\nnewline\ncr"),
        ("emoji 😀 kept", False, "emoji 😀 kept"),
        ("emoji 😀 dropped 👩‍👩‍👧 too", True, "emoji dropped too"),
        ("BMP é ☺ kept", True, "BMP é ☺ kept"),
    ],
)
def test_xml_text(text: str, kodi_safe: bool, expected: str) -> None:
    assert xml_text(text, kodi_safe=kodi_safe) == expected


# --- property tests: anything renders to well-formed XML, and edit fields survive the round trip ---

dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@st.composite
def episodes(draw: st.DrawFn) -> EpisodeInfo:
    return EpisodeInfo(
        title=draw(st.text()),
        show_title=draw(st.text()),
        season=draw(st.integers(0, 9999)),
        episode=draw(st.integers(0, 999_999)),
        aired=draw(dates),
        uniqueid=draw(st.text()),
        plot=draw(st.text()),
        runtime_seconds=draw(st.none() | st.integers(0, 10**7)),
        studio=draw(st.text()),
        genres=tuple(draw(st.lists(st.text(), max_size=3))),
        thumb=draw(st.text()),
        date_added=draw(st.none() | st.datetimes(min_value=datetime(1000, 1, 1))),
    )


@given(episodes(), st.booleans())
def test_round_trip_episode_edit_fields(ep: EpisodeInfo, kodi_safe: bool) -> None:
    edits = read_episode_nfo(render_episode_nfo(ep, kodi_safe=kodi_safe))
    assert edits.title == xml_text(ep.title, kodi_safe=kodi_safe)
    assert edits.plot == xml_text(ep.plot, kodi_safe=kodi_safe)
    assert edits.aired == ep.aired
    assert edits.studio == xml_text(ep.studio, kodi_safe=kodi_safe)
    assert edits.genres == tuple(g for g in (xml_text(g, kodi_safe=kodi_safe) for g in ep.genres) if g)
    assert edits.uniqueid == xml_text(ep.uniqueid, kodi_safe=kodi_safe)
    if kodi_safe:
        assert all(ord(c) <= 0xFFFF for c in render_episode_nfo(ep, kodi_safe=True).decode())


@given(
    st.text(),
    st.text(),
    st.text(),
    st.lists(st.text(), max_size=3),
    st.lists(st.tuples(st.integers(0, 9999), st.text()), max_size=3),
    st.booleans(),
)
def test_tvshow_nfo_is_always_well_formed(
    title: str, uid: str, plot: str, genres: list[str], seasons: list[tuple[int, str]], kodi_safe: bool
) -> None:
    show = ShowInfo(title, uid, plot=plot, genres=tuple(genres), named_seasons=tuple(seasons))
    root, _ = safe_xml(render_tvshow_nfo(show, kodi_safe=kodi_safe))
    assert root.tag == "tvshow"
    assert root.findtext("title") == xml_text(title, kodi_safe=kodi_safe)


@given(st.integers(0, 9999), st.text())
def test_season_nfo_is_always_well_formed(number: int, title: str) -> None:
    root, _ = safe_xml(render_season_nfo(number, title))
    assert (root.findtext("seasonnumber"), root.findtext("title")) == (str(number), xml_text(title))


GOLDEN_BYTES = sorted(p.read_bytes() for p in GOLDEN.glob("*.nfo"))


@st.composite
def mutated_nfo(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(GOLDEN_BYTES)))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            del data[pos : pos + draw(st.integers(1, 20))]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6) | st.sampled_from([b"<", b"&", b"]]>"]))
    return bytes(data)


@given(st.binary() | mutated_nfo())
def test_fuzz_read_episode_nfo(data: bytes) -> None:
    try:
        read_episode_nfo(data)
    except NfoError as exc:
        message = exc.message
        assert message
