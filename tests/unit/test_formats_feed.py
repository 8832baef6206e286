"""Podcast feed parsing: RSS + iTunes, Atom, awkward real-world shapes, search answers, fuzzing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antenna.errors import UserError
from antenna.formats.feed import (
    Feed,
    FeedError,
    parse_date,
    parse_feed,
    parse_search_results,
)
from antenna.formats.feed_url import normalise_url
from antenna.formats.html_text import html_to_text

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
URL = "https://feeds.example.com/pod/feed.xml"


def load(name: str, url: str = URL) -> Feed:
    return parse_feed((FEEDS / name).read_bytes(), url, NOW)


def test_rss_with_itunes_tags() -> None:
    feed = load("itunes.rss")
    assert feed.title == "The Example Show"
    assert feed.author == "Example Media"
    assert feed.description == "A weekly show about examples & tests."
    assert feed.link == "https://example.com/show"
    assert feed.image_url == "https://cdn.example.com/show/cover.jpg"
    assert feed.language == "en-us"
    assert feed.identity == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert feed.new_url == "https://new.example.com/show.xml"
    assert [e.key for e in feed.episodes] == ["ex-show-0002", "ex-show-0001"]
    ep2, ep1 = feed.episodes
    assert ep2.title == "Episode 2: Ünïcode & more"
    assert ep2.published == datetime(2024, 3, 17, 9, 30, tzinfo=UTC)
    assert ep2.enclosure_url == "https://cdn.example.com/show/ep2.mp3"
    assert (ep2.mime_type, ep2.size, ep2.duration) == ("audio/mpeg", 24986239, 3723)
    assert ep2.image_url == "https://cdn.example.com/show/ep2.jpg"
    assert ep2.link == "https://example.com/show/2"
    assert (ep2.season, ep2.number) == (3, 2)
    # content:encoded wins over the short description; the script's text never shows.
    assert ep2.description == "First paragraph with a link.\n\nSecond paragraph\nnext line & é"
    assert ep1.description == "Plain summary\non two lines."
    assert (ep1.size, ep1.duration, ep1.season, ep1.number) == (None, 1805, None, None)
    assert feed.warnings == ("1 items without a media file skipped",)


def test_atom_feed() -> None:
    feed = load("atom.xml", "https://atom.example.org/feeds/feed.atom")
    assert (feed.title, feed.author, feed.language) == ("Atom Cast", "Atom Author", "de")
    assert feed.description == "An Atom podcast"
    assert feed.link == "https://atom.example.org/"
    assert feed.image_url == "https://atom.example.org/img/logo.png"
    assert feed.identity == "https://atom.example.org"
    second, first = feed.episodes
    assert second.key == second.guid == "tag:atom.example.org,2023:2"
    assert second.published == datetime(2023, 11, 2, 6, 0, tzinfo=UTC)  # <published> beats <updated>
    assert second.enclosure_url == "https://atom.example.org/feeds/media/2.ogg"
    assert (second.mime_type, second.size, second.duration) == ("audio/ogg", 1234, 2700)
    assert second.link == "https://atom.example.org/posts/2"
    assert second.image_url == "https://atom.example.org/img/2.jpg"
    assert second.description == "Hello XHTML\n\nBye"
    assert (first.description, first.published) == ("Plain summary", datetime(2023, 10, 1, 8, tzinfo=UTC))
    assert first.enclosure_url == "https://media.example.net/1.mp4"
    assert feed.warnings == ("1 items without a media file skipped",)


def test_missing_guids_fall_back_to_the_enclosure_url() -> None:
    feed = load("missing_guids.rss")
    assert [(e.guid, e.key) for e in feed.episodes] == [
        ("", "http://media.noguids.example.com/two.mp3"),
        ("", "http://media.noguids.example.com/one.mp3"),
    ]
    assert feed.identity == "http://noguids.example.com"  # the link, normalised
    assert feed.warnings == ()


def test_repeated_guids_keep_the_oldest_and_drop_true_duplicates() -> None:
    feed = load("duplicate_guids.rss")
    keys = [e.key for e in feed.episodes]
    assert keys == [
        "https://dupes.example.com/3.mp3",
        "https://dupes.example.com/2.mp3",
        "https://dupes.example.com/",
    ]
    assert len(set(keys)) == len(keys)
    assert any("repeat another episode's GUID" in w for w in feed.warnings)
    assert any("duplicate episodes" in w for w in feed.warnings)


def test_reusing_a_guid_later_does_not_rekey_the_old_episode() -> None:
    before = load("duplicate_guids.rss")
    data = (FEEDS / "duplicate_guids.rss").read_bytes()
    newer = b"""<item><title>Brand new</title><guid>https://dupes.example.com/</guid>
      <pubDate>Fri, 05 Jan 2024 00:00:00 GMT</pubDate><enclosure url="https://dupes.example.com/5.mp3"/></item>"""
    after = parse_feed(data.replace(b"<item>", newer + b"<item>", 1), URL, NOW)
    assert {e.key for e in before.episodes} < {e.key for e in after.episodes}


def test_pre_1970_and_undated_episodes() -> None:
    feed = load("old_dates.rss")
    by_key = {e.key: e.published for e in feed.episodes}
    assert by_key["archive-1969"] == datetime(1969, 7, 21, 0, 17, 40, tzinfo=UTC)
    assert by_key["archive-1954"] == datetime(1954, 6, 1, 19, 0, tzinfo=UTC)
    assert by_key["archive-undated"] == NOW
    assert any("no usable date" in w for w in feed.warnings)
    assert [e.key for e in feed.episodes] == ["archive-undated", "archive-1969", "archive-1954"]


def test_relative_urls_resolve_against_the_feed_url() -> None:
    feed = load("relative_enclosures.rss", "https://rel.example.com/pod/feed.xml")
    assert [e.enclosure_url for e in feed.episodes] == [
        "https://rel.example.com/media/ep%202.mp3",
        "https://rel.example.com/pod/ep1.mp3",
    ]
    assert feed.image_url == "https://rel.example.com/pod/cover.png"


def test_html_descriptions_become_plain_text() -> None:
    feed = load("html_descriptions.rss")
    assert feed.description == "Show notes with HTML."
    tags, escaped = feed.episodes
    assert tags.description == "Topics\n\n• One & two\n\n• Café – 😀\n\nLine\nbreak"
    assert escaped.description == "Escaped & encoded\n\nTwo"
    assert feed.title == "HTML & Friends"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("plain text\nkept", "plain text\nkept"),
        ("a < b and c > d", "a < b and c > d"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("x<br>y<br/>z", "x\ny\nz"),
        ("<b>bold</b>  and\n\n  <i>more</i>", "bold and more"),
        ("&amp;&lt;&gt;&quot;&#39;&eacute;&#x263A;", "&<>\"'é☺"),
        ("<script>var x = '<p>';</script>visible", "visible"),
        ("<p>unclosed <b>tags", "unclosed tags"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_page_is_refused_with_a_clear_message() -> None:
    with pytest.raises(FeedError, match="is an HTML page, not a podcast feed") as err:
        load("html_page.html", "https://user:secret@example.com/show?token=abc")
    # Private feeds carry credentials in the URL; the message must not.
    assert "secret" not in str(err.value)
    assert "abc" not in str(err.value)


def test_xhtml_page_is_refused_as_html() -> None:
    data = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(data, URL, NOW)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ((FEEDS / "broken.xml").read_bytes(), "is not a podcast feed: .*Premature end"),
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"json": true}', "is not a podcast feed"),
        (b"<opml><body/></opml>", r"root element is <opml>"),
        (b"<rss/>", "has no <channel>"),
    ],
)
def test_not_a_feed(data: bytes, match: str) -> None:
    with pytest.raises(FeedError, match=match):
        parse_feed(data, URL, NOW)


def test_empty_feed_is_allowed() -> None:
    feed = parse_feed(b"<rss><channel><title>Soon</title></channel></rss>", URL, NOW)
    assert (feed.title, feed.episodes, feed.warnings) == ("Soon", (), ())
    assert feed.identity == normalise_url(URL)


def test_entity_bomb_is_not_expanded() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]>'
    data += "<rss><channel><title>A &l9; B</title></channel></rss>"
    started = time.perf_counter()
    refused = ""
    try:
        feed = parse_feed(data.encode(), URL, NOW)
    except FeedError as exc:  # libxml2 refuses the declarations' amplification outright
        refused = str(exc)
    else:  # or leaves the reference unexpanded, which is dropped
        assert feed.title == "A B"
        assert any("entity" in w for w in feed.warnings)
    assert not refused or "amplification" in refused
    assert time.perf_counter() - started < 5  # a generous bound: an expanded bomb would take minutes or crash


def test_declared_entities_are_dropped_not_expanded() -> None:
    data = (
        b'<!DOCTYPE rss [<!ENTITY who "Someone">]><rss><channel><title>By &who; here</title></channel></rss>'
    )
    feed = parse_feed(data, URL, NOW)
    assert feed.title == "By here"
    assert feed.warnings == ("1 XML entity references ignored (entities are never expanded)",)


def test_external_entities_are_never_loaded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]><rss><channel><title>&x;</title></channel></rss>'
    assert "SECRET" not in parse_feed(data.encode(), URL, NOW).title


def generated_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Episode {i}</title><guid isPermaLink='false'>g{i}</guid>"
        f"<pubDate>{datetime.fromtimestamp(1_600_000_000 + i * 3600, UTC):%a, %d %b %Y %H:%M:%S %z}</pubDate>"
        f"<description>&lt;p&gt;Notes for {i}&lt;/p&gt;</description>"
        f"<enclosure url='https://media.example.com/{i}.mp3' length='{i + 1}' type='audio/mpeg'/></item>"
        for i in range(count)
    )
    return f"<rss version='2.0'><channel><title>Big</title>{items}</channel></rss>".encode()


def test_five_thousand_items() -> None:
    feed = parse_feed(generated_feed(5000), URL, NOW)
    assert len(feed.episodes) == 5000
    assert len({e.key for e in feed.episodes}) == 5000
    assert feed.episodes[0].key == "g4999"
    assert feed.episodes[-1].description == "Notes for 0"
    assert all(a.published > b.published for a, b in zip(feed.episodes, feed.episodes[1:], strict=False))


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.COM:443/Feed/", "https://example.com/Feed"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:8080/a?b=C#frag", "http://example.com:8080/a?b=C"),
        ("  https://example.com/  ", "https://example.com"),
        ("feed://example.com/rss", "http://example.com/rss"),
        ("https://User:Pw@Example.com/x", "https://User:Pw@example.com/x"),
        ("http://[::1]:80/x/", "http://[::1]/x"),
        ("http://[broken/", "http://[broken/"),
    ],
)
def test_normalise_url(url: str, normal: str) -> None:
    assert normalise_url(url) == normal


@given(st.text())
def test_normalise_url_is_total_and_idempotent(url: str) -> None:
    once = normalise_url(url)
    assert normalise_url(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 02 May 1960 09:05:01 +0100", datetime(1960, 5, 2, 8, 5, 1, tzinfo=UTC)),
        ("Sun, 17 Mar 2024 10:00:00 PST", datetime(2024, 3, 17, 18, tzinfo=UTC)),
        ("17 Mar 2024 10:00:00", datetime(2024, 3, 17, 10, tzinfo=UTC)),
        ("2024-03-17T10:00:00+02:00", datetime(2024, 3, 17, 8, tzinfo=UTC)),
        ("2024-03-17", datetime(2024, 3, 17, tzinfo=UTC)),
        ("1900-01-01T00:00:00Z", datetime(1900, 1, 1, tzinfo=UTC)),
        ("", None),
        ("soon", None),
        ("31 Feb 2024 00:00 GMT", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_search_results() -> None:
    results = parse_search_results((FEEDS / "search.json").read_bytes())
    assert [r.feed_url for r in results] == [
        "https://feeds.example.com/show.xml",
        "https://small.example.net/rss",
    ]
    show, small = results
    assert (show.title, show.author, show.episode_count, show.genre) == (
        "The Example Show",
        "Example Media",
        250,
        "Technology",
    )
    assert show.image_url == "https://is1.example.com/600x600bb.jpg"
    assert (small.image_url, small.episode_count) == ("https://is1.example.com/small100.jpg", None)


@pytest.mark.parametrize("data", [b"<html>", b"", b"[1, 2]", b'{"results": 3}', b"[" * 100_000])
def test_search_results_refuse_what_is_not_a_search_answer(data: bytes) -> None:
    with pytest.raises(FeedError, match="podcast search"):
        parse_search_results(data)


def test_search_results_skip_junk_entries() -> None:
    data = json.dumps({"results": [1, None, {"feedUrl": 5}, {"feedUrl": "https://x/", "trackCount": True}]})
    assert [(r.feed_url, r.title, r.episode_count) for r in parse_search_results(data.encode())] == [
        ("https://x/", "", None)
    ]


# --- fuzzing: only FeedError (a UserError) may escape, and what comes out keeps its promises ---

FIXTURES = sorted(p.read_bytes() for p in FEEDS.iterdir() if p.suffix in (".rss", ".xml", ".html"))


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = draw(
            st.one_of(st.binary(max_size=8), st.sampled_from([b"<", b">", b"&", b"<item>", b"</item>"]))
        )
        if kind == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[pos:pos] = chunk
        else:
            data[pos : pos + len(chunk)] = chunk
    return bytes(data)


def assert_clear(exc: UserError) -> None:
    """A user error names the problem in one line."""
    assert exc.message
    assert "\n" not in exc.message


def check_feed(data: bytes) -> None:
    try:
        feed = parse_feed(data, URL, NOW)
    except FeedError as exc:
        assert_clear(exc)
        return
    keys = [e.key for e in feed.episodes]
    assert len(set(keys)) == len(keys)
    for episode in feed.episodes:
        assert episode.key
        assert episode.enclosure_url
        assert episode.published.tzinfo is UTC
    assert list(feed.episodes) == sorted(feed.episodes, key=lambda e: e.published, reverse=True)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary())
def test_fuzz_parse_feed_arbitrary_bytes(data: bytes) -> None:
    check_feed(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixture())
def test_fuzz_parse_feed_mutated_fixtures(data: bytes) -> None:
    check_feed(data)


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n"), max_size=30)


@st.composite
def generated_items(draw: st.DrawFn) -> bytes:
    """An RSS feed whose item fields hold arbitrary text: what podcastparser sees after the safe parse."""
    fields = ("guid", "title", "pubDate", "itunes:duration", "itunes:season", "itunes:episode", "description")
    items = []
    for _ in range(draw(st.integers(0, 4))):
        parts = [f"<{f}>{escape(draw(xml_text))}</{f}>" for f in fields if draw(st.booleans())]
        if draw(st.booleans()):
            url, length = escape(draw(xml_text), {'"': "&quot;"}), escape(draw(xml_text), {'"': "&quot;"})
            parts.append(f'<enclosure url="{url}" length="{length}" type="audio/mpeg"/>')
        items.append(f"<item>{''.join(parts)}</item>")
    ns = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
    return f"<rss {ns}><channel><title>T</title>{''.join(items)}</channel></rss>".encode()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(generated_items())
def test_fuzz_parse_feed_arbitrary_item_fields(data: bytes) -> None:
    check_feed(data)


@given(st.binary())
def test_fuzz_search_results(data: bytes) -> None:
    try:
        parse_search_results(data)
    except FeedError as exc:
        assert_clear(exc)
