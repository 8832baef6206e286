"""M3U playlists as Kodi's IPTV Simple reads them: a tolerant streaming reader and a writer it reads back."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

from antenna.formats.guide import ParseWarning

MAX_WARNINGS = 1000  # a broken 200k-line playlist must not build 200k warning objects; the rest are counted
_TRUE = frozenset({"true", "1", "yes"})
_ALIASES = {"tvg-chno": "ch-number", "ch-number": "tvg-chno"}

# The common shape (`#EXTINF:-1 k="v" k="v",Name`) parses with two C-level regex calls; anything else takes
# the careful path below.
_FAST = re.compile(r'#EXTINF:(-?\d+)((?: [^\s=,"\']+="[^"]*")*),(.*)', re.DOTALL)
_FAST_ATTR = re.compile(r' ([^=]+)="([^"]*)"')
_DURATION = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)?")
# A space after "=" is allowed only before a quote, so `a= b="x"` reads as an empty a and b="x".
_ATTR = re.compile(r'\s*([^\s=,"\']+)\s*=(?:\s*"([^"]*)"|\s*\'([^\']*)\'|(?!\s*["\'])([^\s,]*))')
_OPEN_QUOTE = re.compile(r'\s*([^\s=,"\']+)\s*=\s*["\']')
_JUNK = re.compile(r"\s*([^\s,]+)")
_LINE_BREAK = re.compile(r"\r\n?|\n")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# An entry as a tuple: name, url, attrs, duration, groups, kodiprops, vlcopts, line (M3UEntry's fields).
M3URecord = tuple[
    str,
    str,
    tuple[tuple[str, str], ...],
    str,
    tuple[str, ...],
    tuple[tuple[str, str], ...],
    tuple[tuple[str, str], ...],
    int,
]


@dataclass(frozen=True, slots=True)
class M3UEntry:
    """One channel: its #EXTINF line, the directives before its URL, and the URL."""

    name: str
    url: str
    attrs: tuple[tuple[str, str], ...] = ()
    duration: str = "-1"
    groups: tuple[str, ...] = ()
    kodiprops: tuple[tuple[str, str], ...] = ()
    vlcopts: tuple[tuple[str, str], ...] = ()
    line: int = 0

    def attr(self, key: str, default: str = "") -> str:
        """Return an #EXTINF attribute by case-insensitive key ("ch-number" stands in for "tvg-chno")."""
        wanted = key.lower()
        # Exact keys first: playlists almost always write them in lower case, and a merge asks each entry for
        # five or six attributes, so the case-folding pass only runs for the rare odd one (or a miss).
        for k, v in self.attrs:
            if k == wanted:
                return v
        alias = _ALIASES.get(wanted)
        via_alias: str | None = None
        for k, v in self.attrs:
            lk = k.lower()
            if lk == wanted:
                return v
            if via_alias is None and lk == alias:
                via_alias = v
        return default if via_alias is None else via_alias

    @property
    def tvg_id(self) -> str:
        """Return tvg-id."""
        return self.attr("tvg-id")

    @property
    def tvg_name(self) -> str:
        """Return tvg-name."""
        return self.attr("tvg-name")

    @property
    def tvg_logo(self) -> str:
        """Return tvg-logo."""
        return self.attr("tvg-logo")

    @property
    def tvg_chno(self) -> str:
        """Return tvg-chno (or ch-number)."""
        return self.attr("tvg-chno")

    @property
    def radio(self) -> bool:
        """Return True when radio is "true", "1" or "yes"."""
        return self.attr("radio").strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class M3UPlaylist:
    """A whole parsed playlist."""

    header: tuple[tuple[str, str], ...]
    entries: tuple[M3UEntry, ...]
    warnings: tuple[ParseWarning, ...]


class M3UWarnings:
    """Appends up to MAX_WARNINGS warnings, then counts the rest."""

    __slots__ = ("added", "dropped", "out")

    def __init__(self, out: list[ParseWarning]) -> None:
        self.out = out
        self.added = 0
        self.dropped = 0

    def add(self, line: int, message: str) -> None:
        """Record one problem at a line."""
        if self.added < MAX_WARNINGS:
            self.added += 1
            self.out.append(ParseWarning(f"line {line}", message))
        else:
            self.dropped += 1


def _stripped_lines(lines: Iterable[str], *, first: bool = True) -> Iterator[str]:
    """Yield stripped lines without a leading BOM, splitting any that still hold CR or LF (CR-only files)."""
    for raw in lines:
        text = raw.strip()
        if first:
            first = False
            text = text.lstrip("\ufeff").strip()
        if "\r" in text or "\n" in text:
            yield from (piece.strip() for piece in _LINE_BREAK.split(text))
        else:
            yield text


def _attributes(text: str, pos: int, line: int, warn: M3UWarnings) -> tuple[list[tuple[str, str]], int, str]:
    """Read attributes from text[pos:]; return them, the name comma's index (-1: none) and skipped text."""
    attrs: list[tuple[str, str]] = []
    junk: list[str] = []
    end = len(text)
    while True:
        m = _ATTR.match(text, pos)
        if m is not None:
            k, dq, sq, bare = m.groups()
            attrs.append((k, dq if dq is not None else sq if sq is not None else bare))
            pos = m.end()
            continue
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return attrs, -1, " ".join(junk)
        if text[pos] == ",":
            break
        m = _OPEN_QUOTE.match(text, pos)
        if m is not None:
            # No closing quote: IPTV Simple falls back to the last comma, so the value runs up to it.
            comma = text.rfind(",", m.end())
            stop = comma if comma >= 0 else end
            attrs.append((m.group(1), text[m.end() : stop]))
            warn.add(line, f"attribute {m.group(1)} has no closing quote")
            if junk and comma >= 0:
                warn.add(line, f"ignored text in #EXTINF: {' '.join(junk)[:80]}")
            return attrs, comma, " ".join(junk)
        m = _JUNK.match(text, pos)
        if m is None:  # unreachable while str.isspace and re's \s agree; never loop forever if they don't
            pos += 1
            continue
        junk.append(m.group(1))
        pos = m.end()
    if junk:
        warn.add(line, f"ignored text in #EXTINF: {' '.join(junk)[:80]}")
    return attrs, pos, ""


def _parse_extinf(text: str, line: int, warn: M3UWarnings) -> tuple[str, list[tuple[str, str]], str | None]:
    """Split an #EXTINF line into duration, attributes and name (None: no comma, the name is unknown)."""
    dm = _DURATION.match(text, 8 if text[7:8] == ":" else 7)
    if dm is None:  # unreachable: every part of the pattern is optional
        return "-1", [], None
    attrs, comma, junk = _attributes(text, dm.end(), line, warn)
    duration = dm.group(1) or "-1"
    if comma < 0:
        warn.add(line, "#EXTINF has no comma before the channel name")
        return duration, attrs, junk or None
    return duration, attrs, text[comma + 1 :].strip()


def _groups(attrs: list[tuple[str, str]], extgrp: list[str]) -> tuple[str, ...]:
    """Return group-title split on ";" then #EXTGRP values, stripped, without empties or repeats."""
    title = ""
    for k, v in attrs:
        if k == "group-title":
            title = v
            break
    else:
        for k, v in attrs:
            if k.lower() == "group-title":
                title = v
                break
    if not extgrp and ";" not in title:  # the common case, kept cheap
        title = title.strip()
        return (title,) if title else ()
    parts = title.split(";")
    if extgrp:
        parts += extgrp
    return tuple(dict.fromkeys(filter(None, [g.strip() for g in parts])))


def _key_value(text: str, line: int, warn: M3UWarnings) -> tuple[str, str] | None:
    """Split a `#KODIPROP:key=value` / `#EXTVLCOPT:key=value` line."""
    body = text[text.index(":") + 1 :]
    key, eq, value = body.partition("=")
    key = key.strip()
    if not eq or not key:
        warn.add(line, f"{text[: text.index(':')]} without key=value ignored")
        return None
    return key, value.strip()


def iter_m3u(
    lines: Iterable[str], warnings: list[ParseWarning], header: list[tuple[str, str]] | None = None
) -> Iterator[M3UEntry]:
    """Yield entries as they complete; problems go to `warnings`, #EXTM3U attributes to `header`."""
    return cast(Iterator[M3UEntry], _read((_stripped_lines(lines),), warnings, header, M3UEntry))


def iter_m3u_records(
    blocks: Iterable[Iterable[str]], warnings: list[ParseWarning], header: list[tuple[str, str]] | None = None
) -> Iterator[M3URecord]:
    """Like iter_m3u on line_blocks' lists of lines, yielding plain tuples in M3UEntry's field order.

    For merges of 200k entries: building the dataclass costs more than parsing its line, and a generator
    step per line more than a loop over a megabyte's lines.
    """
    return cast(Iterator[M3URecord], _read(blocks, warnings, header, None))


def _read(
    blocks: Iterable[Iterable[str]],
    warnings: list[ParseWarning],
    header: list[tuple[str, str]] | None,
    make: Callable[..., Any] | None,
) -> Iterator[Any]:
    warn = M3UWarnings(warnings)
    lineno = 0
    seen_content = False
    pending: Pending | None = None
    extgrp: list[str] = []
    kodiprops: list[tuple[str, str]] = []
    vlcopts: list[tuple[str, str]] = []
    for text in itertools.chain.from_iterable(blocks):
        lineno += 1
        if not text:
            continue
        if text[0] == "#":
            kind, value = read_directive(text, lineno, warn, header)
            if kind != EXTINF:
                if kind == EXTGRP:
                    extgrp.append(value)
                elif kind == KODIPROP:
                    kodiprops.append(value)
                elif kind == VLCOPT:
                    vlcopts.append(value)
                elif kind == HEADER:
                    seen_content = True
                continue
            if not seen_content:
                seen_content = True
                warn.add(lineno, "no #EXTM3U header")
            if pending is not None:
                warn.add(pending[0], "#EXTINF without a URL ignored")
            pending = value
            continue
        if not seen_content:
            seen_content = True
            warn.add(lineno, "no #EXTM3U header")
        if pending is None:
            pending = bare_url(text, lineno, warn)
            if pending is None:
                continue
        fields = complete_entry(pending, text, extgrp, kodiprops, vlcopts, warn)
        pending = None
        yield fields if make is None else make(*fields)
        if extgrp:
            extgrp = []
        if kodiprops:
            kodiprops = []
        if vlcopts:
            vlcopts = []
    finish(pending, lineno, warn)


# What read_directive found on a "#" line; the C reader (iptv/_playlist_views.c) uses the same numbers.
SKIP, EXTINF, HEADER, EXTGRP, KODIPROP, VLCOPT = range(6)
# An #EXTINF waiting for its URL: line, duration, attributes, name (None: no comma, the name is unknown).
Pending = tuple[int, str, list[tuple[str, str]], str | None]


def read_directive(
    text: str, lineno: int, warn: M3UWarnings, header: list[tuple[str, str]] | None
) -> tuple[int, Any]:
    """Read a line starting with "#": return (EXTINF, Pending), (EXTGRP, group), (KODIPROP or VLCOPT,
    (key, value)), (HEADER, None) after adding #EXTM3U's attributes to header, or (SKIP, None)."""
    fast = _FAST.match(text)
    if fast is not None:
        duration, attr_text, name = fast.groups()
        return EXTINF, (lineno, duration, _FAST_ATTR.findall(attr_text), name.strip())
    tag = text[:11].upper()
    if tag.startswith("#EXTINF"):
        return EXTINF, (lineno, *_parse_extinf(text, lineno, warn))
    if tag.startswith("#EXTM3U"):
        attrs, _, _ = _attributes(text, 7, lineno, warn)
        if header is not None:
            header.extend(attrs)
        return HEADER, None
    if tag.startswith("#EXTGRP:"):
        return EXTGRP, text[8:]
    if tag.startswith("#KODIPROP:"):
        kv = _key_value(text, lineno, warn)
        return (SKIP, None) if kv is None else (KODIPROP, kv)
    if tag.startswith("#EXTVLCOPT:"):
        kv = _key_value(text, lineno, warn)
        return (SKIP, None) if kv is None else (VLCOPT, kv)
    return SKIP, None  # #EXT-X-…, #PLAYLIST, comments: nothing IPTV Simple uses


def bare_url(text: str, lineno: int, warn: M3UWarnings) -> Pending | None:
    """Return the entry a line without #EXTINF before it starts (None: not a URL, ignored)."""
    if _URL.match(text) is None:
        warn.add(lineno, f"ignored line: {text[:80]}")
        return None
    # IPTV Simple plays plain URL lists, so a URL without #EXTINF is a channel named after itself.
    warn.add(lineno, "URL without #EXTINF; named after its URL")
    return (lineno, "-1", [], text)


def complete_entry(
    pending: Pending,
    url: str,
    extgrp: list[str],
    kodiprops: list[tuple[str, str]],
    vlcopts: list[tuple[str, str]],
    warn: M3UWarnings,
) -> M3URecord:
    """Return the entry an #EXTINF and the directives after it make with their URL line."""
    line, duration, attrs, name = pending
    if not name:
        name = next((v for k, v in attrs if k.lower() == "tvg-name" and v.strip()), "").strip()
        if not name:
            warn.add(line, "channel has no name; named after its URL")
            name = url
    return (
        name,
        url,
        tuple(attrs),
        duration,
        _groups(attrs, extgrp),
        tuple(kodiprops) if kodiprops else (),
        tuple(vlcopts) if vlcopts else (),
        line,
    )


def finish(pending: Pending | tuple[int, str] | None, lineno: int, warn: M3UWarnings) -> None:
    """Add the warnings a playlist's end may give (an #EXTINF without URL; problems not listed)."""
    if pending is not None:
        warn.add(pending[0], "#EXTINF at the end without a URL ignored")
    if warn.dropped:
        warn.out.append(ParseWarning(f"line {lineno}", f"{warn.dropped} more problems not listed"))


def _split_lines(text: str) -> Iterator[str]:
    """Yield the lines of LF-only text one at a time, so a large playlist is not copied into a list."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def parse_m3u(text: str) -> M3UPlaylist:
    """Parse a whole playlist held in memory."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[ParseWarning] = []
    header: list[tuple[str, str]] = []
    entries = tuple(iter_m3u(_split_lines(text), warnings, header))
    return M3UPlaylist(tuple(header), entries, tuple(warnings))


def url_headers(url: str) -> tuple[str, dict[str, str]]:
    """Split Kodi's `url|Key=value&Key2=value` into the URL and its headers (values URL-decoded)."""
    base, bar, rest = url.partition("|")
    headers: dict[str, str] = {}
    if bar:
        for part in rest.split("&"):
            key, _, value = part.partition("=")
            key = key.strip()
            if key:
                headers[key] = unquote(value)
    return base, headers


def byte_blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield data read in chunks cut at line ends, without the last "\n" (a block of whole lines each)."""
    rest = b""
    for chunk in chunks:
        cut = chunk.rfind(b"\n")
        if cut < 0:
            rest += chunk
            continue
        # One copy of each chunk: the partial line before it joined to its whole lines.
        yield b"".join((rest, memoryview(chunk)[:cut])) if rest else chunk[:cut]
        rest = chunk[cut + 1 :]
    if rest:
        yield rest


def texts(chunks: Iterable[bytes]) -> Iterator[str]:
    """Yield UTF-8 data read in chunks as text cut at line ends (bad bytes replaced), without the last "\n".

    "\n" is never part of a multi-byte sequence, so whole lines decode as they would one by one; decoding a
    chunk at a time is several times cheaper.
    """
    for block in byte_blocks(chunks):
        yield block.decode("utf-8", errors="replace")


def line_blocks(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """Yield the lines of UTF-8 data read in chunks as iter_m3u sees them (decoded, stripped, BOM and stray
    CRs handled), one list per chunk, for iter_m3u_records."""
    for index, text in enumerate(texts(chunks)):
        yield block_lines(text, index == 0)


def block_lines(text: str, first: bool) -> list[str]:
    raw = text.split("\n")
    # A CR ending the text ends a CRLF line whose LF was cut off; strip() takes it like any other.
    if "\r" in text and text.count("\r") != text.count("\r\n") + text.endswith("\r"):
        # A CR that does not end a line: split as _stripped_lines does (rare; old Mac files).
        return list(_stripped_lines(raw, first=first))
    lines = [line.strip() for line in raw]
    if first:
        lines[0] = lines[0].lstrip("\ufeff").strip()
    return lines


def decode_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Yield the lines of UTF-8 data read in chunks (bad bytes replaced), as `line.decode()` per line would,
    without the newline."""
    for text in texts(chunks):
        yield from text.split("\n")
