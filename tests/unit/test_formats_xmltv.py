"""XMLTV reader and writer: compression, every DTD element, times, broken and hostile guides, memory."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import random
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from antenna.errors import UserError
from antenna.formats.guide import Credit, EpisodeNum, GuideChannel, Programme
from antenna.formats.xmltv import (
    MAX_WARNINGS,
    GuideError,
    ReadStats,
    XmltvWriter,
    format_time,
    open_stream,
    parse_time,
    read_xmltv,
)
from tests.conftest import service_missing

FIXTURES = Path(__file__).parent.parent / "fixtures" / "xmltv"
FULL = (FIXTURES / "full.xml").read_bytes()
DTD_PATH = Path("/usr/share/xmltv/xmltv.dtd")
BERLIN = ZoneInfo("Europe/Berlin")
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

Item = GuideChannel | Programme


def read(data: bytes, **kwargs: object) -> list[Item]:
    """Read a whole guide from bytes."""
    return list(read_xmltv(io.BytesIO(data), **kwargs))  # type: ignore[arg-type]


def write(items: list[Item], *, kodi: bool = False) -> bytes:
    """Write channels then programmes into bytes."""
    out = io.BytesIO()
    with XmltvWriter(out, source_url="http://antenna.example/guide.xml") as writer:
        for item in items:
            if isinstance(item, GuideChannel):
                writer.channel(item)
        for item in items:
            if isinstance(item, Programme):
                writer.programme(item, kodi=kodi)
    return out.getvalue()


def programme_xml(body: str = "<title>T</title>", **attrs: str) -> str:
    """Return one <programme> element with the given attributes (defaults: a valid start and channel)."""
    attrs = {"start": "20260101120000 +0000", "channel": "a.uk", **attrs}
    rendered = " ".join(
        f'{key.replace("_", "-")}="{value}"' for key, value in attrs.items() if value is not None
    )
    return f"<programme {rendered}>{body}</programme>"


def guide(*elements: str) -> bytes:
    """Wrap elements in a <tv> document."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n' + "\n".join(elements) + "\n</tv>\n").encode()


def dtd_errors(data: bytes) -> list[str]:
    """Validate against Debian's xmltv.dtd with lxml; return the errors."""
    dtd = etree.DTD(str(DTD_PATH))
    ok = dtd.validate(etree.fromstring(data))
    return [] if ok else [str(e) for e in dtd.error_log]


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(
    "compress",
    [lambda b: b, gzip.compress, lzma.compress, bz2.compress],
    ids=["plain", "gzip", "xz", "bzip2"],
)
def test_reads_plain_and_compressed(compress: object) -> None:
    data = compress(FULL)  # type: ignore[operator]
    items = read(data)
    assert [type(i).__name__ for i in items] == ["GuideChannel"] * 2 + ["Programme"] * 3
    assert items == read(FULL)


def test_open_stream_loses_no_bytes_from_a_trickling_source() -> None:
    class Trickle(io.RawIOBase):
        """Returns one byte per read, like a slow socket."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self._data.read(1)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert open_stream(Trickle(FULL)).read() == FULL  # type: ignore[arg-type]
    assert open_stream(Trickle(gzip.compress(FULL))).read() == FULL  # type: ignore[arg-type]
    assert open_stream(io.BytesIO(b"<t")).read() == b"<t"


def test_every_dtd_element_is_read() -> None:
    stats = ReadStats()
    items = read(FULL, stats=stats)
    assert (stats.channels, stats.programmes, stats.skipped, stats.warnings) == (2, 3, 0, [])
    bbc, arte, dw, news, short = items
    assert bbc == GuideChannel(
        "bbc1.uk",
        (("BBC One", "en"), ("101", "")),
        ("http://example.org/bbc1.png",),
        ("http://www.bbc.co.uk/",),
    )
    assert arte == GuideChannel("arte.de", (("ARTE & Co – Kultur ✓", "de"),))
    assert isinstance(dw, Programme)
    assert dw.start == datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    assert dw.stop == datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert dw.titles == (("Doctor Who", "en"), ("Doctor Pwy", "cy"))
    assert dw.sub_titles == (("The <Star> Beast", "en"),)
    assert dw.descs == (
        ("A long description with \"quotes\", 'apostrophes', & ampersands — and an emoji 🛸.", "en"),
        ("Eine Beschreibung.", "de"),
    )
    assert dw.credits == (
        Credit("director", "Rachel Talalay"),
        Credit("actor", "David Tennant", "The Doctor"),
        Credit("actor", "Catherine Tate"),
        Credit("writer", "Russell T Davies"),
        Credit("adapter", "An Adapter"),
        Credit("producer", "Joel Collins"),
        Credit("composer", "Murray Gold"),
        Credit("editor", "An Editor"),
        Credit("presenter", "A Presenter"),
        Credit("commentator", "A Commentator"),
        Credit("guest", "A Guest"),
    )
    assert dw.date == "20231125"
    assert dw.categories == (("Series", "en"), ("Sci-Fi", "en"))
    assert dw.keywords == (("time-travel", "en"),)
    assert dw.language == "en"
    assert dw.length_seconds == 90 * 60
    assert dw.icons == ("http://example.org/dw.jpg",)
    assert dw.urls == ("http://example.org/dw",)
    assert dw.countries == ("GB",)
    assert dw.episode_nums == (
        EpisodeNum("xmltv_ns", "13.0.0/1"),
        EpisodeNum("onscreen", "S14E01"),
        EpisodeNum("onscreen", "The Star Beast"),  # the DTD's default system
    )
    assert (dw.previously_shown, dw.premiere, dw.new) == (True, True, True)
    assert dw.ratings == (("BBFC", "12"),)
    assert dw.star_ratings == ("4/5",)
    assert dw.catchup_id == "cu-1"
    assert isinstance(news, Programme)
    assert news.length_seconds == 125
    assert isinstance(short, Programme)
    assert short.length_seconds == 3600
    assert short.start == datetime(2026, 11, 22, 21, 30, tzinfo=UTC)  # no zone: read in tz (UTC by default)


def test_channels_filter_skips_other_programmes_and_channels() -> None:
    stats = ReadStats()
    items = read(FULL, channels={"arte.de"}, stats=stats)
    assert [getattr(i, "channel", getattr(i, "id", None)) for i in items] == ["arte.de"] * 3
    assert (stats.channels, stats.programmes, stats.filtered, stats.skipped) == (1, 2, 2, 0)


def test_huge_text_node_is_read() -> None:
    desc = "x" * 2_000_000 + " ünïcødé"
    items = read(guide(programme_xml(f"<title>T</title><desc>{desc}</desc>")))
    assert isinstance(items[0], Programme)
    assert items[0].descs == ((desc, ""),)


def test_entities_and_character_references_are_decoded() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE tv [<!ENTITY nbsp "&#160;">]><tv>'
        b'<programme start="20260101120000" channel="a&amp;b">'
        b"<title>A&nbsp;B &#x1F6F8; &lt;&gt;&quot;</title></programme></tv>"
    )
    (p,) = read(data)
    assert isinstance(p, Programme)
    assert (p.channel, p.title) == ("a&b", 'A\xa0B 🛸 <>"')


# ---------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261122193000 +0000", datetime(2026, 11, 22, 19, 30, tzinfo=UTC)),
        ("20261122193000 +0130", datetime(2026, 11, 22, 18, 0, tzinfo=UTC)),
        ("20261122193000 -0500", datetime(2026, 11, 23, 0, 30, tzinfo=UTC)),
        ("20261122193000+0100", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
        ("20261122193000 +01:00", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
        ("202611221930 +0100", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
        ("20261122193000 UTC", datetime(2026, 11, 22, 19, 30, tzinfo=UTC)),
        ("20261122193000", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),  # naive: read in Europe/Berlin
        ("20260715193000", datetime(2026, 7, 15, 17, 30, tzinfo=UTC)),  # summer time
        ("20261122193000 EST", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),  # a name: read in tz
        ("20261122", datetime(2026, 11, 21, 23, 0, tzinfo=UTC)),
        # DST edges in Europe/Berlin: 02:00→03:00 on 29 March, 03:00→02:00 on 25 October 2026.
        ("20260329015959", datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)),
        ("20260329030000", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        ("20260329023000", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # does not exist: the offset before
        ("20261025023000", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # happens twice: the first one
        ("20261025033000", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        ("", None),
        ("2026112219300", None),
        ("20261322193000 +0000", None),
        ("20261122253000 +0000", None),
        ("20261122193000 +2500", None),
        ("20261122193000 +01", None),
        ("tomorrow", None),
        ("00000101000000", None),
        ("99991231235959 -1200", None),
    ],
)
def test_parse_time(text: str, expected: datetime | None) -> None:
    assert parse_time(text, BERLIN) == expected


def test_format_time_is_utc_and_refuses_naive() -> None:
    assert format_time(datetime(2026, 11, 22, 20, 30, 5, tzinfo=BERLIN)) == "20261122193005 +0000"
    assert (
        format_time(datetime(2026, 7, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))))
        == "20260701050000 +0000"
    )
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 1))


def test_bad_times_are_skipped_counted_and_warned_once_per_spelling() -> None:
    stats = ReadStats()
    items = read(
        guide(
            programme_xml(start="20261122193000 CET"),
            programme_xml(start="20261122203000 CET"),
            programme_xml(start="2026-11-22T19:30"),
            programme_xml(start="20261122193000", stop="nonsense"),
            programme_xml(start="20261122193000", stop="20261122183000"),
        ),
        tz=BERLIN,
        stats=stats,
    )
    assert len(items) == 4
    assert (stats.programmes, stats.skipped) == (4, 1)
    messages = [w.message for w in stats.warnings]
    assert sum("'CET' is a name" in m for m in messages) == 1
    assert any("unreadable start time '2026-11-22T19:30'" in m for m in messages)
    assert any("unreadable stop time 'nonsense' ignored" in m for m in messages)
    assert any("before the start" in m for m in messages)
    assert items[2].stop is None  # type: ignore[union-attr]
    assert items[3].stop is None  # type: ignore[union-attr]
    assert stats.warnings[0].where == "line 3"


def test_malformed_programmes_and_channels_are_skipped_not_fatal() -> None:
    stats = ReadStats()
    items = read(
        guide(
            "<channel><display-name>no id</display-name></channel>",
            '<channel id="ok.uk"><display-name>OK</display-name></channel>',
            programme_xml(channel=""),
            "<programme start='20260101120000'><title>no channel</title></programme>",
            "<programme channel='a.uk'><title>no start</title></programme>",
            programme_xml("<desc>no title</desc>"),
            programme_xml("<title>  </title>"),
            programme_xml(
                '<title>fine</title><length units="fortnights">2</length><length units="minutes">x</length>'
            ),
        ),
        stats=stats,
    )
    assert [getattr(i, "title", getattr(i, "id", "")) for i in items] == ["ok.uk", "fine"]
    assert (stats.channels, stats.programmes, stats.skipped) == (1, 1, 6)
    assert len(stats.warnings) == 8
    assert items[1].length_seconds is None  # type: ignore[union-attr]


def test_warnings_are_capped_and_the_rest_counted() -> None:
    stats = ReadStats()
    read(guide(*[programme_xml(start="bad")] * (MAX_WARNINGS + 50)), stats=stats)
    assert (len(stats.warnings), stats.more_warnings, stats.skipped) == (MAX_WARNINGS, 50, MAX_WARNINGS + 50)


# ---------------------------------------------------------------- broken guides


def test_truncated_guide_yields_the_good_part_then_raises() -> None:
    data = guide(*[programme_xml(f"<title>p{i}</title>") for i in range(5)])
    cut = data[: data.index(b"<title>p3") + 5]
    stats = ReadStats()
    got: list[str] = []
    with pytest.raises(GuideError, match=r"truncated or not well-formed at line 6") as info:
        got.extend(item.title for item in read_xmltv(io.BytesIO(cut), stats=stats))  # type: ignore[union-attr]
    assert got == ["p0", "p1", "p2"]
    assert info.value.line == 6
    assert stats.error == str(info.value)
    assert isinstance(info.value, UserError)


def test_truncated_gzip_yields_the_good_part_then_raises() -> None:
    noise = random.Random(1)
    data = guide(
        *[programme_xml(f"<title>p{i}</title><desc>{noise.randbytes(500).hex()}</desc>") for i in range(500)]
    )
    cut = gzip.compress(data)[:-2000]
    got: list[Item] = []
    with pytest.raises(GuideError, match="truncated"):
        got.extend(read_xmltv(io.BytesIO(cut)))
    assert len(got) > 400
    assert [p.title for p in got] == [f"p{i}" for i in range(len(got))]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the guide is empty"),
        (b"<html><body>Log in</body></html>", "not an XMLTV guide: its root element is <html>"),
        (guide(programme_xml("<title>Tom & Jerry</title>")), "not well-formed at line 3"),
        (guide(programme_xml("<title>&nbsp;</title>")), "Entity 'nbsp' not defined"),
        (b"\x1f\x8b\x08\x00garbage", "could not be read|truncated"),
        (b"\xfd7zXZ\x00garbage", "could not be read|truncated"),
    ],
)
def test_broken_guides_raise_a_user_error(data: bytes, message: str) -> None:
    with pytest.raises(GuideError, match=message):
        read(data)


# ---------------------------------------------------------------- hostile guides


def test_billion_laughs_is_refused() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    for where in ("<title>&lol9;</title>", ""):
        body = programme_xml(f"<title>x</title>{where}", channel="&lol9;" if not where else "a.uk")
        data = f'<?xml version="1.0"?><!DOCTYPE tv [{entities}]><tv>{body}</tv>'.encode()
        with pytest.raises(GuideError, match="billion laughs"):
            read(data)


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE tv [<!ENTITY xxe SYSTEM "{url}">]><tv>{prog}</tv>',
        '<!DOCTYPE tv [<!ENTITY xxe SYSTEM "{url}">]><tv>{prog_attr}</tv>',
        '<!DOCTYPE tv [<!ENTITY % xxe SYSTEM "{url}"> %xxe;]><tv>{plain}</tv>',
        '<!DOCTYPE tv SYSTEM "{url}"><tv>{plain}</tv>',
        '<!DOCTYPE tv [<!ENTITY xxe SYSTEM "{url}">]><tv>{plain}</tv>',
    ],
)
@pytest.mark.parametrize("target", ["secret", "/etc/passwd"])
def test_external_entities_never_leak(template: str, target: str, tmp_path: Path) -> None:
    if target == "secret":
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET-MARKER\n")
        url, marker = secret.as_uri(), "TOP-SECRET-MARKER"
    else:
        url, marker = "file:///etc/passwd", "root:"
    doc = template.format(
        url=url,
        prog=programme_xml("<title>&xxe;</title>"),
        prog_attr=programme_xml(channel="&xxe;"),
        plain=programme_xml(),
    )
    stats = ReadStats()
    try:
        items = read(doc.encode(), stats=stats)
    except GuideError as exc:
        items = [exc]  # type: ignore[list-item]
    assert marker not in repr(items) + repr(stats)


# ---------------------------------------------------------------- writing


def test_writer_output_is_valid_and_round_trips() -> None:
    first = read(FULL)
    written = write(first)
    assert dtd_errors(written) == []
    second = read(written)
    assert second == [i if isinstance(i, GuideChannel) else _without_catchup(i) for i in first]
    kodi = write(first, kodi=True)
    assert read(kodi) == first
    assert b'catchup-id="cu-1"' in kodi
    assert b"catchup-id" not in written
    assert write(read(kodi), kodi=True) == kodi  # a fixed point


def _without_catchup(p: Programme) -> Programme:
    from dataclasses import replace

    return replace(p, catchup_id="")


def test_writer_output_passes_tv_validate_file(tmp_path: Path) -> None:
    if shutil.which("tv_validate_file") is None:
        service_missing("xmltv-util is not installed (tv_validate_file)")
    path = tmp_path / "guide.xml"
    path.write_bytes(write(read(FULL)))
    result = subprocess.run(
        ["tv_validate_file", "--dtd-file", str(DTD_PATH), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validated ok" in result.stdout


def test_writer_order_times_and_escaping() -> None:
    p = Programme(
        channel='c"1',
        start=datetime(2026, 11, 22, 20, 30, tzinfo=BERLIN),
        stop=datetime(2026, 11, 22, 21, 30, tzinfo=BERLIN),
        titles=(("A & <B>\x00\x1b\x85", ""), ("", "en")),
        credits=(Credit("guest", "G"), Credit("actor", "A", "Role\n1"), Credit("director", "D")),
        star_ratings=("5/5",),
        new=True,
        previously_shown=True,
        catchup_id="x",
    )
    out = write([GuideChannel('c"1'), p]).decode()
    assert '<programme start="20261122193000 +0000" stop="20261122203000 +0000" channel="c&quot;1">' in out
    assert "<title>A &amp; &lt;B&gt;</title>" in out
    assert out.count("<title") == 1
    assert out.index("<director>") < out.index("<actor") < out.index("<guest>")
    assert '<actor role="Role&#10;1">A</actor>' in out
    assert out.index("<previously-shown/>") < out.index("<new/>") < out.index("<star-rating>")
    assert '<display-name>c"1</display-name>' in out
    assert dtd_errors(out.encode()) == []


def test_channel_after_programme_raises_and_writer_needs_with() -> None:
    out = io.BytesIO()
    with XmltvWriter(out) as writer:
        writer.channel(GuideChannel("a.uk"))
        writer.programme(Programme("a.uk", datetime(2026, 1, 1, tzinfo=UTC), titles=(("T", ""),)))
        with pytest.raises(ValueError, match="after a programme"):
            writer.channel(GuideChannel("b.uk"))
    with pytest.raises(ValueError, match="context manager"):
        XmltvWriter(io.BytesIO()).programme(Programme("a", datetime(2026, 1, 1, tzinfo=UTC)))


def test_untitled_programme_is_skipped_and_counted() -> None:
    out = io.BytesIO()
    with XmltvWriter(out) as writer:
        assert not writer.programme(
            Programme("a.uk", datetime(2026, 1, 1, tzinfo=UTC), titles=((" \x01 ", ""),))
        )
    assert (writer.programmes, writer.skipped) == (0, 1)
    assert b"<programme" not in out.getvalue()


def test_writer_leaves_the_document_open_after_an_error() -> None:
    out = io.BytesIO()

    def fail_midway() -> None:
        with XmltvWriter(out) as writer:
            writer.channel(GuideChannel("a.uk"))
            raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        fail_midway()
    assert b"<channel" in out.getvalue()
    assert b"</tv>" not in out.getvalue()  # nobody mistakes half a guide for a whole one


def test_writer_writes_in_big_chunks() -> None:
    class Counting(io.BytesIO):
        writes = 0

        def write(self, data: bytes) -> int:  # type: ignore[override]
            Counting.writes += 1
            return super().write(data)

    out = Counting()
    with XmltvWriter(out) as writer:
        for i in range(20_000):
            writer.programme(
                Programme("a.uk", datetime(2026, 1, 1, tzinfo=UTC), titles=((f"T{i}" * 10, ""),))
            )
    assert len(out.getvalue()) > 2_000_000
    assert Counting.writes <= 5


# ---------------------------------------------------------------- properties

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=30) | st.sampled_from(
    ["&amp;", "<b>", "]]>", "Ünïcødé", "🛸 emoji", " spaced ", "\r\n", "a\x00b", "\ud800x", "\x85\x9f"]
)
LANG = st.sampled_from(["", "en", "de", " fr ", "x\x01"])
TEXTS = st.lists(st.tuples(TEXT, LANG), max_size=3).map(tuple)
WHEN = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.sampled_from([UTC, BERLIN])
)
CREDIT = st.builds(
    Credit, role=st.sampled_from(["director", "actor", "writer", "guest", "bogus"]), name=TEXT, character=TEXT
)


@st.composite
def programmes(draw: st.DrawFn) -> Programme:
    """Programmes with any text; always one usable title so the DTD can carry them."""
    start = draw(WHEN)
    # Add in UTC: wall-clock arithmetic across a DST gap could put stop before start.
    after = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1))
    stop = draw(st.none() | after.map(lambda d: (start.astimezone(UTC) + d).astimezone(start.tzinfo)))
    titles = (
        (draw(st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1)), ""),
        *draw(TEXTS),
    )
    return Programme(
        channel=draw(st.sampled_from(["a.uk", "b&c", "d<e>\"f'", "ünï"])),
        start=start,
        stop=stop,
        titles=titles,
        sub_titles=draw(TEXTS),
        descs=draw(TEXTS),
        credits=tuple(draw(st.lists(CREDIT, max_size=4))),
        date=draw(TEXT),
        categories=draw(TEXTS),
        keywords=draw(TEXTS),
        language=draw(TEXT),
        length_seconds=draw(st.none() | st.integers(-5, 10**7)),
        icons=tuple(draw(st.lists(TEXT, max_size=2))),
        urls=tuple(draw(st.lists(TEXT, max_size=2))),
        countries=tuple(draw(st.lists(TEXT, max_size=2))),
        episode_nums=tuple(draw(st.lists(st.builds(EpisodeNum, TEXT, TEXT), max_size=2))),
        previously_shown=draw(st.booleans()),
        premiere=draw(st.booleans()),
        new=draw(st.booleans()),
        ratings=tuple(draw(st.lists(st.tuples(TEXT, TEXT), max_size=2))),
        star_ratings=tuple(draw(st.lists(TEXT, max_size=2))),
        catchup_id=draw(TEXT),
    )


def clean(text: str) -> str:
    """What the writer keeps of a text: XML-legal characters, without surrounding whitespace."""
    return ILLEGAL.sub("", text).strip()


def expected(p: Programme, *, kodi: bool) -> Programme:
    """What reading back a written programme must give."""
    roles = ["director", "actor", "writer", "guest"]

    def texts(items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((clean(t), clean(lang)) for t, lang in items if clean(t))

    def strings(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(clean(s) for s in items if clean(s))

    start = p.start.astimezone(UTC).replace(microsecond=0)
    stop = p.stop.astimezone(UTC).replace(microsecond=0) if p.stop is not None else None
    return Programme(
        channel=clean(p.channel),
        start=start,
        stop=stop,
        titles=texts(p.titles),
        sub_titles=texts(p.sub_titles),
        descs=texts(p.descs),
        credits=tuple(
            Credit(c.role, clean(c.name), clean(c.character) if c.role == "actor" else "")
            for c in sorted(p.credits, key=lambda c: roles.index(c.role) if c.role in roles else 99)
            if c.role in roles and clean(c.name)
        ),
        date=clean(p.date),
        categories=texts(p.categories),
        keywords=texts(p.keywords),
        language=clean(p.language),
        length_seconds=p.length_seconds if p.length_seconds is not None and p.length_seconds >= 0 else None,
        icons=strings(p.icons),
        urls=strings(p.urls),
        countries=strings(p.countries),
        episode_nums=tuple(
            EpisodeNum(clean(n.system) or "onscreen", clean(n.value))
            for n in p.episode_nums
            if clean(n.value)
        ),
        previously_shown=p.previously_shown,
        premiere=p.premiere,
        new=p.new,
        ratings=tuple((clean(s), clean(v)) for s, v in p.ratings if clean(v)),
        star_ratings=strings(p.star_ratings),
        catchup_id=clean(p.catchup_id) if kodi else "",
    )


@given(st.lists(programmes(), min_size=1, max_size=5), st.booleans())
def test_write_then_read_gives_the_cleaned_programmes(items: list[Programme], kodi: bool) -> None:
    channels = sorted({p.channel for p in items})
    data = write([*(GuideChannel(c, ((c, ""),)) for c in channels), *items], kodi=kodi)
    if not kodi:
        assert dtd_errors(data) == []
    got = read(data)
    assert got[len(channels) :] == [expected(p, kodi=kodi) for p in items]
    assert read(write(got, kodi=kodi)) == got  # read(write(read(x))) == read(x)


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_raise_only_user_errors(data: bytes) -> None:
    with contextlib.suppress(UserError):
        read(data)


@given(
    st.integers(0, len(FULL)), st.binary(max_size=20), st.sampled_from([None, gzip.compress, lzma.compress])
)
def test_damaged_guides_raise_only_user_errors(cut: int, junk: bytes, compress: object) -> None:
    data = FULL[:cut] + junk + FULL[cut + len(junk) :]
    if compress is not None:
        data = compress(data)[: max(cut // 2, 10)]  # type: ignore[operator]
    with contextlib.suppress(UserError):
        read(data)


# ---------------------------------------------------------------- memory

MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from antenna.formats.xmltv import read_xmltv

    path = sys.argv[1]
    desc = "A fairly long description of the programme, repeated to look like real guides do. " * 6
    with open(path, "w", encoding="utf-8") as out:  # streamed: never the whole guide in memory
        out.write('<?xml version="1.0" encoding="UTF-8"?>\\n<tv>\\n')
        for c in range(300):
            out.write(f'<channel id="c{c}.example"><display-name>Channel {c}</display-name></channel>\\n')
        n = 0
        while out.tell() < 50_000_000:
            c, slot = n % 300, n // 300
            out.write(
                f'<programme start="2026{1 + slot // 1440 % 12:02d}01'
                f'{slot // 60 % 24:02d}{slot % 60:02d}00 +0000" '
                f'channel="c{c}.example"><title>Show {n}</title><desc lang="en">{desc}</desc>'
                f'<category>Series</category><episode-num system="onscreen">S01E{n % 99:02d}</episode-num>'
                f'</programme>\\n'
            )
            n += 1
        out.write("</tv>\\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(path, "rb") as raw:
        count = sum(1 for _ in read_xmltv(raw))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(count, n + 300, (after - before) // 1024)
    """
)


@pytest.mark.slow
def test_reading_a_50_mb_guide_keeps_memory_flat(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / "big.xml")],
        capture_output=True,
        text=True,
        timeout=280,
        check=True,
    )
    count, total, growth_mb = map(int, result.stdout.split())
    assert count == total > 50_000
    assert growth_mb < 60, f"peak RSS grew {growth_mb} MB reading a 50 MB guide"
