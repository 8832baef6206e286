"""The Plex pass on a source's own <programme> element: serialised by lxml, then patched as bytes.

Same rules as plan.plex_programme (our channel id, UTC times, `lang` everywhere, a category Plex knows first,
a desc, an episode-num unless a movie, DTD order), but without building Python values for every field: on a
370k-programme guide that was most of the merge's time (bench/iptv.py).

Most programmes of a real guide already have their children in DTD order and need only a few additions:
those are patched in lxml's serialisation (fast_patch.py: a few C-level regex scans, no Python object per
child element). Anything unusual (children out of order, elements outside the DTD, attributes other than
`lang`, markup where text is expected) takes the element path below, which handles every case.
"""

from __future__ import annotations

import functools
import html
import re
from datetime import UTC, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.formats.xmltv import format_time
from antenna.iptv import fast_patch, plan
from antenna.iptv.programme_dtd import EPISODE_SYSTEMS, LANG_TAGS, PROGRAMME_ATTRS, RANK, SINGLE


def _insert(el: Any, new: Any) -> None:
    """Move new (el's last child) where xmltv.dtd wants it: after every child of the same or lower rank."""
    rank = RANK[new.tag]
    child = new.getprevious()
    while child is not None and RANK.get(child.tag, -1) > rank:
        child = child.getprevious()
    if child is None:
        el.insert(0, new)
    elif child.getnext() is not new:
        child.addnext(new)


def _sorted(el: Any) -> None:
    el[:] = sorted(el, key=lambda child: RANK.get(child.tag, len(RANK)))  # stable: same-rank order is kept


_ATTRIBUTE = re.compile(rb' ([^\s=]+)="([^"]*)"')
_PLAIN_TAG_ATTRS = (b"start", b"stop", b"channel")
_KEEP = frozenset(name.encode() for name in PROGRAMME_ATTRS) - frozenset(_PLAIN_TAG_ATTRS)


def retag(data: bytes, channel_id: str, start: int, stop: int) -> tuple[bytes, str]:
    """Give a serialised programme our start tag (channel id, UTC times; epoch seconds, stop -1 when none).

    Attributes xmltv.dtd allows besides start/stop/channel (pdc-start, clumpidx…) are kept; others, such as
    IPTV Simple's catchup-id, go. Also returns the start as "YYYY-MM-DD HH:MM:SS" for finish.
    """
    end = data.find(b">") + 1
    closed = data[end - 2 : end] == b"/>"
    tag = b'<programme start="' + _epoch_bytes(start)
    if stop >= 0:
        tag += b'" stop="' + _epoch_bytes(stop)
    names = _ATTRIBUTE.findall(data, 0, end)
    if len(names) > 3 or any(name not in _PLAIN_TAG_ATTRS for name, _value in names):
        for name, value in names:
            if name in _KEEP:
                tag += b'" ' + name + b'="' + value  # as lxml wrote it: already escaped
    tag += _channel_end(channel_id)
    return (tag[:-1] + b"/>" if closed else tag + data[end:]), _epoch_aired(start)


@functools.lru_cache(maxsize=1 << 15)
def _epoch_bytes(at: int) -> bytes:
    return format_time(datetime.fromtimestamp(at, UTC)).encode()


@functools.lru_cache(maxsize=1 << 15)
def _epoch_aired(at: int) -> str:
    return f"{datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M:%S}"


@functools.lru_cache(maxsize=1 << 12)
def _channel_end(channel_id: str) -> bytes:
    return b'" channel="' + html.escape(channel_id, quote=True).encode() + b'">'


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def finish(data: bytes, aired: str, *, lang: str = "en", fast: bool = True) -> bytes | None:
    """Apply the children's rules to a retagged programme; None when it has no title.

    aired is retag's; with fast=False the element path is always taken (tests compare both paths).
    """
    if fast:
        patched = fast_patch.patch(data, aired, lang)
        if patched is not fast_patch.SLOW:
            return patched
    return _rewrite_children(etree.fromstring(data, _PARSER), aired, lang)


def rewrite(
    el: Any, channel_id: str, start: datetime, stop: datetime | None, *, lang: str = "en", fast: bool = True
) -> bytes | None:
    """Rewrite a programme element for Plex and return it serialised; None when it has no title.

    The merge does the same in steps (serialise, retag, finish), the last two maybe in another process.
    """
    data = etree.tostring(el, encoding="utf-8", with_tail=False)
    stop_at = int(stop.timestamp()) if stop is not None else -1
    tagged, aired = retag(data, channel_id, int(start.timestamp()), stop_at)
    return finish(tagged, aired, lang=lang, fast=fast)


def _rewrite_children(el: Any, aired: str, lang: str) -> bytes | None:
    """The element path: any child order, unknown elements, duplicates; the tree is changed in place."""
    title = ""
    categories: list[str] = []
    first_category: Any = None
    has_desc = has_episode = numbered = False
    in_order = True
    last = -1
    unknown: list[Any] = []
    seen: set[str] = set()
    for child in el:
        tag = child.tag
        rank = RANK.get(tag)
        if rank is None:
            unknown.append(child)
            continue
        if tag in SINGLE:
            if tag in seen:
                unknown.append(child)
                continue
            seen.add(tag)
        if rank < last:
            in_order = False
        last = rank
        if tag in LANG_TAGS and not child.get("lang"):
            child.set("lang", lang)
        if tag == "title":
            title = title or (child.text or "").strip()
        elif tag == "desc":
            has_desc = True
        elif tag == "category":
            categories.append(child.text or "")
            if first_category is None:
                first_category = child
        elif tag == "episode-num":
            system = child.get("system", "onscreen")
            has_episode = has_episode or system in EPISODE_SYSTEMS
            numbered = numbered or system in ("xmltv_ns", "onscreen")
    for child in unknown:
        el.remove(child)  # not in xmltv.dtd (<live>…) or a second <date>: Plex and validators choke on them
    if not title:
        return None
    if not in_order:
        _sorted(el)
    category = plan.plex_category(categories, numbered)
    if first_category is None or categories[0].strip().lower() != category.lower():
        if len(categories) > 1 or first_category is not None:
            for child in el.iterchildren("category"):
                if (child.text or "").strip().lower() == category.lower():
                    el.remove(child)  # it moves to the front
        # Made as a child (then moved): etree.Element would make a whole new document each time.
        new = etree.SubElement(el, "category", lang=lang)
        new.text = category
        if first_category is not None and first_category.getparent() is el:
            first_category.addprevious(new)
        else:
            _insert(el, new)
    if not has_desc:
        desc = etree.SubElement(el, "desc", lang=lang)
        desc.text = title
        _insert(el, desc)
    if category != "Movie" and not has_episode:
        # Plex treats a programme without an episode number as a movie (no series recording).
        episode = etree.SubElement(el, "episode-num", system="original-air-date")
        episode.text = aired
        _insert(el, episode)
    data: bytes = etree.tostring(el, encoding="utf-8", with_tail=False)
    return data
