"""VOD source settings: check a partial change of a stored source and return what to store.

Pure: values in, values out, no I/O. Each value is checked by setting_values.py; here they are put together:
which column or part of the JSON options each lives in, settings that only make sense together, and what
changed. None for a setting means "back to its default".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from antenna.vod.models import VodSourceConfig
from antenna.vod.setting_values import SettingError, check
from antenna.vod.sources import config_of

__all__ = ["KEYS", "REWRITES", "SettingError", "SettingsUpdate", "check", "update", "values_of"]

COLUMNS: Mapping[str, str] = {
    "xtream": "server",
    "username": "username",
    "password": "password",
    "m3u": "m3u",
    "root": "root",
    "base_url": "base_url",
    "url_mode": "url_mode",
    "schedule": "schedule",
}
NAMING = (
    "id_style",
    "movies_folder",
    "series_folder",
    "movie_template",
    "series_template",
    "episode_template",
    "clean_rules",
)
FILTER = ("include_categories", "exclude_categories", "year_min", "year_max", "title_regex")
OPTIONS = ("rich_nfo", "provider_workers", "disk_workers", "threshold", "debug_log")
KEYS = (*COLUMNS, *NAMING, *FILTER, *OPTIONS)
# Settings that change the names or contents of a series' files: series the provider says are unchanged
# must be written again at the next export, or their files would keep the old names.
REWRITES = frozenset({*NAMING, "xtream", "username", "password", "m3u", "base_url", "url_mode"})


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    """A checked change: the columns to store (`options` whole; none if nothing changed) and what changed."""

    columns: dict[str, Any]
    changed: frozenset[str]
    config: VodSourceConfig  # the source as the next export sees it

    @property
    def rewrites(self) -> bool:
        """Return True when the next export must write every series again (names or contents change)."""
        return bool(self.changed & REWRITES)


def values_of(config: VodSourceConfig) -> dict[str, Any]:
    """Return every setting of a source by its key (the password too: for comparing, never for showing)."""
    naming, rules = config.naming, config.filter
    return {
        "xtream": config.server,
        "username": config.username,
        "password": config.password,
        "m3u": config.m3u,
        "root": config.root,
        "base_url": config.base_url,
        "url_mode": config.url_mode.value,
        "schedule": config.schedule,
        "id_style": naming.id_style.value,
        "movies_folder": naming.movies_folder,
        "series_folder": naming.series_folder,
        "movie_template": naming.movie_template,
        "series_template": naming.series_template,
        "episode_template": naming.episode_template,
        "clean_rules": naming.clean_rules,
        "include_categories": rules.include_categories,
        "exclude_categories": rules.exclude_categories,
        "year_min": rules.year_min,
        "year_max": rules.year_max,
        "title_regex": rules.title_regex,
        "rich_nfo": config.rich_nfo,
        "provider_workers": config.provider_workers,
        "disk_workers": config.disk_workers,
        "threshold": config.threshold,
        "debug_log": config.debug_log,
    }


def update(
    row: Mapping[str, Any], changes: Mapping[str, Any], *, default_base_url: str = ""
) -> SettingsUpdate:
    """Check a partial change of a stored source (a row's columns) and return what to store."""
    unknown = sorted(set(changes) - set(KEYS))
    if unknown:
        raise SettingError(
            f"Unknown VOD setting{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            f"Settings: {', '.join(KEYS)}.",
            key=unknown[0],
        )
    checked = {key: check(key, value) for key, value in changes.items()}
    options = copy.deepcopy(dict(row["options"] or {}))
    groups = {"naming": dict(options.get("naming") or {}), "filter": dict(options.get("filter") or {})}
    columns: dict[str, Any] = {}
    for key, value in checked.items():
        if key in COLUMNS:
            columns[COLUMNS[key]] = value
            continue
        target = groups["naming"] if key in NAMING else groups["filter"] if key in FILTER else options
        if value is None:
            target.pop(key, None)
        else:
            target[key] = list(value) if isinstance(value, tuple) else value
    for name, group in groups.items():
        if group:
            options[name] = group
        else:
            options.pop(name, None)
    # Setting one origin alone switches the source to it: a playlist given to an Xtream source replaces it.
    if columns.get("m3u") and "xtream" not in changes:
        columns["server"] = ""
    if columns.get("server") and "m3u" not in changes:
        columns["m3u"] = ""
    if columns.get("base_url") == "":
        columns["base_url"] = default_base_url.rstrip("/")
    merged: dict[str, Any] = {**row, **columns, "options": options}
    merged["kind"] = _origin(merged, changes)
    if merged["kind"] != row["kind"]:
        columns["kind"] = merged["kind"]
    if options != (row["options"] or {}):
        columns["options"] = options
    config = config_of(merged)
    _check_together(config, changes)
    before, after = values_of(config_of(dict(row))), values_of(config)
    changed = frozenset(key for key in KEYS if before[key] != after[key])
    return SettingsUpdate(columns if changed else {}, changed, config)


def _origin(merged: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
    """Return the source's kind after the change, or raise when its origin is not one whole account."""
    server, m3u = merged["server"], merged["m3u"]
    if server and m3u:
        raise SettingError(
            "Give either an Xtream server or an M3U playlist, not both.",
            "Set one of them; the other is cleared.",
            key="m3u" if "m3u" in changes else "xtream",
        )
    if not server and not m3u:
        raise SettingError(
            "A VOD source needs an Xtream server or an M3U playlist.",
            "Keep the one it has or give the other.",
            key="m3u" if "m3u" in changes else "xtream",
        )
    if server and not (merged["username"] and merged["password"]):
        raise SettingError(
            "An Xtream source needs a username and a password.",
            "Give the ones your provider sent.",
            key="password" if "password" in changes else "username",
        )
    return "xtream" if server else "m3u"


def _check_together(config: VodSourceConfig, changes: Mapping[str, Any]) -> None:
    """Raise for settings that are fine alone and wrong together."""
    rules, naming = config.filter, config.naming
    if rules.year_min is not None and rules.year_max is not None and rules.year_min > rules.year_max:
        raise SettingError(
            f"The first year {rules.year_min} is after the last year {rules.year_max}.",
            "Swap them, or clear one of them.",
            key="year_max" if "year_max" in changes and "year_min" not in changes else "year_min",
        )
    if naming.movies_folder.casefold() == naming.series_folder.casefold():
        raise SettingError(
            f"Movies and series cannot share the folder {naming.movies_folder!r}.",
            "Media servers want a library folder for each, such as Movies and TV.",
            key="series_folder" if "series_folder" in changes else "movies_folder",
        )
