"""VOD source settings one at a time: each value read as forms, scripts and command lines send it, checked.

Pure: values in, values out, no I/O. A bad value raises one SettingError (a UserError) that names the setting
and says what to write instead; None means "back to its default".
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from antenna.errors import UserError
from antenna.fs.names import sanitize_name
from antenna.jobs.schedule import parse_schedule
from antenna.vod.models import IdStyle, Naming, UrlMode
from antenna.vod.naming import fill

MAX_WORKERS = 64
LABELS: Mapping[str, str] = {
    "xtream": "Xtream server",
    "m3u": "M3U playlist",
    "root": "output folder",
    "base_url": "address for players",
    "url_mode": "URL mode",
    "id_style": "ID style",
    "movies_folder": "movies folder",
    "series_folder": "series folder",
    "movie_template": "movie template",
    "series_template": "series template",
    "episode_template": "episode template",
    "include_categories": "included categories",
    "exclude_categories": "excluded categories",
    "year_min": "first year",
    "year_max": "last year",
    "title_regex": "title filter",
    "rich_nfo": "rich NFO setting",
    "provider_workers": "provider workers",
    "disk_workers": "disk workers",
    "threshold": "cleanup threshold",
    "debug_log": "debug log setting",
}
_DEFAULT = Naming()
# The values each template is filled with by naming.py, and a title whose year, id and episode title are
# unknown: a template must work for both.
_SAMPLES: Mapping[str, tuple[dict[str, object], ...]] = {
    "movie_template": (
        {"title": "Title", "year": 2001, "id": "{tmdb-603}"},
        {"title": "Title", "year": "", "id": ""},
    ),
    "series_template": (
        {"title": "Show", "year": 2005, "id": "[tmdbid-1399]"},
        {"title": "Show", "year": "", "id": ""},
    ),
    "episode_template": (
        {"series": "Show", "season": 1, "episode": 2, "title": "Pilot"},
        {"series": "Show", "season": 0, "episode": 1, "title": ""},
    ),
}
# Fields a template cannot do without: a folder named only "(2001)" says nothing; media servers find an
# episode by its season and episode numbers.
_NEEDED: Mapping[str, tuple[str, ...]] = {
    "movie_template": ("title",),
    "series_template": ("title",),
    "episode_template": ("season", "episode"),
}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0", "")


class SettingError(UserError):
    """A bad value of one setting; `key` names it, so a form shows the message by its field."""

    def __init__(self, message: str, hint: str = "", *, key: str = "") -> None:
        super().__init__(message, hint)
        self.key = key


def check(key: str, value: Any) -> Any:
    """Return one setting's value as stored (None: its default), or raise a SettingError naming it."""
    checker = _CHECKS.get(key)
    if checker is None:
        raise SettingError(f"Unknown VOD setting {key!r}.", f"Settings: {', '.join(_CHECKS)}.", key=key)
    return checker(key, value)


# -- one setting -------------------------------------------------------------------------------------------


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(f"The {_label(key)} must be text, not {value!r}.", key=key)
    return value


def _plain(key: str, value: Any) -> str:
    return "" if value is None else _text(key, value).strip()


def _exact(key: str, value: Any) -> str:
    return "" if value is None else _text(key, value)


def _address(key: str, value: Any) -> str:
    text = _plain(key, value).rstrip("/") if key == "base_url" else _plain(key, value)
    if text and not text.startswith(("http://", "https://")):
        raise SettingError(
            f"The {_label(key)} {text!r} is not an http(s) address.",
            "Write it like http://192.168.1.10:8080.",
            key=key,
        )
    return text


def _root(key: str, value: Any) -> str:
    text = _plain(key, value)
    if not text:
        raise SettingError(
            "A VOD source needs an output folder.", "Give a folder such as /srv/media/vod.", key=key
        )
    return text


def _choice(options: Sequence[str], hint: str) -> Callable[[str, Any], str | None]:
    def checker(key: str, value: Any) -> str | None:
        if value is None:
            return None
        text = _text(key, value).strip().lower()
        if text not in options:
            raise SettingError(f"Unknown {_label(key)} {value!r}.", hint, key=key)
        return text

    return checker


_url_mode = _choice(tuple(UrlMode), "URL modes: redirect (Antenna's stable address) or provider.")
_id_style = _choice(tuple(IdStyle), "ID styles: plex {tmdb-N}, jellyfin [tmdbid-N] or none.")


def _url_mode_or_default(key: str, value: Any) -> str:
    return _url_mode(key, value) or UrlMode.REDIRECT.value


def _schedule(key: str, value: Any) -> str:
    text = _plain(key, value)
    if text:
        try:
            parse_schedule(text, "UTC")
        except UserError as exc:
            raise SettingError(exc.message, exc.hint, key=key) from exc
    return text


def _folder(key: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _text(key, value).strip()
    default = getattr(_DEFAULT, key)
    if not text or text in (".", ".."):
        raise SettingError(f"The {_label(key)} needs a name.", f"Antenna's default is {default!r}.", key=key)
    if sanitize_name(text) != text:
        raise SettingError(
            f"The {_label(key)} {text!r} is not one plain folder name.",
            f'Leave out / \\ : * ? " < > | and leading dots, as in {default!r}.',
            key=key,
        )
    return text


def _template(key: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _text(key, value).strip()
    label, default = _label(key), getattr(_DEFAULT, key)
    allowed = tuple(_SAMPLES[key][0])
    hint = f"It may use {', '.join('{' + f + '}' for f in allowed)}, as in {default!r}."
    if not text:
        raise SettingError(f"The {label} cannot be empty.", hint, key=key)
    if "/" in text or "\\" in text:
        raise SettingError(
            f"The {label} {text!r} holds a / or \\.", "A template names one folder or file.", key=key
        )
    try:
        fields = {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise SettingError(f"The {label} {text!r} cannot be filled: {exc}.", hint, key=key) from exc
    for name in sorted(fields):
        if name not in allowed:
            shown = "{" + name + "}"
            raise SettingError(f"The {label} {text!r} uses {shown}, which it is not given.", hint, key=key)
    missing = [name for name in _NEEDED[key] if name not in fields]
    if missing:
        needed = " and ".join("{" + name + "}" for name in missing)
        raise SettingError(f"The {label} {text!r} needs {needed}.", hint, key=key)
    for sample in _SAMPLES[key]:
        try:
            fill(text, **sample)
        except ValueError as exc:
            reason = str(exc).rsplit("cannot be filled: ", 1)[-1]
            unknown = " (a title may have no year, id or episode title)" if "" in sample.values() else ""
            raise SettingError(
                f"The {label} {text!r} cannot be filled{unknown}: {reason}.", hint, key=key
            ) from None
    return text


def _regex(key: str, text: str, what: str) -> None:
    try:
        re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise SettingError(
            f"The {what} {text!r} is not a valid regular expression: {exc}.",
            "Write a Python regular expression, e.g. ^(?:EN|FR): for a tag at the start.",
            key=key,
        ) from exc


def _title_regex(key: str, value: Any) -> str:
    text = _exact(key, value)  # as typed: a space in a regular expression means a space
    if text:
        _regex(key, text, _label(key))
    return text


def _list(key: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise SettingError(f"The {_label(key)} must be a list of texts, not {value!r}.", key=key)
    return [_text(key, item) for item in value]


def _clean_rules(key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    rules = tuple(rule for rule in _list(key, value) if rule.strip())
    for number, rule in enumerate(rules, 1):
        _regex(key, rule, f"clean rule {number}")
    return rules


def _categories(key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    seen: dict[str, str] = {}
    for item in _list(key, value):
        name = item.strip()
        if name:
            seen.setdefault(name.casefold(), name)
    return tuple(seen.values()) or None


def _number(key: str, value: Any) -> int | None:
    """Return an int from an int or its digits; None for None or ""."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise SettingError(f"The {_label(key)} {value!r} is not a whole number.", key=key)


def _year(key: str, value: Any) -> int | None:
    year = _number(key, value)
    if year is not None and not 1000 <= year <= 9999:
        raise SettingError(
            f"The {_label(key)} {year} is not a year.",
            "Write a year such as 1990, or leave it empty.",
            key=key,
        )
    return year


def _workers(key: str, value: Any) -> int | None:
    if key == "disk_workers" and isinstance(value, str) and value.strip().lower() == "auto":
        return None
    workers = _number(key, value)
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        auto = " (or empty: 12 on a network share, 1 on a local disk)" if key == "disk_workers" else ""
        raise SettingError(
            f"The {_label(key)} {workers} is out of range.", f"Use 1 to {MAX_WORKERS}{auto}.", key=key
        )
    return workers


def _threshold(key: str, value: Any) -> float | None:
    hint = "Write a share such as 0.2 or 20%: a cleanup that would remove more of the tree is refused."
    if value is None:
        return None
    share: float
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        share = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise SettingError(f"The {_label(key)} {value!r} is not a number.", hint, key=key) from None
    else:
        raise SettingError(f"The {_label(key)} {value!r} is not a number.", hint, key=key)
    if not 0 <= share <= 1:  # also false for NaN
        raise SettingError(
            f"The {_label(key)} {value!r} is not between 0 and 1 (0% and 100%).", hint, key=key
        )
    return share


def _flag(key: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise SettingError(f"The {_label(key)} {value!r} is not yes or no.", "Use true or false.", key=key)


_CHECKS: Mapping[str, Callable[[str, Any], Any]] = {
    "xtream": _address,
    "username": _plain,
    "password": _exact,
    "m3u": _plain,
    "root": _root,
    "base_url": _address,
    "url_mode": _url_mode_or_default,
    "schedule": _schedule,
    "id_style": _id_style,
    "movies_folder": _folder,
    "series_folder": _folder,
    "movie_template": _template,
    "series_template": _template,
    "episode_template": _template,
    "clean_rules": _clean_rules,
    "include_categories": _categories,
    "exclude_categories": _categories,
    "year_min": _year,
    "year_max": _year,
    "title_regex": _title_regex,
    "rich_nfo": _flag,
    "provider_workers": _workers,
    "disk_workers": _workers,
    "threshold": _threshold,
    "debug_log": _flag,
}
