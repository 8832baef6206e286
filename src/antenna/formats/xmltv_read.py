"""Streaming XMLTV reader: plain, gzip or xz input, flat memory, malformed programmes skipped and counted."""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, BinaryIO

# lxml ships no type stubs; `lxml-stubs` would make the ignore unused, hence unused-ignore.
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.errors import UserError
from antenna.formats.guide import Credit, EpisodeNum, GuideChannel, ParseWarning, Programme, Text
from antenna.formats.xmltv_stream import Guarded, open_stream
from antenna.formats.xmltv_time import parse_time_warning

MAX_WARNINGS = 200
CREDIT_ROLES = (
    "director",
    "actor",
    "writer",
    "adapter",
    "producer",
    "composer",
    "editor",
    "presenter",
    "commentator",
    "guest",
)
_CREDIT_ROLES = frozenset(CREDIT_ROLES)
_TEXT_TAGS = frozenset({"title", "desc", "sub-title", "category", "keyword"})
_LENGTH_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600}
_SWEEP = 256  # emptied elements dropped per call
_TIME_CACHE_SIZE = 1 << 15  # a week of a big guide has ~9k distinct times
# What a broken stream can raise besides a syntax error: decompressors, encodings, lxml itself.
_READ_ERRORS = (etree.LxmlError, OSError, EOFError, lzma.LZMAError, zlib.error, ValueError, LookupError)


class GuideError(UserError):
    """The guide cannot be read further: not well-formed, truncated, refused, or not XMLTV at all."""

    def __init__(self, message: str, hint: str = "", line: int | None = None) -> None:
        super().__init__(message, hint)
        self.line = line


@dataclass
class ReadStats:
    """What a read produced and skipped; warnings beyond MAX_WARNINGS are only counted in more_warnings."""

    channels: int = 0
    programmes: int = 0
    skipped: int = 0  # malformed channels and programmes
    filtered: int = 0  # well-formed but not in the `channels` filter
    warnings: list[ParseWarning] = field(default_factory=list)
    more_warnings: int = 0
    error: str = ""  # set when the read stopped early (the GuideError's message)

    def warn(self, where: str, message: str) -> None:
        """Keep a warning, or only count it once MAX_WARNINGS are kept."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(ParseWarning(where, message))
        else:
            self.more_warnings += 1


class _Times:
    """Parse times with a bounded cache: neighbouring programmes share start and stop strings."""

    def __init__(self, tz: tzinfo, stats: ReadStats) -> None:
        self._tz = tz
        self._stats = stats
        self._cache: dict[str, datetime | None] = {}
        self._warned: set[str] = set()

    def __call__(self, text: str, el: Any) -> datetime | None:
        try:
            return self._cache[text]
        except KeyError:
            pass
        value, warning = parse_time_warning(text, self._tz)
        if warning and warning not in self._warned:  # once per spelling, not once per programme
            self._warned.add(warning)
            _warn(self._stats, el, warning)
        if len(self._cache) >= _TIME_CACHE_SIZE:
            self._cache.clear()
        self._cache[text] = value
        return value


def _warn(stats: ReadStats, el: Any, message: str) -> None:
    """Warn about an element; its line is looked up only now, as that costs time on every element."""
    stats.warn(f"line {el.sourceline}", message)


def _text(el: Any) -> str:
    """Return an element's own text (ignoring child elements such as a credit's <image>), stripped."""
    text: str = el.text or ""
    if len(el):
        text += "".join(child.tail or "" for child in el)
    return text.strip()


def _lang_text(el: Any, into: list[Text]) -> None:
    text = _text(el)
    if text:
        into.append((text, (el.get("lang") or "").strip()))


def _channel(el: Any, stats: ReadStats) -> GuideChannel | None:
    cid = (el.get("id") or "").strip()
    if not cid:
        _warn(stats, el, "a channel has no id; skipped")
        return None
    names: list[Text] = []
    icons: list[str] = []
    urls: list[str] = []
    for child in el:
        tag = child.tag
        if tag == "display-name":
            _lang_text(child, names)
        elif tag == "icon":
            src = (child.get("src") or "").strip()
            if src:
                icons.append(src)
        elif tag == "url":
            url = _text(child)
            if url:
                urls.append(url)
    return GuideChannel(cid, tuple(names), tuple(icons), tuple(urls))


def _length(el: Any, stats: ReadStats) -> int | None:
    unit = _LENGTH_UNITS.get((el.get("units") or "").strip())
    text = _text(el)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if unit is None or not 0 <= value < 1e9:
        _warn(stats, el, f"length {text!r} {el.get('units')!r} is not a number of seconds/minutes/hours")
        return None
    return round(value * unit)


def _programme(el: Any, channel: str, times: _Times, stats: ReadStats) -> Programme | None:
    start_text = el.get("start")
    if not start_text:
        _warn(stats, el, f"a programme on {channel!r} has no start time; skipped")
        return None
    start = times(start_text, el)
    if start is None:
        _warn(stats, el, f"a programme on {channel!r} has an unreadable start time {start_text!r}; skipped")
        return None
    stop = None
    stop_text = el.get("stop")
    if stop_text:
        stop = times(stop_text, el)
        if stop is None:
            _warn(stats, el, f"unreadable stop time {stop_text!r} ignored")
        elif stop < start:
            _warn(stats, el, f"stop time {stop_text!r} is before the start; ignored")
            stop = None

    titles: list[Text] = []
    sub_titles: list[Text] = []
    descs: list[Text] = []
    credits: list[Credit] = []
    categories: list[Text] = []
    keywords: list[Text] = []
    icons: list[str] = []
    urls: list[str] = []
    countries: list[str] = []
    episode_nums: list[EpisodeNum] = []
    ratings: list[tuple[str, str]] = []
    star_ratings: list[str] = []
    date = language = ""
    length: int | None = None
    previously_shown = premiere = new = False
    for child in el:
        tag = child.tag
        if tag in _TEXT_TAGS:
            # Inlined text extraction: this loop runs for every element of every programme.
            text = _text(child) if len(child) else (child.text or "").strip()
            if text:
                lang = child.get("lang")
                pair = (text, lang.strip() if lang else "")
                if tag == "title":
                    titles.append(pair)
                elif tag == "desc":
                    descs.append(pair)
                elif tag == "sub-title":
                    sub_titles.append(pair)
                elif tag == "category":
                    categories.append(pair)
                else:
                    keywords.append(pair)
        elif tag == "episode-num":
            value = _text(child)
            if value:
                episode_nums.append(EpisodeNum((child.get("system") or "onscreen").strip(), value))
        elif tag == "credits":
            for person in child:
                role = person.tag
                name = _text(person) if role in _CREDIT_ROLES else ""
                if name:
                    character = (person.get("role") or "").strip() if role == "actor" else ""
                    credits.append(Credit(role, name, character))
        elif tag == "icon":
            src = (child.get("src") or "").strip()
            if src:
                icons.append(src)
        elif tag == "date":
            date = date or _text(child)
        elif tag == "language":
            language = language or _text(child)
        elif tag == "length":
            length = _length(child, stats)
        elif tag == "url":
            url = _text(child)
            if url:
                urls.append(url)
        elif tag == "country":
            country = _text(child)
            if country:
                countries.append(country)
        elif tag == "previously-shown":
            previously_shown = True
        elif tag == "premiere":
            premiere = True
        elif tag == "new":
            new = True
        elif tag == "rating":
            value = _text(child.find("value")) if child.find("value") is not None else ""
            if value:
                ratings.append(((child.get("system") or "").strip(), value))
        elif tag == "star-rating":
            value = _text(child.find("value")) if child.find("value") is not None else ""
            if value:
                star_ratings.append(value)
    if not titles:
        _warn(stats, el, f"a programme on {channel!r} at {start_text} has no title; skipped")
        return None
    catchup = el.get("catchup-id")
    # Positional (in Programme's field order): measurably cheaper than keywords at a million programmes.
    return Programme(
        channel,
        start,
        stop,
        tuple(titles),
        tuple(sub_titles),
        tuple(descs),
        tuple(credits),
        date,
        tuple(categories),
        tuple(keywords),
        language,
        length,
        tuple(icons),
        tuple(urls),
        tuple(countries),
        tuple(episode_nums),
        previously_shown,
        premiere,
        new,
        tuple(ratings),
        tuple(star_ratings),
        catchup.strip() if catchup else "",
    )


def _syntax_error(exc: Any, read_error: BaseException | None) -> GuideError:
    """Turn libxml2's complaint into a message that says what happened to the guide."""
    msg: str = getattr(exc, "msg", "") or str(exc)
    line: int | None = getattr(exc, "lineno", None)
    at = f" at line {line}" if line else ""
    if read_error is not None:
        return GuideError(f"the guide is truncated{at}: reading it failed: {read_error}", line=line)
    if "amplification" in msg or "entity loop" in msg.lower():
        return GuideError(
            "the guide was refused: its entity declarations expand enormously (a 'billion laughs' document)",
            line=line,
        )
    if "no element found" in msg or "Document is empty" in msg:
        return GuideError("the guide is empty", line=line)
    hint = ""
    if "Entity '" in msg:
        hint = (
            "XMLTV text may use only &amp; &lt; &gt; &quot; &apos; and numeric references; "
            "external entities are never loaded."
        )
    elif "EntityRef" in msg:
        hint = "A bare '&' must be written '&amp;'; ask the guide's provider to fix it."
    return GuideError(f"the guide is truncated or not well-formed{at}: {msg}", hint, line=line)


def _elements(raw: BinaryIO, stats: ReadStats) -> Iterator[Any]:
    """Yield each finished <channel> and <programme> element; it is cleared once the consumer moves on."""
    source = Guarded(open_stream(raw))
    events = etree.iterparse(
        source,
        events=("end",),
        tag=("channel", "programme"),
        # "internal" expands declared entities (libxml2 refuses amplification bombs) but never loads external
        # ones; False would silently drop the text of harmless entities like a declared &nbsp;.
        resolve_entities="internal",
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # real guides have 1.5M-character lines and multi-megabyte text nodes
        remove_comments=True,
        remove_pis=True,
        recover=False,  # recover mode emits half programmes at a truncation and drops data silently
    )
    iterator = iter(events)
    done = 0
    while True:
        try:
            _, el = next(iterator)
        except StopIteration:
            break
        except etree.XMLSyntaxError as exc:
            error = _syntax_error(exc, source.error)
            stats.error = str(error)
            raise error from exc
        except _READ_ERRORS as exc:
            error = GuideError(f"the guide could not be read to its end: {exc}")
            stats.error = str(error)
            raise error from exc
        yield el
        # Drop what was parsed so memory stays flat whatever the guide's size: each element's content at
        # once, the emptied elements themselves a few hundred at a time (one call, not three per element).
        el.clear(keep_tail=False)
        done += 1
        if done >= _SWEEP:
            done = 0
            parent = el.getparent()
            if parent is not None:
                del parent[: parent.index(el)]
    if source.error is not None:  # the data stopped early yet happened to end where the XML could end
        error = GuideError(f"the guide is truncated: reading it failed: {source.error}")
        stats.error = str(error)
        raise error
    root = events.root
    if root is not None and root.tag != "tv" and not (stats.channels or stats.programmes):
        error = GuideError(f"this is not an XMLTV guide: its root element is <{root.tag}>, not <tv>")
        stats.error = str(error)
        raise error


def read_xmltv(
    raw: BinaryIO,
    *,
    tz: tzinfo = UTC,
    channels: Container[str] | None = None,
    stats: ReadStats | None = None,
) -> Iterator[GuideChannel | Programme]:
    """Yield channels and programmes as parsed; a broken guide yields its good part then raises GuideError."""
    stats = stats if stats is not None else ReadStats()
    times = _Times(tz, stats)
    for el in _elements(raw, stats):
        item: GuideChannel | Programme | None
        if el.tag == "programme":
            channel = (el.get("channel") or "").strip()
            item = None
            if not channel:
                _warn(stats, el, "a programme has no channel; skipped")
                stats.skipped += 1
            elif channels is not None and channel not in channels:
                stats.filtered += 1  # checked before building anything: filtering must stay cheap
            else:
                item = _programme(el, channel, times, stats)
                if item is None:
                    stats.skipped += 1
                else:
                    stats.programmes += 1
        else:
            cid = (el.get("id") or "").strip()
            if channels is not None and cid and cid not in channels:
                stats.filtered += 1
                item = None
            else:
                item = _channel(el, stats)
                if item is None:
                    stats.skipped += 1
                else:
                    stats.channels += 1
        if item is not None:
            yield item


def read_programme_elements(
    raw: BinaryIO,
    *,
    tz: tzinfo = UTC,
    channels: Container[str] | None = None,
    stats: ReadStats | None = None,
) -> Iterator[tuple[Any, str, datetime, datetime | None]]:
    """Yield (lxml element, channel, start, stop) per usable programme, for callers that rewrite XML directly.

    The element is only valid until the next item is asked for (it is cleared to keep memory flat); building
    Programme values is skipped, which is most of a merge's time on big guides.
    """
    stats = stats if stats is not None else ReadStats()
    times = _Times(tz, stats)
    for el in _elements(raw, stats):
        if el.tag != "programme":
            stats.channels += 1
            continue
        channel = (el.get("channel") or "").strip()
        if not channel:
            _warn(stats, el, "a programme has no channel; skipped")
            stats.skipped += 1
            continue
        if channels is not None and channel not in channels:
            stats.filtered += 1
            continue
        start = times(el.get("start") or "", el)
        if start is None:
            stats.skipped += 1
            continue
        stop_text = el.get("stop")
        stop = times(stop_text, el) if stop_text else None
        if stop is not None and stop <= start:
            _warn(stats, el, "a programme stops before it starts; skipped")
            stats.skipped += 1
            continue
        stats.programmes += 1
        yield el, channel, start, stop
