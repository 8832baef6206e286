"""IPTV Manager's JSON-EPG v1 (an add-on's guide) read into the shared guide values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from dateutil import parser as dateparser

from antenna.errors import UserError
from antenna.formats.guide import Credit, EpisodeNum, GuideChannel, ParseWarning, Programme, Text
from antenna.formats.jsonm3u import check_version, load_json, text_of

# XMLTV's credit elements, plus the words add-ons use for them; IPTV Manager folds anything else into actor.
_ROLES = {
    **{role: role for role in ("director", "actor", "writer", "adapter", "producer", "composer", "editor")},
    **{role: role for role in ("presenter", "commentator", "guest")},
    "cast": "actor",
    "actress": "actor",
    "host": "presenter",
    "anchor": "presenter",
    "screenwriter": "writer",
    "scriptwriter": "writer",
    "author": "writer",
    "guest_star": "guest",
    "gueststar": "guest",
    "guest-star": "guest",
}
# Two far-apart defaults: dateutil fills missing fields from its default, so a loose string that parses
# differently under each lacked a date and is rejected rather than pinned to an arbitrary day.
_DEFAULTS = (datetime(2001, 2, 3), datetime(2012, 11, 10))
_PARSE_ERRORS = (ValueError, OverflowError, OSError, TypeError, IndexError)


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    """Resolve a zone named in a loose time: by offset, or UTC; other names are unknown (the source's tz).

    Handing dateutil this callable stops it from guessing with the machine's local zone or warning.
    """
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    return UTC if name and name.upper() in {"UTC", "GMT", "Z", "UT"} else None


def _aware(value: datetime, tz: tzinfo) -> datetime:
    """Put a naive time in `tz`, then return it in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _time(value: Any, tz: tzinfo) -> datetime | None:
    """Read an ISO 8601 (or looser, but dated) time or a Unix timestamp; None when it is not one."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC) if math.isfinite(value) else None
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        try:
            return _aware(dateparser.isoparse(text), tz)
        except _PARSE_ERRORS:
            pass
        first, second = (dateparser.parse(text, default=d, tzinfos=_zone) for d in _DEFAULTS)
        if first.date() != second.date():
            return None
        return _aware(first, tz)
    except _PARSE_ERRORS:
        return None


def _texts(value: Any) -> tuple[Text, ...]:
    """Return a string, a number, or a list of them as (text, "") pairs."""
    items = value if isinstance(value, list | tuple) else [value]
    return tuple((t, "") for t in dict.fromkeys(text_of(v) for v in items) if t)


def _credits(value: Any) -> tuple[Credit, ...]:
    """Return credits from a list of {type, name, role}."""
    if not isinstance(value, list | tuple):
        return ()
    out: list[Credit] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        name = text_of(item.get("name"))
        if not name:
            continue
        kind = text_of(item.get("type")).lower()
        out.append(Credit(role=_ROLES.get(kind, "actor"), name=name, character=text_of(item.get("role"))))
    return tuple(out)


def _programme(
    channel: str, item: Mapping[str, Any], where: str, tz: tzinfo, warnings: list[ParseWarning]
) -> Programme | None:
    """Turn one programme object into a Programme, or None (with a warning)."""
    title = text_of(item.get("title"))
    if not title:
        warnings.append(ParseWarning(where, 'skipped: no "title"'))
        return None
    start = _time(item.get("start"), tz)
    if start is None:
        warnings.append(ParseWarning(where, f"skipped: start {item.get('start')!r} is not a time"))
        return None
    stop = None
    if item.get("stop") not in (None, ""):
        stop = _time(item.get("stop"), tz)
        if stop is None:
            warnings.append(ParseWarning(where, f"stop {item.get('stop')!r} is not a time; ignored"))
        elif stop <= start:
            warnings.append(ParseWarning(where, "stop is not after start; ignored"))
            stop = None
    episode = text_of(item.get("episode"))
    return Programme(
        channel=channel,
        start=start,
        stop=stop,
        titles=((title, ""),),
        sub_titles=_texts(item.get("subtitle")),
        descs=_texts(item.get("description")),
        credits=_credits(item.get("credits")),
        date=text_of(item.get("date")),
        categories=_texts(item.get("genre")),
        icons=tuple(t for t, _ in _texts(item.get("image"))),
        episode_nums=(EpisodeNum("onscreen", episode),) if episode else (),
        catchup_id=text_of(item.get("stream")),
    )


def parse_jsontv(
    data: str | bytes | Mapping[str, Any], *, tz: tzinfo
) -> tuple[list[GuideChannel], list[Programme], list[ParseWarning]]:
    """Read a JSON-EPG v1 document; naive times are in `tz`, every time comes back in UTC."""
    warnings: list[ParseWarning] = []
    doc = load_json(data, "The JSONTV guide")
    check_version(doc, "epg", "JSONTV", warnings)
    epg = doc["epg"]
    if not isinstance(epg, Mapping):
        raise UserError(f'JSONTV "epg" must be an object of channels, not {type(epg).__name__}.')
    channels: list[GuideChannel] = []
    programmes: list[Programme] = []
    for key, items in epg.items():
        channel = str(key)
        channels.append(GuideChannel(id=channel, display_names=((channel, ""),)))
        if not isinstance(items, list | tuple):
            warnings.append(ParseWarning(f"channel {channel}", "programmes are not a list; ignored"))
            continue
        for index, item in enumerate(items):
            where = f"channel {channel} programme {index}"
            if not isinstance(item, Mapping):
                warnings.append(ParseWarning(where, "skipped: not an object"))
                continue
            programme = _programme(channel, item, where, tz, warnings)
            if programme is not None:
                programmes.append(programme)
    return channels, programmes, warnings
