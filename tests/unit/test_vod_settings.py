"""VOD source settings: every bad value gets one clear error by its setting; good ones are stored as read."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.errors import UserError
from antenna.vod.models import DEFAULT_CLEAN_RULES, IdStyle, Naming, UrlMode
from antenna.vod.naming import episode_base, movie_base, series_folder
from antenna.vod.settings import KEYS, SettingError, check, update
from antenna.vod.sources import config_of, view_of


def row(**changes: Any) -> dict[str, Any]:
    """Return a stored Xtream source as the repository gives it."""
    values: dict[str, Any] = {
        "id": 3,
        "name": "prov",
        "kind": "xtream",
        "root": "/srv/vod",
        "server": "http://provider.example:8080",
        "username": "alice",
        "password": "s3cret-pw",
        "m3u": "",
        "base_url": "http://antenna:8765",
        "url_mode": "redirect",
        "options": {"naming": {"id_style": "plex"}},
        "schedule": "",
        "last_run_at": datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
        "last_status": "ok",
        "last_message": "prov: 3 movies",
    }
    values.update(changes)
    return values


def stored(changes: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the row after the change, as the repository would store it."""
    before = base or row()
    return {**before, **update(before, changes, default_base_url="http://default:8765").columns}


BAD: list[tuple[str, Any, str]] = [
    ("movie_template", "{title} ({year}) {season}", "uses {season}"),
    ("movie_template", "{title} {", "cannot be filled"),
    ("movie_template", "{title} ({year:04d})", "a title may have no year"),
    ("movie_template", "({year}) {id}", "needs {title}"),
    ("movie_template", "", "cannot be empty"),
    ("movie_template", "{title}/{year}", "holds a /"),
    ("movie_template", "{title.upper}", "uses {title.upper}"),
    ("movie_template", "{} {title}", "uses {}"),
    ("series_template", "{series}", "uses {series}"),
    ("episode_template", "{series} - {title}", "needs {season} and {episode}"),
    ("episode_template", "{series} S{season:02d}E{episode:02d} {year}", "uses {year}"),
    ("episode_template", "{series} S{season:q}E{episode}", "cannot be filled"),
    ("movies_folder", "", "needs a name"),
    ("movies_folder", "..", "needs a name"),
    ("movies_folder", ".", "needs a name"),
    ("movies_folder", "Films/New", "not one plain folder name"),
    ("series_folder", ".hidden", "not one plain folder name"),
    ("series_folder", "TV:", "not one plain folder name"),
    ("title_regex", "(unclosed", "not a valid regular expression"),
    ("clean_rules", ["^ok ", "[bad"], "clean rule 2 '[bad' is not a valid regular expression"),
    ("clean_rules", "^one rule", "must be a list"),
    ("include_categories", "Kids", "must be a list"),
    ("year_min", "nineteen", "not a whole number"),
    ("year_min", 12, "not a year"),
    ("year_max", True, "not a whole number"),
    ("provider_workers", 0, "out of range"),
    ("provider_workers", 65, "out of range"),
    ("disk_workers", "-3", "not a whole number"),
    ("disk_workers", 100, "Use 1 to 64"),
    ("threshold", 1.5, "not between 0 and 1"),
    ("threshold", "120%", "not between 0 and 1"),
    ("threshold", "20", "not between 0 and 1"),
    ("threshold", -0.1, "not between 0 and 1"),
    ("threshold", "a fifth", "not a number"),
    ("threshold", float("nan"), "not between 0 and 1"),
    ("schedule", "sometimes", "is not valid"),
    ("schedule", "daily 25:00", "daily"),
    ("url_mode", "proxy", "Unknown URL mode 'proxy'"),
    ("id_style", "imdb", "Unknown ID style 'imdb'"),
    ("xtream", "provider.example", "not an http(s) address"),
    ("base_url", "ftp://antenna", "not an http(s) address"),
    ("root", "  ", "needs an output folder"),
    ("rich_nfo", "maybe", "not yes or no"),
    ("debug_log", 2, "not yes or no"),
    ("username", 5, "must be text"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD)
def test_each_bad_value_gets_one_error_naming_its_setting(key: str, value: Any, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        update(row(), {key: value})
    assert caught.value.key == key
    assert message in str(caught.value)
    assert isinstance(caught.value, UserError)


GOOD: list[tuple[str, Any, Any]] = [
    ("movie_template", " {title} [{year}] ", "{title} [{year}]"),
    ("episode_template", "S{season:02d}E{episode:02d} {title}", "S{season:02d}E{episode:02d} {title}"),
    ("movies_folder", " Films ", "Films"),
    ("threshold", "20%", 0.2),
    ("threshold", " 0.35 ", 0.35),
    ("threshold", 1, 1.0),
    ("threshold", 0, 0.0),
    ("year_min", "1990", 1990),
    ("year_min", "", None),
    ("disk_workers", "auto", None),
    ("disk_workers", "12", 12),
    ("provider_workers", 64, 64),
    ("rich_nfo", "on", True),
    ("debug_log", "", False),
    ("debug_log", True, True),
    ("include_categories", [" Kids ", "kids", "", "4K UHD"], ("Kids", "4K UHD")),
    ("include_categories", [""], None),
    ("clean_rules", ["^x ", "  "], ("^x ",)),
    ("clean_rules", [], ()),
    ("clean_rules", None, None),
    ("url_mode", "PROVIDER", "provider"),
    ("schedule", " daily 03:00 ", "daily 03:00"),
    ("schedule", None, ""),
    ("base_url", "http://antenna:8765/", "http://antenna:8765"),
    ("title_regex", "(?i)^the ", "(?i)^the "),
]


@pytest.mark.parametrize(("key", "value", "expected"), GOOD)
def test_good_values_are_stored_as_read(key: str, value: Any, expected: Any) -> None:
    assert check(key, value) == expected


def test_unknown_settings_are_named_with_the_known_ones() -> None:
    with pytest.raises(SettingError, match="Unknown VOD settings: colour, size") as caught:
        update(row(), {"size": 3, "colour": "red", "threshold": 0.5})
    assert "movie_template" in caught.value.hint
    with pytest.raises(SettingError, match="Unknown VOD setting 'password_hash'"):
        check("password_hash", "x")


def test_naming_filters_and_options_land_where_config_of_reads_them() -> None:
    changes = {
        "id_style": "jellyfin",
        "movies_folder": "Films",
        "series_folder": "Shows",
        "movie_template": "{title} ({year}) {id}",
        "series_template": "{title} {id}",
        "episode_template": "{series} S{season:02d}E{episode:02d}",
        "clean_rules": [r"^\[\w+\]\s*"],
        "include_categories": ["Kids", "7"],
        "exclude_categories": ["Horror"],
        "year_min": 1980,
        "year_max": "2000",
        "title_regex": "^the",
        "rich_nfo": True,
        "provider_workers": 8,
        "disk_workers": 2,
        "threshold": "30%",
        "debug_log": True,
        "schedule": "daily 03:00",
        "url_mode": "provider",
    }
    after = stored(changes)
    json.dumps(after["options"])  # the JSON column takes it as it is
    config = config_of(after)
    assert config.naming == Naming(
        IdStyle.JELLYFIN, "Films", "Shows", "{title} ({year}) {id}", "{title} {id}",
        "{series} S{season:02d}E{episode:02d}", (r"^\[\w+\]\s*",),
    )  # fmt: skip
    assert config.filter.include_categories == ("Kids", "7")
    assert config.filter.exclude_categories == ("Horror",)
    assert (config.filter.year_min, config.filter.year_max, config.filter.title_regex) == (1980, 2000, "^the")
    assert (config.rich_nfo, config.provider_workers, config.disk_workers) == (True, 8, 2)
    assert (config.threshold, config.debug_log, config.schedule) == (0.3, True, "daily 03:00")
    assert config.url_mode is UrlMode.PROVIDER
    assert config.password == "s3cret-pw"  # untouched

    view = view_of(after)
    data = view.to_dict()
    json.dumps(data)
    assert "s3cret-pw" not in json.dumps(data)
    assert data["clean_rules"] == [r"^\[\w+\]\s*"]
    assert data["default_clean_rules"] is False
    assert data["include_categories"] == ["Kids", "7"]
    assert data["threshold"] == 0.3
    assert data["last_run_at"] == "2024-05-01T03:00:00+00:00"

    reset = {key: None for key in ("movies_folder", "series_folder", "movie_template", "clean_rules")}
    back = config_of(stored({**reset, "year_min": None, "include_categories": None}, after))
    assert back.naming.clean_rules == DEFAULT_CLEAN_RULES
    assert back.naming.movies_folder == "Movies"
    assert back.naming.movie_template == Naming().movie_template
    assert back.filter.year_min is None
    assert back.filter.include_categories == ()
    assert back.filter.year_max == 2000  # not in the change: kept


def test_config_of_reads_defaults_and_an_empty_rule_list() -> None:
    plain = config_of(row(options={}))
    assert plain.naming == Naming()
    assert view_of(row(options={})).default_clean_rules is True
    none = config_of(row(options={"naming": {"clean_rules": []}}))
    assert none.naming.clean_rules == ()


def test_settings_that_only_make_sense_together() -> None:
    base = stored({"year_max": 1999})
    with pytest.raises(SettingError, match="first year 2005 is after the last year 1999") as caught:
        update(base, {"year_min": 2005})
    assert caught.value.key == "year_min"
    with pytest.raises(SettingError) as caught:
        update(stored({"year_min": 2005, "year_max": None}), {"year_max": 1990})
    assert caught.value.key == "year_max"
    with pytest.raises(SettingError, match="cannot share the folder") as caught:
        update(row(), {"series_folder": "movies"})
    assert caught.value.key == "series_folder"


def test_origin_changes_switch_the_kind_or_are_refused() -> None:
    switched = update(row(), {"m3u": "/srv/vod.m3u"})
    assert switched.columns["kind"] == "m3u"
    assert switched.columns["server"] == ""
    assert {"m3u", "xtream"} <= switched.changed
    back = update(row(kind="m3u", server="", m3u="/srv/vod.m3u"), {"xtream": "http://new.example"})
    assert back.columns["kind"] == "xtream"
    assert back.columns["m3u"] == ""
    with pytest.raises(SettingError, match="either an Xtream server or an M3U playlist, not both"):
        update(row(), {"m3u": "/srv/vod.m3u", "xtream": "http://x.example"})
    with pytest.raises(SettingError, match="needs an Xtream server or an M3U playlist") as caught:
        update(row(), {"xtream": ""})
    assert caught.value.key == "xtream"
    with pytest.raises(SettingError, match="needs a username and a password") as caught:
        update(row(), {"password": ""})
    assert caught.value.key == "password"
    with pytest.raises(SettingError, match="needs a username and a password"):
        update(row(kind="m3u", server="", m3u="/a.m3u", username="", password=""), {"xtream": "http://x"})


def test_changed_says_what_differs_and_whether_series_are_written_again() -> None:
    same = update(row(), {"id_style": "plex", "threshold": 0.2, "schedule": ""})
    assert same.changed == frozenset()
    assert not same.rewrites
    assert "options" not in same.columns
    renamed = update(row(), {"movie_template": "{title} {id}"})
    assert renamed.changed == {"movie_template"}
    assert renamed.rewrites
    only_filter = update(row(), {"year_min": 2000, "threshold": 0.5, "schedule": "every 6h"})
    assert only_filter.changed == {"year_min", "threshold", "schedule"}
    assert not only_filter.rewrites
    assert update(row(), {"base_url": ""}, default_base_url="http://d:1/").columns["base_url"] == "http://d:1"
    assert update(row(), {"password": "new"}).rewrites  # provider URLs in the files hold it


def test_every_key_has_a_label_free_error_path() -> None:
    for key in KEYS:  # None is always a value: a default, or "" for a text column
        if key in ("root",):
            continue
        check(key, None)


TITLES = st.text(min_size=1, max_size=60)
YEARS = st.one_of(st.none(), st.integers(1900, 2030))


@given(st.text(max_size=40), TITLES, YEARS, st.sampled_from(["", "603"]), st.sampled_from(list(IdStyle)))
def test_a_movie_template_passing_the_check_names_any_movie(
    template: str, title: str, year: int | None, tmdb: str, style: IdStyle
) -> None:
    try:
        checked = check("movie_template", template)
    except SettingError:
        return
    naming = Naming(id_style=style, movie_template=checked, series_template=checked)
    assert movie_base(title, year, tmdb, naming)
    assert series_folder(title, year, tmdb, naming)


@given(
    st.text(alphabet="{}:0d ESseasonpiodtl-", max_size=40),
    TITLES,
    st.integers(0, 99),
    st.integers(0, 999),
    st.text(max_size=30),
)
def test_an_episode_template_passing_the_check_names_any_episode(
    template: str, series: str, season: int, episode: int, title: str
) -> None:
    try:
        checked = check("episode_template", template)
    except SettingError:
        return
    assert episode_base(series, season, episode, title, Naming(episode_template=checked))


@given(st.text(max_size=20))
def test_a_regex_passing_the_check_compiles(text: str) -> None:
    try:
        checked = check("title_regex", text)
    except SettingError:
        return
    re.compile(checked, re.IGNORECASE)


@given(st.one_of(st.floats(allow_nan=True), st.text(max_size=8), st.integers(-5, 5)))
def test_a_threshold_passing_the_check_is_a_share(value: Any) -> None:
    try:
        share = check("threshold", value)
    except SettingError:
        return
    assert 0.0 <= share <= 1.0
