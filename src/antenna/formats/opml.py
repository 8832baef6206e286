"""OPML subscription lists: a tolerant reader for what podcast apps export and an OPML 2.0 writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

# lxml ships no type stubs; `lxml-stubs` would make the ignore unused, hence unused-ignore.
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.errors import UserError
from antenna.formats.feed_url import normalise_url
from antenna.formats.nfo import xml_text
from antenna.formats.safe_xml import safe_xml

_HINT = "Export the subscriptions again from your podcast app as OPML and import that file."


class OpmlError(UserError):
    """The file is not an OPML subscription list."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription in an OPML file."""

    title: str
    xml_url: str
    html_url: str = ""


def _attr(outline: Any, name: str) -> str:
    """Return an attribute by case-insensitive name: apps write xmlUrl, xmlurl and XMLURL."""
    value = outline.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in outline.attrib.items() if str(k).lower() == wanted), "")
    return str(value).strip()


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Return the feeds of an OPML file in document order, nested outlines included, duplicates dropped."""
    try:
        root, _ = safe_xml(data)
    except ValueError as exc:
        raise OpmlError(f"the file is not OPML: it is not well-formed XML: {exc}", _HINT) from exc
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if tag.lower() != "opml":
        raise OpmlError(f"the file is not OPML: its root element is <{tag}>, not <opml>", _HINT)
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in root.iter("{*}outline"):
        xml_url = _attr(outline, "xmlUrl")
        if not xml_url:
            continue
        key = normalise_url(xml_url)
        if key in seen:
            continue
        seen.add(key)
        title = _attr(outline, "title") or _attr(outline, "text")
        feeds.append(OpmlFeed(title, xml_url, _attr(outline, "htmlUrl")))
    return feeds


def render_opml(title: str, feeds: Sequence[OpmlFeed], now: datetime) -> bytes:
    """Return an OPML 2.0 file listing the feeds."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = xml_text(title)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    etree.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = etree.SubElement(root, "body")
    for feed in feeds:
        name = xml_text(feed.title)
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": xml_text(feed.xml_url)}
        if feed.html_url:
            attrs["htmlUrl"] = xml_text(feed.html_url)
        etree.SubElement(body, "outline", attrs)
    out: bytes = etree.tostring(root, encoding="utf-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + out
