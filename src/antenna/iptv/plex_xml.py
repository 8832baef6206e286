"""The Plex pass on a source's own <programme> element, rewritten in place and serialised by lxml.

Same rules as plan.plex_programme (our channel id, UTC times, `lang` everywhere, a category Plex knows first,
a desc, an episode-num unless a movie, DTD order), but without building Python values for every field: on a
370k-programme guide that was most of the merge's time (bench/iptv.py).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.formats.xmltv import format_time
from antenna.iptv import plan

DTD_ORDER = (
    "title", "sub-title", "desc", "credits", "date", "category", "keyword", "language", "orig-language",
    "length", "icon", "url", "country", "episode-num", "video", "audio", "previously-shown", "premiere",
    "last-chance", "new", "subtitles", "rating", "star-rating", "review", "image",
)  # fmt: skip
RANK = {tag: index for index, tag in enumerate(DTD_ORDER)}
PROGRAMME_ATTRS = frozenset(
    {"start", "stop", "pdc-start", "vps-start", "showview", "videoplus", "channel", "clumpidx"}
)
LANG_TAGS = frozenset({"title", "sub-title", "desc", "category", "keyword"})
# Elements xmltv.dtd allows at most once in a programme: a second one is dropped.
SINGLE = frozenset(
    {"credits", "date", "language", "orig-language", "length", "video", "audio", "previously-shown",
     "premiere", "last-chance", "new"}
)  # fmt: skip
EPISODE_SYSTEMS = frozenset({"xmltv_ns", "onscreen", "original-air-date"})

_time = functools.lru_cache(maxsize=1 << 15)(format_time)


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


@functools.lru_cache(maxsize=1 << 15)
def _aired(start: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M:%S}"


def _sorted(el: Any) -> None:
    el[:] = sorted(el, key=lambda child: RANK.get(child.tag, len(RANK)))  # stable: same-rank order is kept


def rewrite(
    el: Any, channel_id: str, start: datetime, stop: datetime | None, *, lang: str = "en"
) -> bytes | None:
    """Rewrite a programme element for Plex and return it serialised; None when it has no title."""
    names = el.keys()
    if not PROGRAMME_ATTRS.issuperset(names):
        for name in names:
            if name not in PROGRAMME_ATTRS:
                del el.attrib[name]  # e.g. IPTV Simple's catchup-id: not in the DTD
    el.set("start", _time(start))
    if stop is not None:
        el.set("stop", _time(stop))
    el.set("channel", channel_id)
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
        episode.text = _aired(start)
        _insert(el, episode)
    data: bytes = etree.tostring(el, encoding="utf-8", with_tail=False)
    return data
