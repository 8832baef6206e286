"""OPML import (what podcast apps export) and export (OPML 2.0), with round trip and fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.feed_url import normalise_url
from antenna.formats.opml import OpmlError, OpmlFeed, parse_opml, render_opml
from antenna.formats.safe_xml import safe_xml

OPML = Path(__file__).parent.parent / "fixtures" / "opml"
NOW = datetime(2024, 3, 17, 10, 30, tzinfo=UTC)


def test_parse_app_export() -> None:
    feeds = parse_opml((OPML / "podcast_app_export.opml").read_bytes())
    assert feeds == [
        OpmlFeed("The Example Show", "https://feeds.example.com/show.xml", "https://example.com/show"),
        OpmlFeed("Daily & Nightly News", "http://daily.example.org/rss", ""),
        OpmlFeed("Ünïcode 🎧", "https://ü.example/feed?id=1&x=2", ""),
    ]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ((OPML / "not_opml.xml").read_bytes(), "root element is <rss>, not <opml>"),
        (b"", "not well-formed"),
        (b"Title,URL\nx,https://x/\n", "not well-formed"),
        (b"<opml><body><outline", "not well-formed"),
    ],
)
def test_not_opml(data: bytes, match: str) -> None:
    with pytest.raises(OpmlError, match=match):
        parse_opml(data)


def test_empty_opml() -> None:
    assert parse_opml(b'<opml version="2.0"><head/><body/></opml>') == []


def test_render_golden_shape() -> None:
    data = render_opml(
        "Antenna <subscriptions>",
        [
            OpmlFeed("A & B", "https://a.example/feed?x=1&y=2", "https://a.example/"),
            OpmlFeed("C", "https://c/"),
        ],
        datetime(2024, 3, 17, 12, 30, tzinfo=timezone(timedelta(hours=2))),
    )
    assert data == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<opml version="2.0">\n'
        b"  <head>\n"
        b"    <title>Antenna &lt;subscriptions&gt;</title>\n"
        b"    <dateCreated>Sun, 17 Mar 2024 10:30:00 GMT</dateCreated>\n"
        b"  </head>\n"
        b"  <body>\n"
        b'    <outline type="rss" text="A &amp; B" title="A &amp; B" xmlUrl="https://a.example/feed?x=1&amp;y=2"'
        b' htmlUrl="https://a.example/"/>\n'
        b'    <outline type="rss" text="C" title="C" xmlUrl="https://c/"/>\n'
        b"  </body>\n"
        b"</opml>\n"
    )


clean = st.text().map(lambda s: "".join(c for c in s if c.isprintable() or c in "\t\n")).map(str.strip)
urls = st.builds(
    lambda path: f"https://example.com/{path}", st.text(min_size=1).map(lambda s: s.encode().hex())
)


@given(clean, st.lists(st.builds(OpmlFeed, clean, urls, st.one_of(st.just(""), urls)), max_size=8))
def test_round_trip(title: str, feeds: list[OpmlFeed]) -> None:
    unique = list({normalise_url(f.xml_url): f for f in reversed(feeds)}.values())[::-1]
    parsed = parse_opml(render_opml(title, unique, NOW))
    assert parsed == unique
    root, _ = safe_xml(render_opml(title, unique, NOW))
    assert root.findtext("head/title") == title


@given(st.text(), st.lists(st.builds(OpmlFeed, st.text(), st.text(), st.text()), max_size=4))
def test_render_never_breaks_xml(title: str, feeds: list[OpmlFeed]) -> None:
    root, _ = safe_xml(render_opml(title, feeds, NOW))
    assert len(root.findall("body/outline")) == len(feeds)


FIXTURE = (OPML / "podcast_app_export.opml").read_bytes()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(FIXTURE)
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            del data[pos : pos + draw(st.integers(1, 20))]
        else:
            data[pos:pos] = draw(
                st.binary(min_size=1, max_size=6) | st.sampled_from([b"<", b"&", b'"', b"<outline "])
            )
    return bytes(data)


@given(st.binary() | mutated())
def test_fuzz_parse_opml(data: bytes) -> None:
    try:
        feeds = parse_opml(data)
    except OpmlError as exc:
        message = exc.message
        assert message
        return
    assert all(f.xml_url for f in feeds)
    assert len({normalise_url(f.xml_url) for f in feeds}) == len(feeds)
