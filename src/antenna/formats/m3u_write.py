"""Writing M3U playlists as Kodi's IPTV Simple reads them back (the reader is formats/m3u.py)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

from antenna.formats.m3u import M3UEntry

# Keys IPTV Simple knows; checking membership is cheaper than checking the characters of every key.
_KNOWN_KEYS = frozenset(
    {
        *("tvg-id", "tvg-ID", "tvg-name", "tvg-logo", "tvg-chno", "ch-number", "tvg-shift", "tvg-rec"),
        *("group-title", "radio", "catchup", "catchup-type", "catchup-source", "catchup-days"),
        *("catchup-correction", "timeshift", "provider", "provider-type", "provider-logo"),
        *("provider-countries", "provider-languages", "media", "media-dir", "media-size", "realtime"),
    }
)
_SAFE_DURATION = re.compile(r"-?\d+(?:\.\d+)?")
_BAD_KEY_CHARS = re.compile(r'[\s=,"\']')
_LINE_BREAKS = re.compile(r"[\r\n]+")


def format_value(value: str) -> str:
    """Return an attribute value as the writer puts it between quotes."""
    return _value(value) if '"' in value or "\n" in value or "\r" in value else value


def _value(value: str) -> str:
    """Make an attribute value writable: IPTV Simple has no escaping, so `"` becomes `'`."""
    if '"' in value:
        value = value.replace('"', "'")
    if "\n" in value or "\r" in value:
        value = _LINE_BREAKS.sub(" ", value)
    return value


def _key(key: str) -> str:
    """Make an attribute key writable: characters that would end it become "_"."""
    return _BAD_KEY_CHARS.sub("_", key)


def one_line(text: str) -> str:
    """Replace line breaks, which would end the line, with spaces."""
    return _LINE_BREAKS.sub(" ", text) if "\n" in text or "\r" in text else text


_one_line = one_line


def format_extinf(entry: M3UEntry) -> str:
    """Return the #EXTINF line (no newline); non-empty groups replace group-title, joined by ";"."""
    return _extinf(entry.duration, entry.attrs, entry.groups, entry.name)


def _extinf(duration: str, attrs: Iterable[tuple[str, str]], groups: tuple[str, ...], name: str) -> str:
    if duration != "-1" and _SAFE_DURATION.fullmatch(duration) is None:
        duration = "-1"
    parts = [f"#EXTINF:{duration}"]
    for k, v in attrs:
        if k in _KNOWN_KEYS:
            if groups and k == "group-title":
                v = ";".join(groups)
                groups = ()
        else:
            k = _key(k)
            if not k:
                continue
            if groups and k.lower() == "group-title":
                v = ";".join(groups)
                groups = ()
        if '"' in v or "\n" in v or "\r" in v:
            v = _value(v)
        parts.append(f'{k}="{v}"')
    if groups:
        parts.append(f'group-title="{_value(";".join(groups))}"')
    if "\n" in name or "\r" in name:
        name = _LINE_BREAKS.sub(" ", name)
    return " ".join(parts) + "," + name


def format_attrs(attrs: Iterable[tuple[str, str]]) -> str:
    """Return attributes as the #EXTINF writer puts them after others: ` key="value"` each."""
    return _extinf("-1", attrs, (), "")[10:-1]


def format_header(header: Sequence[tuple[str, str]]) -> str:
    """Return the #EXTM3U line with its newline."""
    return " ".join(["#EXTM3U", *(f'{_key(k)}="{_value(v)}"' for k, v in header if k)]) + "\n"


def format_entry(
    name: str,
    url: str,
    attrs: Iterable[tuple[str, str]],
    groups: tuple[str, ...] = (),
    kodiprops: tuple[tuple[str, str], ...] = (),
    vlcopts: tuple[tuple[str, str], ...] = (),
    duration: str = "-1",
) -> str:
    """Return one entry's lines as render_m3u writes them (each ending in "\n"), from its fields."""
    extinf = _extinf(duration, attrs, groups, name)
    if kodiprops or vlcopts:
        lines = [extinf]
        lines.extend(f"#KODIPROP:{_one_line(k)}={_one_line(v)}" for k, v in kodiprops)
        lines.extend(f"#EXTVLCOPT:{_one_line(k)}={_one_line(v)}" for k, v in vlcopts)
        lines.append(_one_line(url))
        return "\n".join(lines) + "\n"
    if "\n" in url or "\r" in url:
        url = _LINE_BREAKS.sub(" ", url)
    return f"{extinf}\n{url}\n"


def render_m3u(header: Sequence[tuple[str, str]], entries: Iterable[M3UEntry]) -> Iterator[str]:
    """Yield the playlist: the header line, then one string per entry (its lines, each ending in "\\n")."""
    # Take the first entry before writing the header so `render_m3u(h, iter_m3u(src, w, h))` streams with the
    # header list already filled from the source's #EXTM3U line.
    it = iter(entries)
    first = next(it, None)
    yield format_header(header)
    if first is None:
        return
    for e in itertools.chain((first,), it):
        # One string per entry, not per line: half the generator round trips on a 200k-entry playlist.
        yield format_entry(e.name, e.url, e.attrs, e.groups, e.kodiprops, e.vlcopts, e.duration)
