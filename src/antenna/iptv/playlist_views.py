"""What the streamed playlist merge needs of each M3U entry ("views"), read by C where it can.

A view is the entry reduced to what playlist_stream decides on and writes: its identity, name, number,
groups, logo and the pre-rendered pieces of its playlist lines. `rest` is the whole entry after the
tvg-chno attribute as the merge writes it (UTF-8) when no user override applies (None: the merge composes
it, as it does for an overridden channel). C (`_playlist_views.c`) reads the usual entry; anything else, and
every entry when the extension is not built, goes through formats/m3u.py and `view_of` here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from types import ModuleType
from typing import Any, cast

from antenna.formats.guide import ParseWarning
from antenna.formats.m3u import (
    M3URecord,
    M3UWarnings,
    Pending,
    block_lines,
    byte_blocks,
    complete_entry,
    finish,
    iter_m3u_records,
    line_blocks,
    read_directive,
)
from antenna.formats.m3u_write import format_attrs, format_value, one_line
from antenna.iptv import native
from antenna.iptv.models import SourceConfig
from antenna.iptv.plan import PLAYLIST_ATTRS, absolute, number_or_empty

# key (tvg-id, tvg-name or name), name, the name written (tvg-name or name), the number it asks for
# (tvg-chno or ch-number as plan.number_or_empty reads it), groups, logo, mid (radio and catchup-style
# attributes), tail (directive and URL lines after the name), rest (as UTF-8; None: compose it), line of the
# #EXTINF
View = tuple[str, str, str, str, tuple[str, ...], str, str, str, bytes | None, int]

_TRUE = frozenset({"true", "1", "yes"})
_ALIAS = {"tvg-chno": "ch-number"}
_EXTRAS = tuple(sorted(PLAYLIST_ATTRS))


# _playlist_views.run: see there
RunWriter = Callable[..., tuple[int, int, int]]


def run_writer(use_c: bool | None = None) -> RunWriter | None:
    """Return the C writer of runs of usual channels for playlist_stream, or None (Python writes them)."""
    c = _c(use_c)
    return None if c is None else cast(RunWriter, c.run)


def _c(use_c: bool | None) -> ModuleType | None:
    """Return the C module: use_c None takes it when built and not switched off, False never."""
    return native.module() if use_c is None else native.built_module() if use_c else None


def compose(out_name: str, logo: str, groups: tuple[str, ...], mid: str, tail: str) -> bytes:
    """Return the entry after its tvg-chno attribute, as format_entry writes it, in UTF-8 (a lone surrogate,
    as a file name can give a source's name, becomes "?")."""
    title = format_value(";".join(groups))
    head = f' tvg-logo="{format_value(logo)}" group-title="{title}"' if logo else f' group-title="{title}"'
    return f"{head}{mid},{one_line(out_name)}{tail}".encode(errors="replace")


def choose_logo(logo: str, icon: str, base_url: str) -> str:
    """Return the logo written for a channel: its own or the source icon, absolute against the source URL."""
    logo = logo or icon
    return absolute(logo, base_url) if base_url and logo else logo


def view_of(record: M3URecord, source: SourceConfig) -> View:
    """Return an entry's view (the Python path of the C reader, and the reader without it)."""
    name, url, attrs, _duration, groups, kodiprops, vlcopts, line = record
    found = dict(reversed(attrs))  # the first of each key wins, as in M3UEntry.attr
    keys = "".join(found)
    if keys == keys.lower():
        tvg_id = found.get("tvg-id", "")
        tvg_name = found.get("tvg-name", "")
        chno = found.get("tvg-chno")
        if chno is None:
            chno = found.get("ch-number", "")
        logo = found.get("tvg-logo", "")
        radio = found.get("radio", "")
    else:
        tvg_id, tvg_name = _attr(attrs, "tvg-id"), _attr(attrs, "tvg-name")
        chno, logo, radio = _attr(attrs, "tvg-chno"), _attr(attrs, "tvg-logo"), _attr(attrs, "radio")
    groups = groups or (source.name,)
    mid = ' radio="true"' if radio and radio.strip().lower() in _TRUE else ""
    extras = [(k, v) for k, v in attrs if k.lower() in PLAYLIST_ATTRS]
    if extras:
        mid += format_attrs(extras)
    lines = [f"#KODIPROP:{one_line(k)}={one_line(v)}\n" for k, v in kodiprops]
    lines.extend(f"#EXTVLCOPT:{one_line(k)}={one_line(v)}\n" for k, v in vlcopts)
    tail = "\n" + "".join(lines) + one_line(url) + "\n"
    out_name = tvg_name or name
    rest = compose(out_name, choose_logo(logo, source.icon, source.base_url), groups, mid, tail)
    wanted = number_or_empty(chno) if chno else ""
    return (tvg_id or tvg_name or name, name, out_name, wanted, groups, logo, mid, tail, rest, line)


def _attr(attrs: tuple[tuple[str, str], ...], key: str) -> str:
    """Return an attribute as M3UEntry.attr does, for the rare entry with upper-case keys."""
    for k, v in attrs:
        if k == key:
            return v
    alias = _ALIAS.get(key)
    via_alias: str | None = None
    for k, v in attrs:
        lk = k.lower()
        if lk == key:
            return v
        if via_alias is None and lk == alias:
            via_alias = v
    return "" if via_alias is None else via_alias


def _utf8(source: SourceConfig) -> bool:
    """Return True when the source's name and icon have UTF-8 (no lone surrogates), as the C reader needs."""
    try:
        source.name.encode()
        source.icon.encode()
    except UnicodeEncodeError:
        return False
    return True


def iter_views(
    chunks: Iterable[bytes],
    warnings: list[ParseWarning],
    source: SourceConfig,
    *,
    overridden: AbstractSet[str] = frozenset(),
    use_c: bool | None = None,
) -> Iterator[list[View]]:
    """Yield the views of an M3U read in chunks of bytes, a list at a time; problems go to `warnings`.

    overridden: the keys of this source's channels with a user override. The C reader leaves logo, mid and
    tail empty for other channels that have their rest (the merge never composes those again).
    use_c: None reads with C when it is built and not switched off (see native.py); False reads in Python.
    """
    c = _c(use_c)
    if c is None or not _utf8(source):
        records = iter_m3u_records(line_blocks(chunks), warnings)
        while block := [view_of(record, source) for record in itertools.islice(records, 4096)]:
            yield block
        return
    warn = M3UWarnings(warnings)

    def directive(text: str, lineno: int) -> tuple[int, Any]:
        return read_directive(text, lineno, warn, None)

    def odd(
        pending: Pending,
        url: str,
        extgrp: list[str],
        kodiprops: list[tuple[str, str]],
        vlcopts: list[tuple[str, str]],
    ) -> View:
        return view_of(complete_entry(pending, url, extgrp, kodiprops, vlcopts, warn), source)

    config = (
        *(source.name, format_value(source.name), source.icon, format_value(source.icon)),
        bool(source.base_url),
        _EXTRAS,
        directive,
        odd,
        warn.add,
        set(overridden) if overridden else None,
    )
    state: list[Any] = [0, False, None, [], [], []]
    feed = c.feed
    for index, data in enumerate(byte_blocks(chunks)):
        # A CR that ends the block ends a CRLF line whose LF was cut off: the reader strips it.
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n") + data.endswith(b"\r"):
            # Old Mac files: lines as line_blocks splits them (decoding then encoding keeps every character).
            data = "\n".join(block_lines(data.decode("utf-8", errors="replace"), index == 0)).encode()
        elif index == 0:
            first, newline, after = data.partition(b"\n")
            if b"\xef\xbb\xbf" in first:  # a BOM, maybe after blanks: dropped as line_blocks drops it
                text = first.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
                data = text.encode() + newline + after
        yield feed(data, state, config)
    finish(state[2], state[0], warn)
