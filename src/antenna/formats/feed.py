"""Podcast feeds: RSS 2.0 with iTunes tags (through podcastparser) and Atom, read into plain values."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
from typing import Any
from urllib.parse import urljoin

import podcastparser

# lxml ships no type stubs; `lxml-stubs` would make the ignore unused, hence unused-ignore.
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.errors import UserError
from antenna.formats.feed_url import display_url, normalise_url
from antenna.formats.html_text import html_to_text, tidy_text
from antenna.formats.safe_xml import safe_xml

_ATOM = "{http://www.w3.org/2005/Atom}"
_ITUNES = ("{http://www.itunes.com/dtds/podcast-1.0.dtd}", "{http://www.itunes.com/DTDs/Podcast-1.0.dtd}")
_MEDIA = ("{http://search.yahoo.com/mrss/}", "{http://search.yahoo.com/mrss}")
# podcastparser keys episodes by GUID and rewrites or invents GUIDs; a marker GUID per item maps its output
# back to the item, whose real GUID and date we read ourselves.
_MARK = "antenna-item:"
_HTML_PAGE = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S
)
_ISO_START = re.compile(r"\d{4}-\d\d")
# What podcastparser can raise on well-formed XML it dislikes; FeedParseError is a ValueError.
# What podcastparser.parse_time reads without logging a warning or overflowing int().
_DURATION = re.compile(r"[0-9]{1,9}(?::[0-9]{1,2}){0,2}(?:\.[0-9]{1,9})?")
_PODCASTPARSER_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError)


class FeedError(UserError):
    """The data is not a podcast feed (or search answer) that Antenna can read."""


@dataclass(frozen=True, slots=True)
class FeedEpisode:
    """One feed item that has a media file."""

    key: str  # stable identity: the GUID, else the enclosure URL
    guid: str  # as the feed wrote it ("" when missing)
    title: str
    description: str  # plain text
    published: datetime  # aware, UTC
    enclosure_url: str  # absolute
    mime_type: str = ""
    size: int | None = None
    duration: int | None = None  # seconds
    image_url: str = ""
    link: str = ""
    season: int | None = None  # itunes:season, as the feed says
    number: int | None = None  # itunes:episode, as the feed says


@dataclass(frozen=True, slots=True)
class Feed:
    """A whole parsed feed, episodes newest first."""

    title: str
    author: str
    description: str  # plain text
    link: str
    image_url: str
    language: str
    identity: str  # podcast:guid, else the link, else the normalised feed URL
    new_url: str  # itunes:new-feed-url ("" when none)
    episodes: tuple[FeedEpisode, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One podcast from a directory search (iTunes Search API)."""

    title: str
    author: str
    feed_url: str
    image_url: str = ""
    episode_count: int | None = None
    genre: str = ""


@dataclass(slots=True)
class _Draft:
    """An episode before its date and key are settled."""

    guid: str
    date_text: str
    enclosure_url: str
    fields: dict[str, Any]


def parse_date(text: str) -> datetime | None:
    """Parse an RFC 822 or ISO 8601 date (any year, zone or not) into aware UTC; None when it is not one."""
    text = text.strip()
    try:
        if _ISO_START.match(text):
            dt = datetime.fromisoformat(text)
        elif (t := parsedate_tz(text)) is not None:
            # No zone means UTC: RFC 822 calls it "-0000", unknown local time, and UTC is the least wrong.
            dt = datetime(*t[:6], tzinfo=UTC) - timedelta(seconds=t[9] or 0)
        else:
            return None
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None


def _text(el: Any) -> str:
    """Return an element's whole text, stripped ("" for a missing element)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def _find(parent: Any, local: str, namespaces: tuple[str, ...]) -> Any:
    """Return the first child named local in any of the namespace spellings."""
    for ns in namespaces:
        el = parent.find(ns + local)
        if el is not None:
            return el
    return None


def _podcast_guid(channel: Any) -> str:
    """Return the podcast namespace's <podcast:guid>, whatever spelling of its namespace URI is used."""
    for child in channel:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag.endswith("}guid") and "podcastindex" in tag.lower():
            return _text(child)
    return ""


def _xml_root(data: bytes, url: str) -> tuple[Any, int]:
    """Parse a feed safely; refuse HTML pages with a message that says so."""
    if not data.strip():
        raise FeedError(f"{display_url(url)} is empty, not a podcast feed.", "Check the feed address.")
    if _HTML_PAGE.match(data.lstrip(b"\xef\xbb\xbf")[:4096]):
        raise _html_page(url)
    try:
        root, dropped = safe_xml(data)
    except ValueError as exc:
        raise FeedError(f"{display_url(url)} is not a podcast feed: {exc}", _HINT) from exc
    if etree.QName(root).localname.lower() == "html":
        raise _html_page(url)
    return root, dropped


_HINT = "Check that the address is the podcast's RSS feed, not its web page."


def _html_page(url: str) -> FeedError:
    """Return the error for a web page given where a feed was expected."""
    return FeedError(
        f"{display_url(url)} is an HTML page, not a podcast feed.",
        "Open the page, find its RSS (or Subscribe) link and use that address.",
    )


def _read_rss(root: Any, url: str) -> tuple[dict[str, str], list[_Draft], int]:
    """Read channel fields and item drafts through podcastparser; return them and the item count."""
    channel = root.find("channel")
    if channel is None:
        raise FeedError(f"{display_url(url)} is not a podcast feed: <rss> has no <channel>", _HINT)
    items = channel.findall("item")
    raw: list[tuple[str, str, bool]] = []
    for i, item in enumerate(items):
        guid_el = item.find("guid")
        permalink = guid_el is not None and guid_el.get("isPermaLink", "true").strip().lower() == "true"
        raw.append((_text(guid_el), _text(item.find("pubDate")), permalink))
        # Dates are parsed here (podcastparser cannot tell "no date" from 1970 and logs each bad one).
        for old in (*item.findall("guid"), *item.findall("pubDate")):
            item.remove(old)
        for old in item.iter(*(ns + "duration" for ns in _ITUNES)):
            if not _DURATION.fullmatch(_text(old)):
                old.clear()
        etree.SubElement(item, "guid", isPermaLink="false").text = f"{_MARK}{i}"
    try:
        parsed = podcastparser.parse(url, io.BytesIO(etree.tostring(root, encoding="utf-8")), max_episodes=0)
    except _PODCASTPARSER_ERRORS as exc:
        raise FeedError(
            f"{display_url(url)} is not a podcast feed: {' '.join(str(exc).split())}", _HINT
        ) from exc
    owner = parsed.get("itunes_owner")
    channel_fields = {
        "title": _str(parsed.get("title")),
        "author": _str(parsed.get("itunes_author"))
        or (_str(owner.get("name")) if isinstance(owner, dict) else ""),
        "description": html_to_text(_str(parsed.get("description"))),
        "link": _str(parsed.get("link")),
        "image_url": _str(parsed.get("cover_url")),
        "language": _str(parsed.get("language")),
        "new_url": _str(parsed.get("new_url")),
        "podcast_guid": _podcast_guid(channel),
    }
    drafts: list[_Draft] = []
    for entry in parsed.get("episodes", ()):
        marker = _str(entry.get("guid"))
        if not marker.startswith(_MARK):
            continue
        guid, date_text, permalink = raw[int(marker[len(_MARK) :])]
        enclosure = next((e for e in entry.get("enclosures", ()) if e.get("url")), None)
        if enclosure is None:
            continue
        link = _str(entry.get("link"))
        if not link and permalink and guid.startswith(("http://", "https://")):
            link = guid
        html = _str(entry.get("description_html"))
        fields = {
            "title": _str(entry.get("title")),
            "description": html_to_text(html or _str(entry.get("description"))),
            "mime_type": _str(enclosure.get("mime_type")),
            "size": _positive(enclosure.get("file_size")),
            "duration": _positive(entry.get("total_time")),
            "image_url": _str(entry.get("episode_art_url")),
            "link": link,
            "season": _positive(entry.get("season")),
            "number": _positive(entry.get("number")),
        }
        drafts.append(_Draft(guid, date_text, _str(enclosure["url"]), fields))
    return channel_fields, drafts, len(items)


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _atom_text(el: Any) -> str:
    """Return an Atom text construct as plain text (type text, html or xhtml)."""
    if el is None:
        return ""
    kind = el.get("type", "text").strip().lower()
    if kind == "xhtml":
        return html_to_text(etree.tostring(el, encoding="unicode", method="html", with_tail=False))
    return html_to_text(_text(el)) if kind == "html" else tidy_text(_text(el))


def _atom_link(parent: Any, rel: str) -> Any:
    """Return the first <link> with that rel (alternate when rel is missing), or None."""
    for link in parent.findall(_ATOM + "link"):
        if link.get("rel", "alternate").strip() == rel and link.get("href", "").strip():
            return link
    return None


def _join(base: str, ref: Any, attr: str = "") -> str:
    """Resolve ref (or that attribute of the element ref) against base; "" when there is nothing."""
    if attr:
        ref = "" if ref is None else ref.get(attr, "")
    try:
        return urljoin(base, ref.strip()) if ref.strip() else ""
    except ValueError:  # a malformed IPv6 host in either URL
        return ""


def _itunes(parent: Any, local: str) -> str:
    return _text(_find(parent, local, _ITUNES))


def _duration(text: str) -> int | None:
    """Return itunes:duration ("1:02:03", "3723") in seconds; None when it is not a duration."""
    return _positive(podcastparser.parse_time(text)) if _DURATION.fullmatch(text) else None


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 10 and int(text) > 0 else None


def _read_atom(root: Any, url: str) -> tuple[dict[str, str], list[_Draft], int]:
    """Read an Atom feed: entries' enclosures are <link rel="enclosure">."""
    base = _join(url, root.get("{http://www.w3.org/XML/1998/namespace}base", "")) or url
    author = _text(root.find(f"{_ATOM}author/{_ATOM}name")) or _itunes(root, "author")
    image = _join(base, _find(root, "image", _ITUNES), "href") or _join(
        base, _text(root.find(_ATOM + "logo"))
    )
    channel_fields = {
        "title": _atom_text(root.find(_ATOM + "title")),
        "author": author,
        "description": _atom_text(root.find(_ATOM + "subtitle")) or _itunes(root, "summary"),
        "link": _join(base, _atom_link(root, "alternate"), "href"),
        "image_url": image or _join(base, _text(root.find(_ATOM + "icon"))),
        "language": root.get("{http://www.w3.org/XML/1998/namespace}lang", "").strip(),
        "new_url": _itunes(root, "new-feed-url"),
        "podcast_guid": _podcast_guid(root),
    }
    entries = root.findall(_ATOM + "entry")
    drafts: list[_Draft] = []
    for entry in entries:
        enclosure = _atom_link(entry, "enclosure")
        enclosure_url = _join(base, enclosure, "href")
        if not enclosure_url:
            continue
        image = _join(base, _find(entry, "image", _ITUNES), "href")
        content = entry.find(_ATOM + "content")
        fields = {
            "title": _atom_text(entry.find(_ATOM + "title")) or enclosure_url.rsplit("/", 1)[-1],
            "description": _atom_text(content if content is not None and content.get("src") is None else None)
            or _atom_text(entry.find(_ATOM + "summary")),
            "mime_type": enclosure.get("type", "").strip(),
            "size": _int(enclosure.get("length", "").strip()),
            "duration": _duration(_itunes(entry, "duration")),
            "image_url": image or _join(base, _find(entry, "thumbnail", _MEDIA), "url"),
            "link": _join(base, _atom_link(entry, "alternate"), "href"),
            "season": _int(_itunes(entry, "season")),
            "number": _int(_itunes(entry, "episode")),
        }
        date_text = _text(entry.find(_ATOM + "published")) or _text(entry.find(_ATOM + "updated"))
        drafts.append(_Draft(_text(entry.find(_ATOM + "id")), date_text, enclosure_url, fields))
    return channel_fields, drafts, len(entries)


def _episodes(drafts: list[_Draft], now: datetime, warnings: list[str]) -> tuple[FeedEpisode, ...]:
    """Date and key the drafts: a missing or repeated GUID falls back to the enclosure URL."""
    dated: list[tuple[datetime, int, _Draft]] = []
    undated = 0
    for index, draft in enumerate(drafts):
        published = parse_date(draft.date_text)
        if published is None:
            undated += 1
            published = now
        dated.append((published, index, draft))
    if undated:
        warnings.append(f"{undated} episodes have no usable date; dated {now:%Y-%m-%d %H:%M} UTC instead")
    # Oldest first, so the first holder of a repeated GUID keeps it when a feed later reuses the GUID.
    dated.sort(key=lambda t: (t[0], -t[1]))
    keys: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    repeated = duplicates = 0
    out: list[tuple[datetime, int, FeedEpisode]] = []
    for published, index, draft in dated:
        if (draft.guid, draft.enclosure_url) in pairs:
            duplicates += 1
            continue
        pairs.add((draft.guid, draft.enclosure_url))
        key = draft.guid
        if not key or key in keys:
            repeated += bool(key)
            key = draft.enclosure_url
        if key in keys:
            duplicates += 1
            continue
        keys.add(key)
        episode = FeedEpisode(
            key, draft.guid, published=published, enclosure_url=draft.enclosure_url, **draft.fields
        )
        out.append((published, index, episode))
    if repeated:
        warnings.append(f"{repeated} episodes repeat another episode's GUID; told apart by their media URL")
    if duplicates:
        warnings.append(f"{duplicates} duplicate episodes (same GUID and media URL) skipped")
    out.sort(key=lambda t: (t[0], -t[1]), reverse=True)
    return tuple(episode for _, _, episode in out)


def parse_feed(data: bytes, url: str, now: datetime) -> Feed:
    """Parse an RSS 2.0 or Atom podcast feed fetched from url; `now` dates episodes that have no date."""
    root, dropped = _xml_root(data, url)
    warnings: list[str] = []
    if dropped:
        warnings.append(f"{dropped} XML entity references ignored (entities are never expanded)")
    tag = etree.QName(root)
    reader: Callable[[Any, str], tuple[dict[str, str], list[_Draft], int]]
    if tag.localname == "rss" and tag.namespace is None:
        reader = _read_rss
    elif root.tag == _ATOM + "feed":
        reader = _read_atom
    else:
        found = f"its root element is <{tag.localname}>, not <rss> or <feed>"
        raise FeedError(f"{display_url(url)} is not a podcast feed: {found}", _HINT)
    fields, drafts, items = reader(root, url)
    if items > len(drafts):
        warnings.append(f"{items - len(drafts)} items without a media file skipped")
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    episodes = _episodes(drafts, now, warnings)
    identity = fields.pop("podcast_guid") or normalise_url(fields["link"] or url)
    fields["title"] = fields["title"] or display_url(url)
    return Feed(**fields, identity=identity, episodes=episodes, warnings=tuple(warnings))


def parse_search_results(data: bytes) -> list[SearchResult]:
    """Read an iTunes Search API answer; results without a feed URL are skipped."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"the podcast search did not answer with JSON: {exc}", "Try again later.") from exc
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        raise FeedError("the podcast search answered without a list of results.", "Try again later.")
    out: list[SearchResult] = []
    for item in results:
        if not isinstance(item, dict) or not _str(item.get("feedUrl")):
            continue
        title = _str(item.get("collectionName")) or _str(item.get("trackName"))
        image = _str(item.get("artworkUrl600")) or _str(item.get("artworkUrl100"))
        count = _positive(item.get("trackCount"))
        genre = _str(item.get("primaryGenreName"))
        out.append(
            SearchResult(title, _str(item.get("artistName")), _str(item["feedUrl"]), image, count, genre)
        )
    return out
