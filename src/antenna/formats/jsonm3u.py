"""IPTV Manager's JSON-STREAMS v1 (an add-on's channel list) read into M3U entries as IPTV Manager would."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from antenna.errors import UserError
from antenna.formats.guide import ParseWarning
from antenna.formats.m3u import M3UEntry

_CHANNEL_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_TRUE = frozenset({"true", "1", "yes"})


def load_json(data: str | bytes | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """Decode JSON text into an object, or raise UserError saying where it broke."""
    if isinstance(data, Mapping):
        return data
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UserError(f"{what} is not UTF-8 text (byte {exc.start}).") from None
    value: Any = data  # an already-decoded value that is not an object is refused below like a decoded one
    if isinstance(data, str):
        try:
            value = json.loads(data.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise UserError(f"{what} is not valid JSON: {exc.msg} at {where}.") from None
        except RecursionError:
            raise UserError(f"{what} is not usable JSON: nested too deeply.") from None
    if not isinstance(value, Mapping):
        raise UserError(f"{what} must be a JSON object, not {type(value).__name__}.")
    return value


def check_version(doc: Mapping[str, Any], key: str, what: str, warnings: list[ParseWarning]) -> None:
    """Refuse versions above 1; accept a missing or odd version only when `key` is there."""
    version = doc.get("version")
    if isinstance(version, str) and version.strip().isdecimal() and len(version) < 20:
        version = int(version.strip())
    elif isinstance(version, float) and version.is_integer():
        version = int(version)
    if isinstance(version, int) and not isinstance(version, bool):
        if version > 1:
            raise UserError(f"{what} version {version} is not supported (only 1).")
        if version == 1:
            if key not in doc:
                raise UserError(f'{what} has no "{key}".')
            return
    if key not in doc:
        raise UserError(f'Not {what}: no "version" and no "{key}".')
    warnings.append(ParseWarning("version", f"version {version!r} is not 1; read as version 1"))


def text_of(value: Any) -> str:
    """Return a string or a number as stripped text; anything else as ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    return ""


def _groups(value: Any, source_name: str) -> tuple[str, ...]:
    """Return the groups of a `group` (a ";" string or a list), with the source's name last."""
    raw: list[str] = []
    if isinstance(value, str):
        raw = value.split(";")
    elif isinstance(value, list | tuple):
        raw = [text_of(v) for v in value]
    if source_name:
        raw.append(source_name)
    return tuple(dict.fromkeys(filter(None, (g.strip() for g in raw))))


def _flag(value: Any) -> bool:
    """Return whether a JSON value means true."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return isinstance(value, bool | int | float) and bool(value)


def _prop(value: Any) -> str:
    """Return a KODIPROP value as Kodi expects it: booleans lower case, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else text_of(value)


def _entry(
    stream: Mapping[str, Any], where: str, source_name: str, warnings: list[ParseWarning]
) -> M3UEntry | None:
    """Turn one stream object into an entry, or None (with a warning) when it has no name or URL."""
    name = text_of(stream.get("name"))
    url = text_of(stream.get("stream"))
    if not name or not url:
        ident = text_of(stream.get("id"))
        missing = "name" if not name else "stream"
        warnings.append(
            ParseWarning(where, f'skipped: no "{missing}"' + (f" (id {ident!r})" if ident else ""))
        )
        return None
    # Attribute order follows IPTV Manager's iptvsimple.py so our playlist matches the one Kodi would get.
    attrs = [("tvg-name", name)]
    if ident := text_of(stream.get("id")):
        attrs.append(("tvg-id", ident))
    if logo := text_of(stream.get("logo")):
        attrs.append(("tvg-logo", logo))
    preset = stream.get("preset")
    if preset is not None and preset != "":
        chno = text_of(preset)
        if _CHANNEL_NUMBER.fullmatch(chno):
            attrs.append(("tvg-chno", chno))
        else:
            warnings.append(ParseWarning(where, f"preset {preset!r} is not a channel number; ignored"))
    groups = _groups(stream.get("group"), source_name)
    if groups:
        attrs.append(("group-title", ";".join(groups)))
    if _flag(stream.get("radio")):
        attrs.append(("radio", "true"))
    attrs.append(("catchup", "vod"))
    props = stream.get("kodiprops")
    kodiprops: tuple[tuple[str, str], ...] = ()
    if isinstance(props, Mapping):
        kodiprops = tuple((str(k), _prop(v)) for k, v in props.items())
    elif props is not None:
        warnings.append(ParseWarning(where, "kodiprops is not an object; ignored"))
    return M3UEntry(name=name, url=url, attrs=tuple(attrs), groups=groups, kodiprops=kodiprops)


def parse_jsonm3u(
    data: str | bytes | Mapping[str, Any], *, source_name: str = ""
) -> tuple[list[M3UEntry], list[ParseWarning]]:
    """Read a JSON-STREAMS v1 document; `source_name` is appended to every channel's groups."""
    warnings: list[ParseWarning] = []
    doc = load_json(data, "The JSON-M3U")
    check_version(doc, "streams", "JSON-M3U", warnings)
    streams = doc["streams"]
    if not isinstance(streams, list):
        raise UserError(f'JSON-M3U "streams" must be a list, not {type(streams).__name__}.')
    entries: list[M3UEntry] = []
    for index, stream in enumerate(streams):
        where = f"streams[{index}]"
        if not isinstance(stream, Mapping):
            warnings.append(ParseWarning(where, "skipped: not an object"))
            continue
        entry = _entry(stream, where, source_name, warnings)
        if entry is not None:
            entries.append(entry)
    return entries, warnings
