"""The streamed playlist merge writes byte for byte what the general merge writes, and says the same."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.formats.guide import ParseWarning
from antenna.formats.m3u import decode_lines, iter_m3u
from antenna.iptv import engine, native, plan
from antenna.iptv.models import ChannelFilter, Override, SourceConfig, plex_safe_id
from antenna.iptv.number_scan import scan_numbers
from antenna.iptv.playlist_stream import StreamStats, stream_playlist
from antenna.iptv.playlist_views import iter_views


def general(
    sources: Sequence[tuple[SourceConfig, bytes]], overrides: Mapping[tuple[int, str], Override], url: str
) -> tuple[bytes, list[str], list[str], list[str], int]:
    """Merge as engine.merge + write_playlist + report do; return the playlist and what the report says."""
    parsed = []
    for config, data in sources:
        found: list[ParseWarning] = []
        parsed.append((config, list(iter_m3u(decode_lines([data]), found))))
    channels, duplicates, warnings = plan.merge_channels(parsed, overrides)
    merged = engine.Merged(plan.map_guide(channels, [], overrides), [], duplicates, warnings)
    out = io.BytesIO()
    engine.write_playlist(merged, out, guide_url=url)
    report = engine.report(merged, None, {})
    assert len(report.added) == len(channels)
    return (
        out.getvalue(),
        list(report.duplicates),
        list(report.warnings),
        list(report.without_guide),
        len(channels),
    )


def streamed(
    sources: Sequence[tuple[SourceConfig, bytes]],
    overrides: Mapping[tuple[int, str], Override],
    url: str,
    chunk: int = 1 << 20,
    *,
    use_c: bool = False,
    names: bool = True,
) -> tuple[bytes, list[str], list[str], list[str], int]:
    """Merge with stream_playlist, reading each source in chunks of `chunk` bytes, in C or in Python."""
    inputs = []
    for config, data in sources:
        pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        scan = scan_numbers(pieces)
        assert scan is not None
        overridden = {key for sid, key in overrides if sid == config.id}
        inputs.append((config, iter_views(pieces, [], config, overridden=overridden, use_c=use_c), scan))
    stats = StreamStats()
    header = [("x-tvg-url", url)] if url else []
    data = b"".join(stream_playlist(inputs, overrides, header=header, stats=stats, names=names, use_c=use_c))
    return data, stats.duplicates, stats.warnings, stats.without_guide, stats.channels


def assert_same(
    sources: Sequence[tuple[SourceConfig, bytes]],
    overrides: Mapping[tuple[int, str], Override] | None = None,
    url: str = "",
    chunk: int = 1 << 20,
) -> bytes:
    """Check the streamed merge against the general one: in Python and in C (when built), with the
    channels without guide listed (names) and without (which lets C write runs of usual channels)."""
    expected = general(sources, overrides or {}, url)
    got = expected
    for use_c in (False, True) if native.built_module() is not None else (False,):
        for names in (True, False):
            got = streamed(sources, overrides or {}, url, chunk, use_c=use_c, names=names)
            assert got[0].decode() == expected[0].decode(), (use_c, names)
            assert got[1:3] == expected[1:3], (use_c, names)
            assert got[4] == expected[4], (use_c, names)
            if names:
                assert got[3] == expected[3], use_c
    return got[0]


SRC = SourceConfig(id=1, name="Prov", icon="logo.png", base_url="http://p/x/list.m3u")


def test_presets_later_in_the_file_are_honoured_and_fill_in_order() -> None:
    data = (
        b"#EXTM3U\n"
        b'#EXTINF:-1 tvg-id="a",A\nhttp://p/a\n'
        b'#EXTINF:-1 tvg-id="b",B\nhttp://p/b\n'
        b'#EXTINF:-1 tvg-id="c" tvg-chno="1",C\nhttp://p/c\n'
        b'#EXTINF:-1 tvg-id="a" tvg-chno="2",A again\nhttp://p/a2\n'  # a duplicate: its preset does not count
        b'#EXTINF:-1 tvg-id="d" TVG-CHNO="3",D\nhttp://p/d\n'
        b'#EXTINF:-1 tvg-id="e" ch-number="3",E\nhttp://p/e\n'  # taken: renumbered
    )
    out = assert_same([(SRC, data)], url="http://e/g.xml")
    lines = out.decode().splitlines()
    assert lines[0] == '#EXTM3U x-tvg-url="http://e/g.xml"'
    assert [line.rsplit(",", 1)[1] for line in lines[1::2]] == ["C", "A", "D", "B", "E"]
    assert f'tvg-id="{plex_safe_id("1")}"' in lines[1]


def test_group_starts_filters_overrides_directives_and_odd_entries() -> None:
    source = SourceConfig(
        id=3,
        name="Two",
        group_starts=(("Sports", 100), ("News", 2)),
        filter=ChannelFilter(exclude_groups=("Adult",), exclude_regex=r"\bTEST\b"),
        base_url="http://q/list.m3u",
    )
    data = (
        "\ufeff#EXTM3U\r\n"
        '#EXTINF:-1 tvg-id="s1" group-title="Sports",S1\r\n#KODIPROP:inputstream=adaptive\r\nhttp://q/s1\r\n'
        '#EXTINF:-1 tvg-id="n1" group-title="News" tvg-logo="n.png" radio="YES",N "One"\r\nhttp://q/n1\r\n'
        '#EXTINF:-1 tvg-id="x" group-title="Adult",X\r\nhttp://q/x\r\n'
        '#EXTINF:-1 tvg-id="t",TEST channel\r\nhttp://q/t\r\n'
        '#EXTINF:-1 Tvg-Id="up" Catchup="default" catchup-days="7",Upper\r\n#EXTVLCOPT:http-user-agent=UA\r\n'
        "http://q/up|User-Agent=x\r\n"
        "#EXTINF:-1 tvg-chno=  '5' tvg-id=q,Quoted\r\nhttp://q/q\r\n"
        '#EXTINF:-1 tvg-chno="2" tvg-id="n2" group-title="News",N2\r\nhttp://q/n2\r\n'
        '#EXTINF:-1 tvg-chno="7 tvg-id="broken",Broken\r\nhttp://q/b\r\n'
        "http://q/bare-url\r\n"
        '#EXTINF:-1 tvg-id="o" tvg-chno="0100",Leading zero\r\nhttp://q/o\r\n'
        '#EXTINF:-1 tvg-id="f" tvg-chno="5.1",Five one\r\nhttp://q/f\r\n'
        '#EXTINF:-1 tvg-id="off",Off\r\nhttp://q/off\r\n'
    ).encode()
    overrides = {
        (3, "off"): Override(enabled=False),
        (3, "s1"): Override(name="Sport One", group="Live", logo="http://l/s1.png"),
        (3, "up"): Override(number="1"),
        (3, "q"): Override(number="100"),
    }
    first = (SRC, b'#EXTM3U\n#EXTINF:-1 tvg-id="a" tvg-chno="101",A\nhttp://p/a\n')
    assert_same([first, (source, data)], overrides)
    for chunk in (1, 7, 64):
        assert_same([first, (source, data)], overrides, chunk=chunk)


def test_scan_finds_every_line_that_may_carry_a_number() -> None:
    data = (
        b'#EXTINF:-1 tvg-chno="12",A\nhttp://a\n'
        b"#EXTINF:-1 CH-NUMBER=13 tvg-name='x',B\nhttp://b\n"
        b'#EXTINF:-1 tvg-chno="nope",C\nhttp://c\n'
        b'#EXTINF:-1 tvg-chno="14,D\nhttp://d"\n'  # no closing quote on the line: unknown
        b'#EXTINF:-1 xchno="15",E\nhttp://e\n'
    )
    assert scan_numbers([data]) == [(1, ("12",)), (3, ("13",)), (7, None)]
    assert scan_numbers([b"#EXTM3U\r#EXTINF:-1,A\rhttp://a\r"]) is None  # CR-only lines: not streamable


NAMES = st.sampled_from(["A", "B", "Ch 1", 'Q"uote', "TEST x", "Ümlaut", "C,omma"])
IDS = st.sampled_from(["", "a", "b", "c", "d", "e", "A"])
NUMBERS = st.sampled_from(["", "", "", "1", "2", "3", "10", "010", "2.1", "x", " 4 ", "1000000", "9"])
GROUPS = st.sampled_from(["", "Sports", "News", "Adult", "A;B"])


@st.composite
def playlists(draw: st.DrawFn) -> bytes:
    lines = ["#EXTM3U"]
    for _ in range(draw(st.integers(0, 14))):
        attrs = []
        if tvg_id := draw(IDS):
            attrs.append(f'tvg-id="{tvg_id}"')
        if number := draw(NUMBERS):
            key = draw(st.sampled_from(["tvg-chno", "ch-number", "TVG-CHNO"]))
            quote = draw(st.sampled_from(['"', "'", ""]))
            attrs.append(f"{key}={quote}{number.strip() if not quote else number}{quote}")
        if group := draw(GROUPS):
            attrs.append(f'group-title="{group}"')
        if draw(st.booleans()):
            attrs.append('catchup="default"')
        lines.append(f"#EXTINF:-1 {' '.join(attrs)},{draw(NAMES)}")
        if draw(st.integers(0, 5)) == 0:
            lines.append("#KODIPROP:k=v")
        lines.append(f"http://p/{len(lines)}")
    return ("\n".join(lines) + "\n").encode()


OVERRIDES = st.dictionaries(
    st.tuples(st.sampled_from([1, 2]), st.sampled_from(["a", "b", "c", "A", "Ch 1"])),
    st.builds(
        Override,
        number=st.sampled_from([None, "1", "3", "7"]),
        group=st.sampled_from([None, "News", "Live"]),
        enabled=st.sampled_from([None, False]),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    one=playlists(),
    two=playlists(),
    overrides=OVERRIDES,
    starts=st.sampled_from([(), (("Sports", 3),), (("news", 1), ("Sports", 9))]),
    excluded=st.sampled_from([(), ("Adult",)]),
    chunk=st.sampled_from([3, 50, 1 << 20]),
)
def test_streamed_merge_equals_the_general_merge(
    one: bytes,
    two: bytes,
    overrides: dict[tuple[int, str], Override],
    starts: tuple[tuple[str, int], ...],
    excluded: tuple[str, ...],
    chunk: int,
) -> None:
    first = SourceConfig(id=1, name="One", group_starts=starts)
    second = SourceConfig(id=2, name="Two", filter=ChannelFilter(exclude_groups=excluded), icon="i.png")
    assert_same([(first, one), (second, two)], overrides, url="http://g", chunk=chunk)
