"""The Plex pass on raw XMLTV elements: same rules as the value-based pass, DTD-valid output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from antenna.iptv import plex_xml

START = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
DTD = Path("/usr/share/xmltv/xmltv.dtd")


def rewrite(xml: str, stop: datetime | None = START + timedelta(hours=1)) -> etree._Element | None:
    data = plex_xml.rewrite(etree.fromstring(xml), "C1.1.antenna", START, stop)
    return None if data is None else etree.fromstring(data)


def test_attributes_times_and_lang() -> None:
    el = rewrite('<programme start="x" stop="y" channel="src" catchup-id="7"><title>News</title></programme>')
    assert el is not None
    assert dict(el.attrib) == {
        "start": "20261122180000 +0000",
        "stop": "20261122190000 +0000",
        "channel": "C1.1.antenna",
    }
    assert [(c.tag, c.get("lang")) for c in el] == [
        ("title", "en"),
        ("desc", "en"),
        ("category", "en"),
        ("episode-num", None),
    ]
    assert el.find("episode-num").get("system") == "original-air-date"


def test_plex_category_goes_first_and_duplicates_go() -> None:
    el = rewrite(
        '<programme start="x" channel="s"><title lang="de">Film</title><desc lang="de">d</desc>'
        '<category lang="de">Spielfilm</category><category>Movie</category><icon src="i"/>'
        "<star-rating><value>3/5</value></star-rating></programme>"
    )
    assert el is not None
    assert [c.text for c in el.iterchildren("category")] == ["Movie", "Spielfilm"]
    assert el.find("episode-num") is None  # movies keep none
    assert el.find("title").get("lang") == "de"


def test_existing_episode_numbers_and_order_repaired() -> None:
    el = rewrite(
        '<programme start="x" channel="s"><episode-num system="xmltv_ns">0.1.</episode-num>'
        "<live/><category>Drama</category><title>Show</title></programme>"
    )
    assert el is not None
    assert [c.tag for c in el] == ["title", "desc", "category", "category", "episode-num"]
    assert [c.text for c in el.iterchildren("category")] == ["Series", "Drama"]


def test_untitled_programmes_are_dropped() -> None:
    assert rewrite('<programme start="x" channel="s"><title> </title></programme>') is None


def _validates(programme: bytes) -> bool:
    doc = b'<tv><channel id="C1.1.antenna"><display-name>1</display-name></channel>' + programme + b"</tv>"
    return bool(etree.DTD(str(DTD)).validate(etree.fromstring(doc)))


TAGS = [
    "title",
    "sub-title",
    "desc",
    "date",
    "category",
    "keyword",
    "language",
    "length",
    "country",
    "episode-num",
    "previously-shown",
    "premiere",
    "new",
    "live",
    "image",
]


@pytest.mark.skipif(not DTD.exists(), reason="xmltv-util's xmltv.dtd is not installed")
@given(st.lists(st.sampled_from(TAGS), max_size=10), st.text(alphabet="abc Movie Sport News", max_size=12))
def test_any_child_order_comes_out_dtd_valid(tags: list[str], text: str) -> None:
    el = etree.Element("programme", start="x", channel="s")
    etree.SubElement(el, "title").text = "T"
    for tag in tags:
        child = etree.SubElement(el, tag)
        if tag not in ("previously-shown", "premiere", "new", "live", "image"):
            child.text = text or "x"
        if tag == "length":
            child.set("units", "minutes")
            child.text = "5"
    data = plex_xml.rewrite(el, "C1.1.antenna", START, None)
    assert data is not None
    assert _validates(data), data
