"""The C reader of the streamed merge (iptv/_playlist_views.c) reads any input as the Python path does."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antenna.formats.guide import ParseWarning
from antenna.iptv import native, number_scan
from antenna.iptv.models import SourceConfig
from antenna.iptv.playlist_views import View, iter_views

C = native.built_module()
needs_c = pytest.mark.skipif(
    C is None, reason="the C playlist reader is not built (no C compiler at install)"
)


def test_the_c_reader_is_built_where_the_tests_require_it() -> None:
    # CI builds it (make test installs gcc and the Python headers first); elsewhere Python does the same work.
    if C is None:
        if os.environ.get("ANTENNA_REQUIRE_SERVICES") == "1":
            pytest.fail("antenna.iptv._playlist_views is not built: run `make install` with gcc present")
        pytest.skip("the C playlist reader is not built")


def read(
    data: bytes, chunk: int, source: SourceConfig, overridden: set[str], *, use_c: bool
) -> tuple[list[View], list[ParseWarning]]:
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    warnings: list[ParseWarning] = []
    views = [
        v for block in iter_views(pieces, warnings, source, overridden=overridden, use_c=use_c) for v in block
    ]
    return views, warnings


def assert_same_views(data: bytes, chunk: int, source: SourceConfig, overridden: Iterable[str] = ()) -> None:
    keys = set(overridden)
    python, python_warnings = read(data, chunk, source, keys, use_c=False)
    c, c_warnings = read(data, chunk, source, keys, use_c=True)
    assert c_warnings == python_warnings
    assert len(c) == len(python)
    for got, want in zip(c, python, strict=True):
        key, name, out_name, wanted, groups, _logo, _mid, _tail, rest, line = got
        assert (key, name, out_name, wanted, groups, line) == (want[0], *want[1:5], want[9])
        if rest is not None:
            assert rest == want[8]
        if rest is None or key in keys:  # the parts the merge composes the entry from again
            assert got[5:8] == want[5:8]


# Pieces of lines, chosen to hit every branch of both readers: the usual shape, its near misses, odd
# whitespace (NBSP, U+2028, tabs), broken UTF-8, quotes, directives, BOM and line ends of every kind.
FRAGMENTS = st.sampled_from(
    [
        b"#EXTM3U",
        b'#EXTM3U x-tvg-url="http://g/x.xml"',
        b"#EXTINF:-1",
        b"#EXTINF:0 ",
        b"#EXTINF:-1.5",
        b"#extinf:-1",
        b"#EXTINF:\xd9\xa3",
        b' tvg-id="a"',
        b' tvg-id="b"',
        b' tvg-id=""',
        b' tvg-name="N a"',
        b' tvg-name=""',
        b' TVG-ID="up"',
        b' tvg-chno="7"',
        b' tvg-chno=" 12 "',
        b' tvg-chno="1.25"',
        b' tvg-chno="\xd9\xa3"',
        b' ch-number="9"',
        b" tvg-chno=8",
        b' tvg-logo="http://l/a.png"',
        b' tvg-logo="rel/a.png"',
        b' group-title="News"',
        b' group-title=" Sp\xc2\xa0"',
        b' group-title="A;B"',
        b' group-title=""',
        b' radio="true"',
        b' radio="\xc2\xa0YES "',
        b' radio="no"',
        b' catchup="default"',
        b' catchup-days="7"',
        b' provider-logo="p"',
        b' tvg-shift="-1"',
        b" k='v'",
        b' k= "v"',
        b" junk",
        b' k="open',
        b' \xc3\xa4k="v"',
        b' k\xe2\x80\xa8="v"',
        b",",
        b",Name",
        b", Name \xf0\x9f\x93\xba",
        b",N\xff\xfeame",
        b",Sur\xed\xa0\x80rogate",
        b",Over\xc0\xaflong",
        b",Over\xe0\x80\x80long",
        b",Over\xf0\x8f\xbf\xbflong",
        b",Past\xf4\x90\x80\x80max",
        b",Cut\xf0\x9f\x93",
        b',Q"uote',
        b",\xe2\x80\x80",
        b",A,B",
        b"#EXTGRP:Extra",
        b"#KODIPROP:inputstream=adaptive",
        b"#KODIPROP:broken",
        b"#EXTVLCOPT:http-user-agent=UA \xc3\xa9",
        b"#EXT-X-VERSION:3",
        b"# comment",
        b"http://s/1.ts",
        b"http://s/2.ts|User-Agent=x",
        b"rtp://239.0.0.1:1234",
        b"not a url",
        b"\xef\xbb\xbf",
        b"  ",
        b"\t",
        b"\xc2\x85",
        b"\n",
        b"\r\n",
        b"\r",
        b"\n\n",
    ]
)
HEADS = st.sampled_from(
    [b"#EXTINF:-1", b"#EXTINF:0", b"#EXTINF:-1.5", b"#extinf:-1", b"#EXTINF:\xd9\xa3", b" #EXTINF:-1"]
)
ATTRS = st.sampled_from([f for f in FRAGMENTS.elements if f.startswith(b" ")])  # type: ignore[attr-defined]
NAMES = st.sampled_from([f for f in FRAGMENTS.elements if f.startswith(b",")] + [b""])  # type: ignore[attr-defined]
ENDS = st.sampled_from([b"\n", b"\r\n", b"\n\n", b" \n", b"\xc2\xa0\n", b"\r"])
BEFORE_URL = st.sampled_from(
    [b"", b"", b"#EXTGRP:Extra\n", b"#KODIPROP:inputstream=adaptive\n", b"#EXTVLCOPT:a=b\n", b"#KODIPROP:x\n"]
)
URLS = st.sampled_from(
    [b"http://s/1.ts", b"http://s/2.ts|User-Agent=x", b"rtp://239.0.0.1:1234", b"not a url", b""]
)


@st.composite
def entries(draw: st.DrawFn) -> bytes:
    """An entry near the usual shape: its #EXTINF, directives and URL, each part sometimes odd."""
    extinf = draw(HEADS) + b"".join(draw(st.lists(ATTRS, max_size=8))) + draw(NAMES)
    return extinf + draw(ENDS) + draw(BEFORE_URL) + draw(URLS) + draw(ENDS)


SOURCES = st.sampled_from(
    [
        SourceConfig(id=1, name="Prov"),
        SourceConfig(id=1, name='Q"uoted\nname', icon="http://i/icon.png"),
        SourceConfig(id=1, name="Rel", icon="icon.png", base_url="http://p/dir/list.m3u"),
        SourceConfig(id=1, name="Abs", base_url="http://p/list.m3u"),
        SourceConfig(id=1, name="Surrogate \udcff", icon="x"),
    ]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(FRAGMENTS, max_size=60),
    chunk=st.sampled_from([1, 3, 17, 64, 1 << 20]),
    source=SOURCES,
    overridden=st.sampled_from([(), ("a",), ("a", "up", "N a", "Name")]),
)
@needs_c
def test_c_and_python_read_any_playlist_alike(
    parts: list[bytes], chunk: int, source: SourceConfig, overridden: tuple[str, ...]
) -> None:
    assert_same_views(b"".join(parts), chunk, source, overridden)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(
        [b"", b"#EXTM3U\n", b"\xef\xbb\xbf#EXTM3U\r\n", b' \xef\xbb\xbf #EXTM3U x-tvg-url="u"\n']
    ),
    items=st.lists(st.one_of(entries(), FRAGMENTS), max_size=25),
    chunk=st.sampled_from([1, 7, 64, 1 << 20]),
    source=SOURCES,
    overridden=st.sampled_from([(), ("a",), ("a", "up", "N a", "Name")]),
)
@needs_c
def test_c_and_python_read_entries_alike(
    header: bytes, items: list[bytes], chunk: int, source: SourceConfig, overridden: tuple[str, ...]
) -> None:
    assert_same_views(header + b"".join(items), chunk, source, overridden)


@needs_c
def test_c_and_python_agree_on_long_and_crowded_entries() -> None:
    many = b"".join(b' catchup-days="%d"' % i for i in range(70))  # past the C reader's attribute table
    directives = b"\n".join(b"#KODIPROP:k%d=v" % i for i in range(20))  # past its directive table
    data = (
        b"#EXTM3U\n"
        b'#EXTINF:-1 tvg-id="many"'
        + many
        + b",Many\nhttp://s/m\n"
        + directives
        + b'\n#EXTINF:-1 tvg-id="d",D\n'
        b"http://s/d\n" + b'#EXTINF:-1 tvg-id="big" tvg-name="' + "é".encode() * 3000 + b'",Big\nhttp://s/b\n'
    )
    for chunk in (5, 1 << 20):
        assert_same_views(data, chunk, SourceConfig(id=1, name="P"), ("many",))


@needs_c
def test_broken_utf8_is_replaced_as_a_decoder_would() -> None:
    data = b'#EXTM3U\n#EXTINF:-1 tvg-id="x\xff" group-title="G\xe2\x80",Na\xc3me\xed\xa0\x80\nhttp://s/\xf0\x9f\n'
    assert_same_views(data, 1 << 20, SourceConfig(id=1, name="P"))
    (view,) = read(data, 1 << 20, SourceConfig(id=1, name="P"), set(), use_c=True)[0]
    assert view[0] == "x\ufffd"
    assert view[8] is not None
    assert view[8].decode() == view[8].decode("utf-8", errors="strict")  # valid UTF-8 written


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"c",
                b"C",
                b"h",
                b"H",
                b"n",
                b"O",
                b"-",
                b"tvg",
                b"TVG-",
                b"number",
                b"x" * 20,
                b"\n",
                b"chno",
                b"ch-number",
            ]
        ),
        max_size=50,
    )
)
@needs_c
def test_the_marker_search_finds_what_the_regex_finds(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert C is not None
    found = C.markers(data)
    os.environ["ANTENNA_NO_C"] = "1"
    try:
        assert number_scan._markers(data) == found
    finally:
        del os.environ["ANTENNA_NO_C"]
