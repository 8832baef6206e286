"""Turning database column dicts into podcast domain types and options into JSON and back."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from antenna.errors import UserError
from antenna.podcasts.models import (
    Episode,
    EpisodeState,
    FeedStatus,
    KeepOrder,
    Podcast,
    PodcastOptions,
    QuotaMode,
)

_ENUMS: dict[str, type[KeepOrder] | type[QuotaMode]] = {"order": KeepOrder, "quota_mode": QuotaMode}
OPTION_NAMES = tuple(f.name for f in dataclasses.fields(PodcastOptions))
_EPISODE_FIELDS = tuple(f.name for f in dataclasses.fields(Episode))


def options_from_json(data: Mapping[str, Any], defaults: PodcastOptions) -> PodcastOptions:
    """Read stored options; missing keys take the defaults, unknown keys are ignored."""
    values: dict[str, Any] = {}
    for name in OPTION_NAMES:
        if name in data:
            values[name] = _ENUMS[name](data[name]) if name in _ENUMS else data[name]
    return dataclasses.replace(defaults, **values)


def options_to_json(options: PodcastOptions) -> dict[str, Any]:
    """Return options as JSON-ready values."""
    return {name: _plain(getattr(options, name)) for name in OPTION_NAMES}


def change_options(options: PodcastOptions, changes: Mapping[str, Any]) -> PodcastOptions:
    """Apply user changes (strings from a form or CLI are converted); UserError names a bad option."""
    values: dict[str, Any] = {}
    for name, raw in changes.items():
        if name not in OPTION_NAMES:
            raise UserError(f"Unknown podcast option '{name}'.", f"Known options: {', '.join(OPTION_NAMES)}.")
        values[name] = _convert(name, raw, getattr(options, name))
    merged = dataclasses.replace(options, **values)
    if merged.keep is not None and merged.keep < 1:
        merged = dataclasses.replace(merged, keep=None)
    if merged.expire_days is not None and merged.expire_days < 1:
        merged = dataclasses.replace(merged, expire_days=None)
    return merged


def _convert(name: str, raw: Any, current: Any) -> Any:
    if name in _ENUMS:
        try:
            return _ENUMS[name](str(raw).lower())
        except ValueError:
            allowed = ", ".join(e.value for e in _ENUMS[name])
            raise UserError(f"Option '{name}' cannot be '{raw}'.", f"Use one of: {allowed}.") from None
    if isinstance(current, bool) or name in ("delete_watched", "backfill", "audio_to_video", "kodi_safe"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise UserError(f"Option '{name}' must be yes or no, not '{raw}'.")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "all", "none", "never")):
        return None if name in ("keep", "expire_days") else 0
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise UserError(f"Option '{name}' must be a whole number, not '{raw}'.") from None
    if number < 0:
        raise UserError(f"Option '{name}' cannot be negative.")
    return number


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def podcast_from(row: Mapping[str, Any], defaults: PodcastOptions) -> Podcast:
    """Build a Podcast from its row."""
    return Podcast(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        folder=row["folder"],
        options=options_from_json(row.get("options") or {}, defaults),
        author=row.get("author", ""),
        description=row.get("description", ""),
        image_url=row.get("image_url", ""),
        identity=row.get("identity", ""),
        paused=bool(row.get("paused")),
        status=FeedStatus(row.get("status") or "ok"),
        status_message=row.get("status_message", ""),
        etag=row.get("etag", ""),
        last_modified=row.get("last_modified", ""),
        checked_at=row.get("checked_at"),
    )


def episode_from(row: Mapping[str, Any]) -> Episode:
    """Build an Episode from its row."""
    values = {name: row[name] for name in _EPISODE_FIELDS if name in row}
    values["state"] = EpisodeState(row["state"])
    if values["state"] == EpisodeState.FAILED and row.get("updated_at") is not None:
        values["failed_at"] = row["updated_at"]  # a failed row is last touched when it failed
    for text in ("description", "mime_type", "image_url", "relpath", "reason"):
        values[text] = values.get(text) or ""
    return Episode(**values)
