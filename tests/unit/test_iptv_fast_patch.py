"""The byte-level Plex patch gives what the element path gives; the finisher's worker gives the same."""

from __future__ import annotations

import gzip
import io
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from antenna.formats.xmltv import GuideError
from antenna.iptv import fast_patch, guide_write, plex_xml
from antenna.iptv.finisher import GuidePipe
from antenna.iptv.guide_merge import GuideMerger
from antenna.iptv.models import Channel

START = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
DTD = Path("/usr/share/xmltv/xmltv.dtd")


def _canonical(el: Any) -> tuple[Any, ...]:
    """An element as a comparable value, whitespace-only text ignored."""
    text = (el.text or "").strip() or None
    return (el.tag, dict(el.attrib), text, tuple(_canonical(child) for child in el))


def both(xml: str, stop: datetime | None = START + timedelta(hours=1)) -> tuple[bytes | None, bytes | None]:
    """Return (fast, element path) for one programme."""
    el = etree.fromstring(xml)
    fast = plex_xml.rewrite(el, "C1.1.antenna", START, stop)
    return fast, plex_xml.rewrite(etree.fromstring(xml), "C1.1.antenna", START, stop, fast=False)


def same(xml: str) -> bytes | None:
    fast, slow = both(xml)
    if slow is None:
        assert fast is None
        return None
    assert fast is not None, xml
    assert _canonical(etree.fromstring(fast)) == _canonical(etree.fromstring(slow)), (fast, slow)
    return fast


def test_usual_programme_is_patched_without_the_element_path() -> None:
    xml = (
        '<programme start="20261122190000 +0100" channel="src">\n    <title>Tom &amp; Jerry</title>\n'
        "    <credits><actor>A<url>u</url></actor></credits>\n"
        '    <category lang="de">Zeichentrick</category>\n    <icon src="i.png"/>\n  </programme>'
    )
    data = etree.tostring(etree.fromstring(xml), encoding="utf-8")
    tagged, aired = plex_xml.retag(data, "C1.1.antenna", int(START.timestamp()), -1)
    patched = fast_patch.patch(tagged, aired, "en")
    assert isinstance(patched, bytes)
    el = etree.fromstring(patched)
    assert [c.tag for c in el] == ["title", "desc", "credits", "category", "category", "icon", "episode-num"]
    assert el.findtext("desc") == "Tom & Jerry"
    assert [c.text for c in el.iterchildren("category")] == ["Series", "Zeichentrick"]
    assert el.get("start") == "20261122180000 +0000"
    assert patched.count(b"\n    <") == 7  # the source's indent kept for every child
    same(xml)


@pytest.mark.parametrize(
    "xml",
    [
        '<programme start="x" channel="s"><title>News</title></programme>',
        '<programme start="x" channel="s" catchup-id="7"><title>T</title><category>Drama</category>'
        "<category>Movie</category><category>Series</category></programme>",  # Plex's category further down
        '<programme start="x" channel="s"><title lang="">T</title></programme>',  # empty lang
        '<programme start="x" channel="s"><title foo="1">T</title></programme>',  # attributes besides lang
        '<programme start="x" channel="s"><title>T<b>x</b></title></programme>',  # markup in a title
        '<programme start="x" channel="s"><title> </title><title>Second</title></programme>',
        '<programme start="x" channel="s"><desc><desc>nested</desc></desc><title>T</title></programme>',
        '<programme start="x" channel="s"><title>T</title><credits><credits/></credits></programme>',
        '<programme start="x" channel="s"><title>T</title><live/><date>1</date><date>2</date></programme>',
        '<programme start="x" channel="s"><title>T</title><episode-num system="">1</episode-num></programme>',
        '<programme start="x" channel="s"><title>T</title><episode-num>S1E2</episode-num></programme>',
        '<programme start="x" channel="s"><title>T\r</title></programme>',
        '<programme start="x" channel="s"/>',
        '<programme start="x" channel="s"><sub-title>no title</sub-title></programme>',
    ],
)
def test_unusual_programmes_come_out_as_the_element_path_makes_them(xml: str) -> None:
    same(xml)


TAGS = ["title", "sub-title", "desc", "credits", "date", "category", "keyword", "icon", "episode-num", "new",
        "rating", "live"]  # fmt: skip
WORDS = ["Movie", "Film", "Sport", "News", "Drama", "Kids", "Noticias", "A & B", "<x>", "Ünïcode 🎬", " "]
SYSTEMS = [None, "xmltv_ns", "onscreen", "original-air-date", "dd_progid", ""]


@st.composite
def programmes(draw: Any) -> str:
    parts = []
    for tag in draw(st.lists(st.sampled_from(TAGS), max_size=9)):
        text = draw(st.sampled_from(WORDS)).replace("&", "&amp;").replace("<", "&lt;")
        lang = draw(st.sampled_from(["", ' lang="de"', ' lang="en"']))
        if tag in ("title", "sub-title", "desc", "category", "keyword"):
            parts.append(f"<{tag}{lang}>{text}</{tag}>")
        elif tag == "episode-num":
            system = draw(st.sampled_from(SYSTEMS))
            attr = "" if system is None else f' system="{system}"'
            parts.append(f"<episode-num{attr}>1.2.</episode-num>")
        elif tag == "credits":
            parts.append("<credits><actor role='x'>A<image>i</image><url>u</url></actor></credits>")
        elif tag in ("icon", "new", "live"):
            parts.append(f'<{tag} src="s?a=1&amp;b=2"/>' if tag == "icon" else f"<{tag}/>")
        elif tag == "rating":
            parts.append('<rating system="FSK"><value>12</value><icon src="r"/></rating>')
        else:
            parts.append(f"<{tag}>{text}</{tag}>")
    indent = draw(st.sampled_from(["", "\n    "]))
    body = "".join(indent + part for part in parts)
    return f'<programme start="x" channel="s">{body}{indent[:-2]}</programme>'


@settings(max_examples=300, deadline=None)
@given(programmes())
def test_fast_patch_matches_the_element_path(xml: str) -> None:
    fast = same(xml)
    if fast is not None and DTD.exists() and "<live" not in xml:
        doc = b'<tv><channel id="C1.1.antenna"><display-name>1</display-name></channel>' + fast + b"</tv>"
        dtd = etree.DTD(str(DTD))
        assert dtd.validate(etree.fromstring(doc)) or "date" in xml, dtd.error_log  # a second <date> aside


def _merger() -> GuideMerger:
    channels = [
        Channel(1, "a", "A", "http://a", "1", ("G",), guide_ids=((9, "src"),)),
        Channel(1, "b", "B", "http://b", "2", ("G",), guide_ids=((9, "src"), (8, "other"))),
    ]
    return GuideMerger(
        channels, window_start=START - timedelta(hours=1), window_end=START + timedelta(days=2)
    )


def _programmes(count: int) -> list[tuple[bytes, str, int, int]]:
    items = []
    for index in range(count):
        title = f"<title>Show {index}</title>" if index % 7 else "<title> </title>"  # every 7th: untitled
        attrs = 'start="x" channel="src" catchup-id="c" clumpidx="0/1"'
        xml = f"<programme {attrs}>{title}<category>Sport</category></programme>"
        start = int((START + timedelta(minutes=30 * index)).timestamp())
        items.append((xml.encode(), "src", start, start + 1800))
    return items


def _run(pipe: GuidePipe, items: list[tuple[bytes, str, int, int]]) -> bytes:
    out = bytearray()
    for source in (9, 8):
        for block, _count in pipe.begin(source):
            out += block
        for item in items:
            for block, _count in pipe.add(item[0], "src" if source == 9 else "other", *item[2:]):
                out += block
    for finished, _count in pipe.flush():
        out += finished if isinstance(finished, bytes) else Path(finished).read_bytes()
    return bytes(out)


def test_the_worker_merges_what_this_process_would(tmp_path: Path) -> None:
    items = _programmes(50)
    here_merger, there_merger = _merger(), _merger()
    with GuidePipe(here_merger, "en", parallel=False, batch=8) as here:
        expected = _run(here, items)
    with GuidePipe(there_merger, "en", parallel=True, batch=8, temp_dir=str(tmp_path)) as there:
        assert _run(there, items) == expected
    assert there_merger.coverage() == here_merger.coverage()
    assert there_merger.untitled == here_merger.untitled == 2 * 8  # source 8's programmes overlap source 9's
    assert list(tmp_path.iterdir()) == []  # the worker's file is gone
    doc = etree.fromstring(b"<tv>" + expected + b"</tv>")
    assert len(doc) == 2 * 42
    assert {p.get("clumpidx") for p in doc} == {"0/1"}  # in xmltv.dtd: kept
    assert {p.get("catchup-id") for p in doc} == {None}  # not in it: dropped
    assert {p.get("channel") for p in doc} == {"C1.1.antenna", "C2.2.antenna"}


def test_a_worker_that_dies_fails_the_merge_clearly(tmp_path: Path) -> None:
    items = _programmes(20)
    with GuidePipe(_merger(), "en", parallel=True, batch=4, temp_dir=str(tmp_path)) as pipe:
        pipe.begin(9)
        for item in items[:8]:
            pipe.add(*item)
        worker = pipe._worker  # the test reaches in only to kill the real process
        assert worker is not None
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        for item in items[8:]:
            try:
                pipe.add(*item)
            except GuideError:
                break  # the pipe may already refuse a batch
        with pytest.raises(GuideError, match="guide worker stopped unexpectedly"):
            list(pipe.flush())
    assert list(tmp_path.iterdir()) == []


def test_finished_file_is_copied_into_plain_and_gzip_outputs(tmp_path: Path) -> None:
    source = tmp_path / "finished.xml"
    source.write_bytes(b"<programme/>\n" * 100_000)
    plain_path = tmp_path / "out.xml"
    packed = io.BytesIO()
    with plain_path.open("wb") as plain, gzip.GzipFile(fileobj=packed, mode="wb") as zipped:
        plain.write(b"head\n")
        guide_write._copy_file(source, [plain, cast(BinaryIO, zipped)])
        plain.write(b"tail\n")
    assert plain_path.read_bytes() == b"head\n" + source.read_bytes() + b"tail\n"
    assert gzip.decompress(packed.getvalue()) == source.read_bytes()
