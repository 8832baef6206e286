"""Plex's programme fixes patched into lxml's serialisation of a <programme>, when its children allow it.

The element path (plex_xml) walks every child through an lxml proxy object: about 13 µs a programme, most of
a 370k-programme merge. Here the serialised bytes are split into their top-level children by one regex scan,
the child-tag sequence is looked up in a cache of shapes (DTD order, where each addition goes), and the few
additions are spliced in. Whatever this cannot handle exactly returns SLOW and the caller takes the element
path: children out of DTD order or outside the DTD, a repeated single element, attributes other than `lang`
on text elements, markup inside a title or category, an empty first title. Text between children, which
xmltv.dtd does not allow, is dropped.

The rules are those of plex_xml (tests compare the two paths on the same input).
"""

from __future__ import annotations

import enum
import functools
import html
import re
from dataclasses import dataclass
from typing import Final, Literal

from antenna.iptv import plan
from antenna.iptv.programme_dtd import LANG_TAGS, RANK, SINGLE


class Slow(enum.Enum):
    """The type of SLOW."""

    TOKEN = 0


SLOW: Final = Slow.TOKEN  # "take the element path"

_END = b"</programme>"
# One top-level child. It starts with a literal "<" so the scan jumps from tag to tag; text-only content is
# matched without backtracking; elements with children (credits, rating) take the lazy branch, which stops at
# the first closing tag of the same name. A split that went wrong leaves markup outside the pieces, which the
# count of "<" catches (then SLOW).
_CHILD = re.compile(rb"(<([A-Za-z_][\w.:-]*)[^>]*?(?:/>|>[^<]*</\2>|>.*?</\2>))", re.S)
_TEXT = re.compile(rb"<[^>]*>([^<]*)</")
_SYSTEM = re.compile(rb'<episode-num(?: system="([^"]*)")?>')
_NUMBERED = (b"xmltv_ns", b"onscreen")
_EPISODE = (*_NUMBERED, b"original-air-date")


@dataclass(frozen=True)
class _Shape:
    """What a sequence of child tags in DTD order means for the patch: what is there and where to insert."""

    title: bool
    desc: bool
    langs: tuple[tuple[int, bytes, bytes], ...]  # (index, "<tag>", '<tag lang="') of children that need lang
    categories: slice  # the run of <category> children (xmltv.dtd keeps them together)
    episodes: tuple[int, ...]
    desc_at: int  # insert a <desc> before this child index
    episode_at: int


def _first_after(ranks: list[int], tag: str) -> int:
    rank = RANK[tag]
    return next((i for i, r in enumerate(ranks) if r > rank), len(ranks))


@functools.lru_cache(maxsize=4096)
def _shape(tags: tuple[bytes, ...]) -> _Shape | None:
    """Return the shape of a child-tag sequence, or None when it needs the element path."""
    names = [tag.decode("ascii", "replace") for tag in tags]
    ranks: list[int] = []
    seen: set[str] = set()
    for name in names:
        rank = RANK.get(name)
        if rank is None or (ranks and rank < ranks[-1]) or (name in SINGLE and name in seen):
            return None
        seen.add(name)
        ranks.append(rank)
    categories = [i for i, name in enumerate(names) if name == "category"]
    first = categories[0] if categories else _first_after(ranks, "category")
    return _Shape(
        title="title" in seen,
        desc="desc" in seen,
        langs=tuple(
            (i, f"<{name}>".encode(), f'<{name} lang="'.encode())
            for i, name in enumerate(names)
            if name in LANG_TAGS
        ),
        categories=slice(first, first + len(categories)),
        episodes=tuple(i for i, name in enumerate(names) if name == "episode-num"),
        desc_at=_first_after(ranks, "desc"),
        episode_at=_first_after(ranks, "episode-num"),
    )


@functools.lru_cache(maxsize=16)
def _lang_attr(lang: str) -> bytes:
    return b' lang="' + html.escape(lang, quote=True).encode() + b'"'


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


# (category pieces, numbered, lang attribute) -> (Plex category, the category pieces to write) or None (SLOW).
# Guides repeat a few category sets across hundreds of thousands of programmes.
_CategoryRun = tuple[str, tuple[bytes, ...]] | None
_categories: dict[tuple[tuple[bytes, ...], bool, bytes], _CategoryRun] = {}


def _category_run(pieces: tuple[bytes, ...], numbered: bool, lang_attr: bytes) -> _CategoryRun:
    """Return the Plex category and the category children with it first (once), or None for the SLOW path."""
    key = (pieces, numbered, lang_attr)
    try:
        return _categories[key]
    except KeyError:
        pass
    texts: list[str] = []
    run: _CategoryRun = None
    for piece in pieces:
        match = _TEXT.match(piece)
        if match is None:
            break  # markup inside a category
        texts.append(_text(match[1]))
    else:
        category = plan.plex_category(texts, numbered)
        wanted = category.lower()
        if texts and texts[0].strip().lower() == wanted:
            run = (category, pieces)
        else:
            first = b"<category" + lang_attr + b">" + category.encode() + b"</category>"
            rest = (
                piece for piece, text in zip(pieces, texts, strict=True) if text.strip().lower() != wanted
            )
            run = (category, (first, *rest))
    if len(_categories) >= 8192:
        _categories.clear()
    _categories[key] = run
    return run


def patch(data: bytes, aired: str, lang: str) -> bytes | Literal[Slow.TOKEN] | None:
    """Return the Plex form of a serialised programme, None when it has no title, or SLOW.

    data is lxml's serialisation of the programme with its attributes already rewritten; aired is the
    start as "YYYY-MM-DD HH:MM:SS" for a synthetic episode number. Whitespace between children is made
    uniform (the first child's indent); text between children, which xmltv.dtd does not allow, is dropped.
    """
    head_end = data.find(b">") + 1
    if data[head_end - 2 : head_end] == b"/>":
        return None  # <programme .../>: no title
    body_end = len(data) - len(_END)
    if not data.endswith(_END):
        return SLOW
    found = _CHILD.findall(data, head_end, body_end)
    markup = data.count(b"<", head_end, body_end)
    if not found:
        return None if not markup else SLOW
    pieces, tags = zip(*found, strict=True)
    shape = _shape(tags)
    if shape is None or b"".join(pieces).count(b"<") != markup:
        return SLOW  # out of DTD order, unknown or repeated elements, or a child split wrongly
    if not shape.title:
        return None
    out = list(pieces)
    lang_attr = _lang_attr(lang)
    for index, bare, langed in shape.langs:
        piece = out[index]
        if piece.startswith(bare):
            out[index] = bare[:-1] + lang_attr + piece[len(bare) - 1 :]
        elif not piece.startswith(langed) or piece[len(langed)] == 34:  # 34 is '"': an empty lang
            return SLOW  # other attributes, or an empty lang
    title_match = _TEXT.match(out[0])
    if title_match is None or not (title := title_match[1].decode().strip()):
        return SLOW  # markup in the title, or an empty first title: the element path decides
    numbered = has_episode = False
    for index in shape.episodes:
        match = _SYSTEM.match(out[index])
        if match is None:
            return SLOW
        system = b"onscreen" if match[1] is None else match[1]
        numbered = numbered or system in _NUMBERED
        has_episode = has_episode or system in _EPISODE
    run = _category_run(tuple(out[shape.categories]), numbered, lang_attr)
    if run is None:
        return SLOW
    category, categories = run
    # From the last position to the first, so the shape's indexes stay right.
    if category != "Movie" and not has_episode:
        # Plex treats a programme without an episode number as a movie (no series recording).
        out.insert(
            shape.episode_at, b'<episode-num system="original-air-date">' + aired.encode() + b"</episode-num>"
        )
    out[shape.categories] = categories
    if not shape.desc:
        escaped = html.escape(html.unescape(title) if "&" in title else title, quote=False).encode()
        out.insert(shape.desc_at, b"<desc" + lang_attr + b">" + escaped + b"</desc>")
    indent = data[head_end : data.find(b"<", head_end)]
    closing = data[data.rfind(b">", 0, body_end) + 1 : body_end]
    if indent and not indent.isspace():
        indent = b""
    if closing and not closing.isspace():
        closing = b""
    return data[:head_end] + indent + indent.join(out) + closing + _END
