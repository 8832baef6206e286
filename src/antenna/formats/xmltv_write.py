"""Streaming XMLTV writer: xmltv.dtd element order, UTC "+0000" times, buffered output."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Self

from antenna.formats.guide import Credit, GuideChannel, Programme, Text
from antenna.formats.xmltv_read import CREDIT_ROLES

_CHUNK = 1 << 20
# Not allowed in XML 1.0 (C0 controls, surrogates, U+FFFE/U+FFFF), plus C1 controls: legal but always
# mis-decoded Windows-1252 in practice, and tv_validate_file rejects them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CREDIT_ORDER = {role: i for i, role in enumerate(CREDIT_ROLES)}


def format_time(dt: datetime) -> str:
    """Return "YYYYMMDDhhmmss +0000" for an aware datetime, in UTC."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: guide times must carry a zone")
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    # Hand formatting: strftime is about ten times slower and dominates writing big guides.
    return f"{dt.year:04d}{dt.month:02d}{dt.day:02d}{dt.hour:02d}{dt.minute:02d}{dt.second:02d} +0000"


def _clean(text: str) -> str:
    """Strip characters XML 1.0 cannot carry and surrounding whitespace (insignificant per the DTD)."""
    if not text.isprintable():  # cheap test first: printable text never has anything to strip
        text = _ILLEGAL.sub("", text)
    return text.strip()


def _escape_text(text: str) -> str:
    """Clean and escape element text; \\r as a reference because parsers turn a literal one into \\n."""
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attr(text: str) -> str:
    """Clean and escape an attribute value; whitespace as references because parsers turn it into spaces."""
    text = _escape_text(text)
    if text.isalnum():
        return text
    return text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


# Neighbouring programmes share start and stop times.
_time = functools.lru_cache(maxsize=1 << 12)(format_time)
# Names, titles, ids, languages and categories repeat across a guide's programmes: escape each once.
# Plain dicts, not lru_cache: a dict lookup is the cheapest call on this path, run ten times per programme.
_TEXT_MEMO: dict[str, str] = {}
_ATTR_MEMO: dict[str, str] = {}
_MEMO_LENGTH = 80  # descriptions are mostly unique and long; keeping them would only hold memory
_MEMO_SIZE = 1 << 15


def _esc(text: str) -> str:
    """Return text cleaned and escaped for element content ("" when nothing is left)."""
    value = _TEXT_MEMO.get(text)
    if value is None:
        value = _escape_text(text)
        if len(text) <= _MEMO_LENGTH:
            if len(_TEXT_MEMO) >= _MEMO_SIZE:
                _TEXT_MEMO.clear()
            _TEXT_MEMO[text] = value
    return value


def _attr(text: str) -> str:
    """Return text cleaned and escaped for an attribute value ("" when nothing is left)."""
    value = _ATTR_MEMO.get(text)
    if value is None:
        value = _escape_attr(text)
        if len(text) <= _MEMO_LENGTH:
            if len(_ATTR_MEMO) >= _MEMO_SIZE:
                _ATTR_MEMO.clear()
            _ATTR_MEMO[text] = value
    return value


class XmltvWriter:
    """Write a guide element by element: every channel first, then programmes (xmltv.dtd's order)."""

    def __init__(self, out: BinaryIO, *, generator: str = "Antenna", source_url: str = "") -> None:
        self._out = out
        self._generator = generator
        self._source_url = source_url
        self._parts: list[str] = []
        self._size = 0
        self._raw: list[bytes] = []
        self._raw_size = 0
        self._programmes_started = False
        self._open = False
        self.channels = 0
        self.programmes = 0
        self.skipped = 0  # programmes without a usable title, which xmltv.dtd cannot express

    def __enter__(self) -> Self:
        attrs = f' generator-info-name="{_attr(self._generator)}"' if self._generator else ""
        if self._source_url:
            attrs += f' source-info-url="{_attr(self._source_url)}"'
        self._put(f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv{attrs}>\n')
        self._open = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # After an error the document is left unclosed on purpose, so nobody mistakes it for a whole guide.
        if exc_type is None:
            self._put("</tv>\n")
        self._open = False
        self._flush()

    def _put(self, text: str) -> None:
        if self._raw:  # raw programmes before this text go out first (only one buffer holds data at a time)
            self._flush()
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0
        if self._raw:
            self._out.write(b"".join(self._raw))
            self._raw.clear()
            self._raw_size = 0

    def raw_block(self, block: bytes, count: int) -> None:
        """Write count <programme>s serialised elsewhere (DTD-correct UTF-8, each indented and ended by a
        newline), after every channel."""
        self._start_programmes()
        self._raw.append(block)  # joined once per megabyte, not copied per block
        self._raw_size += len(block)
        if self._raw_size >= _CHUNK:
            self._flush()
        self.programmes += count

    def raw_outside(self, count: int) -> None:
        """Flush everything buffered, for count <programme>s to be copied into the stream by the caller."""
        self._start_programmes()
        self._flush()
        self.programmes += count

    def _start_programmes(self) -> None:
        self._check_open()
        self._programmes_started = True
        if self._parts:  # keep the document's order: text written before comes first
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0

    def _check_open(self) -> None:
        if not self._open:
            raise ValueError("use XmltvWriter as a context manager: `with XmltvWriter(out) as w:`")

    def channel(self, channel: GuideChannel) -> None:
        """Write a <channel>; raises ValueError after the first programme (a programming error)."""
        self._check_open()
        if self._programmes_started:
            raise ValueError(f"channel {channel.id!r} comes after a programme; xmltv.dtd puts channels first")
        parts = [f'  <channel id="{_attr(channel.id)}">\n']
        names = _texts("display-name", channel.display_names)
        parts.append(names or f"    <display-name>{_esc(channel.id)}</display-name>\n")
        parts.extend(f'    <icon src="{src}"/>\n' for src in map(_attr, channel.icons) if src)
        parts.extend(f"    <url>{url}</url>\n" for url in map(_esc, channel.urls) if url)
        parts.append("  </channel>\n")
        self._put("".join(parts))
        self.channels += 1

    def programme(self, programme: Programme, *, kodi: bool = False) -> bool:
        """Write a <programme>; returns False (and counts it) when it has no non-empty title to write."""
        if not self._open:
            self._check_open()
        self._programmes_started = True
        p = programme
        titles = _texts("title", p.titles)
        if not titles:
            self.skipped += 1
            return False
        parts = [f'  <programme start="{_time(p.start)}"']
        if p.stop is not None:
            parts.append(f' stop="{_time(p.stop)}"')
        parts.append(f' channel="{_attr(p.channel)}"')
        if kodi and p.catchup_id and (catchup := _attr(p.catchup_id)):
            parts.append(f' catchup-id="{catchup}"')  # IPTV Simple's extension, not in the DTD
        parts.append(">\n")
        parts.append(titles)
        if p.sub_titles:
            parts.append(_texts("sub-title", p.sub_titles))
        if p.descs:
            parts.append(_texts("desc", p.descs))
        if p.credits:
            parts.append(_credits(p.credits))
        if p.date and (date := _esc(p.date)):
            parts.append(f"    <date>{date}</date>\n")
        if p.categories:
            parts.append(_texts("category", p.categories))
        if p.keywords:
            parts.append(_texts("keyword", p.keywords))
        if p.language and (language := _esc(p.language)):
            parts.append(f"    <language>{language}</language>\n")
        if p.length_seconds is not None and p.length_seconds >= 0:
            seconds = p.length_seconds
            if seconds % 60:
                parts.append(f'    <length units="seconds">{seconds}</length>\n')
            else:
                parts.append(f'    <length units="minutes">{seconds // 60}</length>\n')
        parts.extend(f'    <icon src="{src}"/>\n' for src in map(_attr, p.icons) if src)
        parts.extend(f"    <url>{url}</url>\n" for url in map(_esc, p.urls) if url)
        parts.extend(f"    <country>{country}</country>\n" for country in map(_esc, p.countries) if country)
        for num in p.episode_nums:
            if value := _esc(num.value):
                system = _attr(num.system)
                attr = f' system="{system}"' if system else ""
                parts.append(f"    <episode-num{attr}>{value}</episode-num>\n")
        if p.previously_shown:
            parts.append("    <previously-shown/>\n")
        if p.premiere:
            parts.append("    <premiere/>\n")
        if p.new:
            parts.append("    <new/>\n")
        for system, value in p.ratings:
            if value := _esc(value):
                attr = f' system="{system}"' if (system := _attr(system)) else ""
                parts.append(f"    <rating{attr}>\n      <value>{value}</value>\n    </rating>\n")
        for value in map(_esc, p.star_ratings):
            if value:
                parts.append(f"    <star-rating>\n      <value>{value}</value>\n    </star-rating>\n")
        parts.append("  </programme>\n")
        text = "".join(parts)
        if self._raw:  # programmes written raw before this one go out first
            self._flush()
        self._parts.append(text)  # _put inlined: this runs once per programme
        self._size += len(text)
        if self._size >= _CHUNK:
            self._flush()
        self.programmes += 1
        return True


def _texts(tag: str, texts: tuple[Text, ...]) -> str:
    """Render (text, lang) pairs as elements, skipping those left empty after cleaning."""
    out = []
    for text, lang in texts:
        if escaped := _esc(text):
            attr = f' lang="{lang}"' if lang and (lang := _attr(lang)) else ""
            out.append(f"    <{tag}{attr}>{escaped}</{tag}>\n")
    return "".join(out)


def _credits(credits: tuple[Credit, ...]) -> str:
    """Render credits in the DTD's role order (stable within a role), dropping unknown roles."""
    people = []
    for credit in sorted(credits, key=_credit_rank):
        name = _esc(credit.name)
        if credit.role not in _CREDIT_ORDER or not name:
            continue
        character = _attr(credit.character) if credit.role == "actor" and credit.character else ""
        role = f' role="{character}"' if character else ""
        people.append(f"      <{credit.role}{role}>{name}</{credit.role}>\n")
    return "    <credits>\n" + "".join(people) + "    </credits>\n" if people else ""


def _credit_rank(credit: Credit) -> int:
    return _CREDIT_ORDER.get(credit.role, len(_CREDIT_ORDER))
