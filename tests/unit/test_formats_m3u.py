"""M3U reader and writer: IPTV Simple's examples, every tolerance case, fuzzing and the round trip."""

from __future__ import annotations

import collections
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.guide import ParseWarning
from antenna.formats.m3u import (
    MAX_WARNINGS,
    M3UEntry,
    decode_lines,
    iter_m3u,
    iter_m3u_records,
    line_blocks,
    parse_m3u,
    url_headers,
)
from antenna.formats.m3u_write import format_entry, format_extinf, render_m3u

# Shaped after the examples in pvr.iptvsimple's README.
IPTV_SIMPLE_README = """#EXTM3U tvg-shift="-4.5" x-tvg-url="http://path-to-xmltv/guide.xml" \
catchup-correction="0.0"
#EXTINF:0 tvg-id="channel-x" tvg-name="Channel_X" group-title="Entertainment;HD" tvg-chno="10" \
tvg-logo="http://path-to-icons/channel-x.png" radio="true" tvg-shift="-3.5",Channel X
#EXTVLCOPT:program=745
#KODIPROP:inputstream=inputstream.ffmpegdirect
#KODIPROP:inputstream.ffmpegdirect.stream_mode=timeshift
#KODIPROP:mimetype=video/mp2t
http://path-to-stream/live/channel-x.ts|user-agent=Mozilla%2F5.0&!custom=1
#EXTINF:0 tvg-id="channel-y" tvg-name="Channel_Y" ch-number="11" catchup="default" \
catchup-source="http://host/{utc}/{duration}" catchup-days="3",Channel Y
#EXTGRP:News
rtmp://path-to-stream/live/channel-y
#EXTINF:-1 tvg-ID="channel-z",Channel Z
#EXT-X-PLAYLIST-TYPE:VOD
udp://@239.0.0.1:1234
"""


def test_iptv_simple_readme_example() -> None:
    playlist = parse_m3u(IPTV_SIMPLE_README)
    assert playlist.warnings == ()
    assert playlist.header == (
        ("tvg-shift", "-4.5"),
        ("x-tvg-url", "http://path-to-xmltv/guide.xml"),
        ("catchup-correction", "0.0"),
    )
    x, y, z = playlist.entries
    assert (x.name, x.duration, x.line) == ("Channel X", "0", 2)
    assert (x.tvg_id, x.tvg_name, x.tvg_chno, x.radio) == ("channel-x", "Channel_X", "10", True)
    assert x.tvg_logo == "http://path-to-icons/channel-x.png"
    assert x.groups == ("Entertainment", "HD")
    assert x.vlcopts == (("program", "745"),)
    assert x.kodiprops == (
        ("inputstream", "inputstream.ffmpegdirect"),
        ("inputstream.ffmpegdirect.stream_mode", "timeshift"),
        ("mimetype", "video/mp2t"),
    )
    assert url_headers(x.url) == (
        "http://path-to-stream/live/channel-x.ts",
        {"user-agent": "Mozilla/5.0", "!custom": "1"},
    )
    assert (y.tvg_chno, y.attr("catchup-source"), y.groups, y.radio) == (
        "11",
        "http://host/{utc}/{duration}",
        ("News",),
        False,
    )
    assert (z.tvg_id, z.url, z.groups) == ("channel-z", "udp://@239.0.0.1:1234", ())


def test_names_keep_commas_and_quotes_after_the_attributes() -> None:
    (entry,) = parse_m3u('#EXTM3U\n#EXTINF:-1 tvg-name="A, B",Name, with "quotes"\nhttp://x/1\n').entries
    assert entry.name == 'Name, with "quotes"'
    assert entry.tvg_name == "A, B"


def test_bom_crlf_cr_and_lower_case_tags() -> None:
    for text in (
        '\ufeff#EXTM3U\r\n#EXTINF:-1 tvg-id="a",A\r\nhttp://x/a\r\n',
        '#EXTM3U\r#EXTINF:-1 tvg-id="a",A\rhttp://x/a\r',
        '#extm3u\n#extinf:-1 TVG-ID="a",A\nhttp://x/a',
    ):
        playlist = parse_m3u(text)
        assert playlist.warnings == ()
        assert [(e.name, e.tvg_id, e.url) for e in playlist.entries] == [("A", "a", "http://x/a")]


def test_iter_m3u_takes_file_lines_and_splits_stray_carriage_returns() -> None:
    warnings: list[ParseWarning] = []
    header: list[tuple[str, str]] = []
    lines = [
        '\ufeff#EXTM3U url-tvg="http://e/g.xml"\n',
        "#EXTINF:-1,A\r\nhttp://x/a\r\n",
        "#EXTINF:-1,B\rhttp://x/b\n",
    ]
    entries = list(iter_m3u(lines, warnings, header))
    assert [(e.name, e.url, e.line) for e in entries] == [("A", "http://x/a", 2), ("B", "http://x/b", 4)]
    assert header == [("url-tvg", "http://e/g.xml")]
    assert warnings == []


def test_attribute_forms() -> None:
    (entry,) = parse_m3u(
        "#EXTM3U\n#EXTINF:-1 tvg-id=abc tvg-name='Single q' TVG-LOGO = \"l.png\" empty= radio=Yes,N\nhttp://x\n"
    ).entries
    assert entry.attrs == (
        ("tvg-id", "abc"),
        ("tvg-name", "Single q"),
        ("TVG-LOGO", "l.png"),
        ("empty", ""),
        ("radio", "Yes"),
    )
    assert (entry.tvg_logo, entry.attr("Tvg-Id"), entry.radio, entry.attr("missing", "-")) == (
        "l.png",
        "abc",
        True,
        "-",
    )


def test_tvg_chno_and_ch_number_are_aliases() -> None:
    entry = M3UEntry("n", "u", attrs=(("ch-number", "7"),))
    assert (entry.tvg_chno, entry.attr("CH-NUMBER")) == ("7", "7")
    both = M3UEntry("n", "u", attrs=(("ch-number", "7"), ("tvg-chno", "8")))
    assert (both.tvg_chno, both.attr("ch-number")) == ("8", "7")


def test_groups_merge_group_title_and_extgrp() -> None:
    (entry,) = parse_m3u(
        '#EXTM3U\n#EXTINF:-1 group-title=" News ;;Sport;News",A\n#EXTGRP:Kids\n#EXTGRP:Sport\nhttp://x\n'
    ).entries
    assert entry.groups == ("News", "Sport", "Kids")


def test_directives_before_the_extinf_belong_to_the_next_url() -> None:
    text = "#EXTM3U\n#KODIPROP:a=1\n#EXTINF:-1,A\n#EXTVLCOPT:http-user-agent=UA\nhttp://a\n#EXTINF:-1,B\nhttp://b\n"
    a, b = parse_m3u(text).entries
    assert (a.kodiprops, a.vlcopts) == ((("a", "1"),), (("http-user-agent", "UA"),))
    assert (b.kodiprops, b.vlcopts) == ((), ())


def warned(text: str) -> list[tuple[str, str]]:
    return [(w.where, w.message) for w in parse_m3u(text).warnings]


def test_missing_header_and_blank_lines() -> None:
    playlist = parse_m3u("\n\n#EXTINF:-1,A\n\nhttp://a\n")
    assert [e.name for e in playlist.entries] == ["A"]
    assert warned("\n\n#EXTINF:-1,A\n\nhttp://a\n") == [("line 3", "no #EXTM3U header")]


def test_plain_url_list_becomes_channels_named_after_their_urls() -> None:
    playlist = parse_m3u("http://a/1.ts\nrtmp://b/2\n")
    assert [(e.name, e.url, e.line) for e in playlist.entries] == [
        ("http://a/1.ts", "http://a/1.ts", 1),
        ("rtmp://b/2", "rtmp://b/2", 2),
    ]
    assert [w.where for w in playlist.warnings] == ["line 1", "line 1", "line 2"]


def test_junk_lines_are_skipped_with_warnings() -> None:
    text = "#EXTM3U\nfoo\n# a comment\n#EXT-X-VERSION:3\n#EXTINF:-1,A\nhttp://a\n"
    playlist = parse_m3u(text)
    assert [e.name for e in playlist.entries] == ["A"]
    assert warned(text) == [("line 2", "ignored line: foo")]


def test_extinf_followed_by_extinf_drops_the_first() -> None:
    playlist = parse_m3u("#EXTM3U\n#EXTINF:-1,first\n#EXTINF:-1,second\nhttp://a\n#EXTINF:-1,dangling\n")
    assert [e.name for e in playlist.entries] == ["second"]
    assert [(w.where, w.message) for w in playlist.warnings] == [
        ("line 2", "#EXTINF without a URL ignored"),
        ("line 5", "#EXTINF at the end without a URL ignored"),
    ]


def test_extinf_without_comma_keeps_attributes_and_uses_trailing_text_as_name() -> None:
    playlist = parse_m3u('#EXTM3U\n#EXTINF:-1 tvg-id="x" My Channel\nhttp://a\n#EXTINF\nhttp://b\n')
    first, second = playlist.entries
    assert (first.name, first.tvg_id) == ("My Channel", "x")
    assert (second.name, second.duration) == ("http://b", "-1")
    assert [w.message for w in playlist.warnings] == [
        "#EXTINF has no comma before the channel name",
        "#EXTINF has no comma before the channel name",
        "channel has no name; named after its URL",
    ]


def test_empty_name_falls_back_to_tvg_name() -> None:
    (entry,) = parse_m3u('#EXTM3U\n#EXTINF:-1 tvg-name="From attr",\nhttp://a\n').entries
    assert entry.name == "From attr"


def test_unterminated_quote_runs_to_the_last_comma() -> None:
    playlist = parse_m3u('#EXTM3U\n#EXTINF:-1 tvg-id="x" tvg-name="A, B,Name\nhttp://a\n')
    (entry,) = playlist.entries
    assert (entry.name, entry.tvg_name) == ("Name", "A, B")
    assert [w.message for w in playlist.warnings] == ["attribute tvg-name has no closing quote"]


def test_stray_text_among_attributes_is_reported() -> None:
    playlist = parse_m3u('#EXTM3U\n#EXTINF:-1 tvg-id="x" catchup tvg-name="n",Name\nhttp://a\n')
    (entry,) = playlist.entries
    assert (entry.name, entry.attrs) == ("Name", (("tvg-id", "x"), ("tvg-name", "n")))
    assert [w.message for w in playlist.warnings] == ["ignored text in #EXTINF: catchup"]


def test_bad_kodiprop_is_reported() -> None:
    assert warned("#EXTM3U\n#KODIPROP:nothing\n#EXTINF:-1,A\nhttp://a\n") == [
        ("line 2", "#KODIPROP without key=value ignored")
    ]


def test_warnings_are_capped_and_the_rest_counted() -> None:
    playlist = parse_m3u("#EXTM3U\n" + "junk\n" * (MAX_WARNINGS + 500))
    assert len(playlist.warnings) == MAX_WARNINGS + 1
    assert playlist.warnings[-1].message == "500 more problems not listed"


def test_url_headers() -> None:
    assert url_headers("http://x/s.ts") == ("http://x/s.ts", {})
    assert url_headers("http://x/s.ts|User-Agent=abc%20d&Referer=http%3A%2F%2Fy&&flag") == (
        "http://x/s.ts",
        {"User-Agent": "abc d", "Referer": "http://y", "flag": ""},
    )


def test_writer_output() -> None:
    entry = M3UEntry(
        name="Line\nbreak",
        url="http://a/1.ts",
        attrs=(("tvg-id", "a"), ("tvg-name", 'Say "hi"'), ("group-title", "old"), ("bad key", "v")),
        groups=("News", "HD"),
        kodiprops=(("inputstream", "inputstream.ffmpegdirect"),),
        vlcopts=(("http-referrer", "http://r/"),),
    )
    assert "".join(render_m3u([("x-tvg-url", "http://e/g.xml")], [entry])).splitlines(keepends=True) == [
        '#EXTM3U x-tvg-url="http://e/g.xml"\n',
        '#EXTINF:-1 tvg-id="a" tvg-name="Say \'hi\'" group-title="News;HD" bad_key="v",Line break\n',
        "#KODIPROP:inputstream=inputstream.ffmpegdirect\n",
        "#EXTVLCOPT:http-referrer=http://r/\n",
        "http://a/1.ts\n",
    ]


def test_writer_appends_group_title_and_keeps_attrs_without_groups() -> None:
    assert format_extinf(M3UEntry("N", "u", groups=("A",), duration="bad")) == '#EXTINF:-1 group-title="A",N'
    assert format_extinf(M3UEntry("N", "u", attrs=(("group-title", "G"),))) == '#EXTINF:-1 group-title="G",N'


# --- properties -----------------------------------------------------------------------------------------

FRAGMENTS = [
    "#EXTM3U",
    "#EXTINF:-1",
    "#EXTINF:",
    "#EXTINF:-1,",
    ' tvg-id="',
    " tvg-id='a'",
    " tvg-name=",
    ' group-title="a;b"',
    ",",
    '"',
    "'",
    "=",
    " ",
    "#EXTGRP:",
    "#KODIPROP:",
    "#EXTVLCOPT:",
    "http://",
    "\ufeff",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\x85",
    "\u2028",
    "|a=%zz&",
]
m3u_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join)


@given(st.one_of(st.text(), m3u_like))
def test_parse_never_raises(text: str) -> None:
    playlist = parse_m3u(text)
    for entry in playlist.entries:
        assert entry.url
        assert entry.name
        assert entry.line >= 1
        url_headers(entry.url)
        "".join(render_m3u(playlist.header, [entry]))


@given(st.lists(st.one_of(st.text(), m3u_like)))
def test_iter_never_raises(lines: list[str]) -> None:
    warnings: list[ParseWarning] = []
    list(iter_m3u(lines, warnings, []))


def one_line(s: str) -> bool:
    return "\r" not in s and "\n" not in s


def safe_key(key: str) -> bool:
    return not any(c.isspace() or c in "=,\"'" for c in key) and key.lower() != "group-title"


stripped = st.text(min_size=1).filter(lambda s: one_line(s) and s == s.strip())
keys = st.text(min_size=1, max_size=12).filter(safe_key)
values = st.text(max_size=20).filter(lambda s: one_line(s) and '"' not in s)
prop_keys = stripped.filter(lambda s: "=" not in s)
prop_values = st.one_of(st.just(""), stripped)
group_names = stripped.filter(lambda s: ";" not in s and '"' not in s)
durations = st.one_of(st.sampled_from(["-1", "0", "3.5", "-2.25"]), st.integers(-10, 10**6).map(str))


@st.composite
def writer_safe_entries(draw: st.DrawFn) -> M3UEntry:
    attrs = draw(st.lists(st.tuples(keys, values), max_size=6))
    groups = tuple(draw(st.lists(group_names, max_size=3, unique=True)))
    if groups:
        attrs.insert(draw(st.integers(0, len(attrs))), ("group-title", ";".join(groups)))
    return M3UEntry(
        name=draw(stripped),
        url=draw(stripped.filter(lambda s: not s.startswith("#"))),
        attrs=tuple(attrs),
        duration=draw(durations),
        groups=groups,
        kodiprops=tuple(draw(st.lists(st.tuples(prop_keys, prop_values), max_size=3))),
        vlcopts=tuple(draw(st.lists(st.tuples(prop_keys, prop_values), max_size=2))),
    )


def comparable(entry: M3UEntry) -> tuple[object, ...]:
    return (entry.name, entry.url, entry.attrs, entry.groups, entry.kodiprops, entry.vlcopts, entry.duration)


@given(st.lists(st.tuples(keys, values), max_size=3), st.lists(writer_safe_entries(), max_size=5))
def test_round_trip(header: list[tuple[str, str]], entries: list[M3UEntry]) -> None:
    playlist = parse_m3u("".join(render_m3u(header, entries)))
    assert playlist.warnings == ()
    assert list(playlist.header) == header
    assert [comparable(e) for e in playlist.entries] == [comparable(e) for e in entries]


def generated_lines(count: int) -> collections.abc.Iterator[str]:
    yield '#EXTM3U x-tvg-url="http://epg.example/guide.xml.gz"\n'
    for i in range(count):
        yield (
            f'#EXTINF:-1 tvg-id="ch{i}.example" tvg-name="Channel {i}" '
            f'tvg-logo="http://logo.example/{i}.png" tvg-chno="{i + 1}" group-title="Group {i % 50};Extra",'
            f"Channel {i} HD\n"
        )
        if i % 10 == 0:
            yield "#KODIPROP:inputstream=inputstream.ffmpegdirect\n"
        yield f"http://provider.example:8080/live/user/pass/{i}.ts\n"


@pytest.mark.slow
def test_perf_smoke_200k_entries_stream_through() -> None:
    warnings: list[ParseWarning] = []
    started = time.perf_counter()
    lines = sum(chunk.count("\n") for chunk in render_m3u([], iter_m3u(generated_lines(200_000), warnings)))
    elapsed = time.perf_counter() - started
    assert lines == 1 + 200_000 * 2 + 20_000
    assert warnings == []
    print(f"200k entries parsed and rendered in {elapsed:.2f}s")


# Bytes a playlist file may hold: line ends of every kind, a BOM, bad and multi-byte UTF-8, quoting.
PLAYLIST_BYTES = st.lists(
    st.sampled_from(
        [b"#EXTM3U", b"\xef\xbb\xbf", b"#EXTINF:-1", b' tvg-id="a"', b" tvg-chno=7", b",Name", b"\n",
         b"\r\n", b"\r", b" ", b"http://u", b"\xff", b"\xc3\xa9", b"\xf0\x9f\x8e\x88", b"#KODIPROP:k=v", b'"',
         b"#EXTGRP:G"]
    ),
    max_size=60,
).map(b"".join)  # fmt: skip


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@given(data=PLAYLIST_BYTES, size=st.integers(1, 40))
def test_chunked_readers_see_the_lines_a_line_by_line_read_sees(data: bytes, size: int) -> None:
    import io

    by_line = [line.decode("utf-8", errors="replace") for line in io.BytesIO(data)]
    assert [line.rstrip("\n") for line in by_line] == list(decode_lines(chunked(data, size)))
    want_warnings: list[ParseWarning] = []
    want_header: list[tuple[str, str]] = []
    want = [
        (e.name, e.url, e.attrs, e.duration, e.groups, e.kodiprops, e.vlcopts, e.line)
        for e in iter_m3u(by_line, want_warnings, want_header)
    ]
    got_warnings: list[ParseWarning] = []
    got_header: list[tuple[str, str]] = []
    got = list(iter_m3u_records(line_blocks(chunked(data, size)), got_warnings, got_header))
    assert (got, got_warnings, got_header) == (want, want_warnings, want_header)


def test_format_entry_is_what_render_m3u_writes() -> None:
    entry = M3UEntry(
        "N\nx", "http://u\r", (("tvg-id", 'q"'),), "5", groups=("A", "B"), kodiprops=(("k", "v\n"),)
    )
    assert "".join(render_m3u([], [entry])).split("\n", 1)[1] == format_entry(
        entry.name, entry.url, entry.attrs, entry.groups, entry.kodiprops, entry.vlcopts, entry.duration
    )
