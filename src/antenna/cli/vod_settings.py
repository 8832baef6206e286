"""`antenna vod source set|show`: every setting of a VOD source, changed one option at a time, or printed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from antenna.cli.context import open_container
from antenna.cli.output import print_json, print_line
from antenna.errors import UserError
from antenna.vod.settings import FILTER, NAMING

Opt = typer.Option  # keeps the long option list below readable
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NOT_SETTINGS = ("id", "name", "kind", "has_password", "default_clean_rules", "last_run_at", "last_status")
GROUPS = {
    "Source": ("location", "username", "root", "base_url", "url_mode", "schedule"),
    "Names": NAMING,
    "Filters": FILTER,
    "Export": ("rich_nfo", "provider_workers", "disk_workers", "threshold", "debug_log"),
}
INDENT = 21  # "  " + the longest key and a space: continuation lines of a value start here
EPISODE_HELP = (
    "Episode names from {series} {season} {episode} {title}; "
    'default "{series} - S{season:02d}E{episode:02d} - {title}".'
)


def source_set(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Name or id.")],
    xtream: Annotated[
        str | None, Opt(help="Xtream server URL (an M3U source becomes an Xtream one).")
    ] = None,
    username: Annotated[str | None, Opt(help="Xtream username.")] = None,
    password: Annotated[str | None, Opt(help="Xtream password.")] = None,
    m3u: Annotated[
        str | None, Opt(help="M3U playlist URL or file (an Xtream source becomes an M3U one).")
    ] = None,
    root: Annotated[
        str | None,
        Opt(help="Output folder; the next export writes a whole new tree there, the old one stays."),
    ] = None,
    base_url: Annotated[
        str | None, Opt(help="Antenna's address for players; \"\" = the server's own.")
    ] = None,
    url_mode: Annotated[str | None, Opt(help="redirect (Antenna's stable URLs) or provider.")] = None,
    schedule: Annotated[
        str | None, Opt(help='When to export by itself: "daily 03:00" or a crontab; "" = by hand only.')
    ] = None,
    id_style: Annotated[
        str | None, Opt(help="Folder ID tags: plex {tmdb-N}, jellyfin \\[tmdbid-N], none.")
    ] = None,
    movies_folder: Annotated[str | None, Opt(help="Folder of the movies (default Movies).")] = None,
    series_folder: Annotated[str | None, Opt(help="Folder of the series (default TV).")] = None,
    movie_template: Annotated[
        str | None, Opt(help='Movie names from {title} {year} {id}; default "{title} ({year}) {id}".')
    ] = None,
    series_template: Annotated[str | None, Opt(help="Series folder names from {title} {year} {id}.")] = None,
    episode_template: Annotated[str | None, Opt(help=EPISODE_HELP)] = None,
    clean_rule: Annotated[
        list[str] | None,
        Opt(help="A regular expression cut from the start of titles; repeatable; replaces the rules in use."),
    ] = None,
    default_clean_rules: Annotated[
        bool,
        Opt(
            "--default-clean-rules", help="Antenna's own clean rules (with --clean-rule: those, then yours)."
        ),
    ] = False,
    no_clean_rules: Annotated[bool, Opt("--no-clean-rules", help="Cut nothing from titles.")] = False,
    include_category: Annotated[
        list[str] | None, Opt(help='Only these categories (name or id); repeatable; "" takes all again.')
    ] = None,
    exclude_category: Annotated[
        list[str] | None, Opt(help='Never these categories (name or id); repeatable; "" excludes none.')
    ] = None,
    year_min: Annotated[str | None, Opt(help='Only titles from this year on; "" = no limit.')] = None,
    year_max: Annotated[str | None, Opt(help='Only titles up to this year; "" = no limit.')] = None,
    title_regex: Annotated[
        str | None, Opt(help='Only titles matching this regular expression (any case); "" = all.')
    ] = None,
    clear_filters: Annotated[
        bool, Opt("--clear-filters", help="Drop every filter first; the filter options given then apply.")
    ] = False,
    rich_nfo: Annotated[
        bool | None, Opt("--rich-nfo/--no-rich-nfo", help="Fetch each movie's details for its NFO.")
    ] = None,
    debug_log: Annotated[
        bool | None, Opt("--debug-log/--no-debug-log", help="Each run also writes a debug log.")
    ] = None,
    provider_workers: Annotated[int | None, Opt(help="Requests at once to the provider (1-64).")] = None,
    disk_workers: Annotated[str | None, Opt(help='Files written at once (1-64), or "auto".')] = None,
    threshold: Annotated[
        str | None, Opt(help='Largest share of the tree a cleanup may delete: "20%" or 0.2.')
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a source's settings: only the options given change (`vod source show` prints them all)."""
    given = {
        "xtream": xtream, "username": username, "password": password, "m3u": m3u, "root": root,
        "base_url": base_url, "url_mode": url_mode, "schedule": schedule, "id_style": id_style,
        "movies_folder": movies_folder, "series_folder": series_folder, "movie_template": movie_template,
        "series_template": series_template, "episode_template": episode_template,
        "include_categories": include_category, "exclude_categories": exclude_category,
        "year_min": year_min, "year_max": year_max, "title_regex": title_regex, "rich_nfo": rich_nfo,
        "debug_log": debug_log, "provider_workers": provider_workers, "disk_workers": disk_workers,
        "threshold": threshold,
    }  # fmt: skip
    changes: dict[str, Any] = {}
    if clear_filters:
        changes.update(dict.fromkeys(("include_categories", "exclude_categories", "year_min", "year_max")))
        changes["title_regex"] = ""
    changes.update({key: value for key, value in given.items() if value is not None})
    changes.update(_clean_rules(clean_rule, default=default_clean_rules, none=no_clean_rules))
    if not changes:
        raise UserError("Say what to change.", "See `antenna vod source set --help` for the settings.")
    container = open_container(ctx)
    try:
        before = container.vod.source(source).to_dict()
        after = container.vod.update_source(source, changes).to_dict()
    finally:
        container.close()
    if json_:
        print_json(after)
        return
    changed = [k for k in after if k not in NOT_SETTINGS and k != "last_message" and before[k] != after[k]]
    if password is not None:
        changed.append("password")
    if not changed:
        print_line(f"Nothing changed for VOD source {after['name']}.")
        return
    print_line(f"Changed VOD source {after['name']}:")
    for key in changed:
        shown = "set (not shown)" if key == "password" else _shown(key, after[key])
        print_line(f"  {key:<{INDENT - 3}} {shown}")
    for note in _notes(changed, before, after):
        print_line(note)


def _clean_rules(rules: list[str] | None, *, default: bool, none: bool) -> dict[str, Any]:
    """Return the clean-rules change the three options ask for ({} when none is given)."""
    if none and (rules or default):
        raise UserError("--no-clean-rules cannot go with --clean-rule or --default-clean-rules.")
    if none:
        return {"clean_rules": []}
    if default:
        from antenna.vod.models import DEFAULT_CLEAN_RULES  # only here: --help stays quick

        return {"clean_rules": [*DEFAULT_CLEAN_RULES, *rules] if rules else None}
    return {} if rules is None else {"clean_rules": rules}


def _notes(changed: list[str], before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Return what the change means for the next export."""
    notes = []
    keys = set(changed)
    if "root" in keys:
        notes.append(
            f"The next export writes a whole new tree into {after['root']}; {before['root']} keeps its files."
        )
    elif keys & set(NAMING):
        notes.append("The next export renames the files in place (media servers keep what they knew).")
    elif keys & {"url_mode", "base_url", "location", "username", "password"}:
        notes.append("The next export writes the .strm files again.")
    if keys & set(FILTER):
        notes.append(
            "Titles the filters now leave out stay on disk until a cleanup: "
            "`antenna vod export --cleanup preview` lists them, `--cleanup apply` removes them."
        )
    return notes


def _shown(key: str, value: Any) -> str:
    """Return a setting's value as people read it."""
    if key == "threshold":
        return f"{value * 100:g}%"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "auto (12 on a network share, 1 on a local disk)" if key == "disk_workers" else "no limit"
    if key == "clean_rules":
        return ("\n" + " " * INDENT).join(value) if value else "none: titles are used as they come"
    if key in ("include_categories", "exclude_categories"):
        return ", ".join(value) or ("all" if key == "include_categories" else "none")
    if key == "schedule":
        return value or "by hand"
    if key == "title_regex":
        return value or "all titles"
    return str(value)


def source_show(
    ctx: typer.Context, source: Annotated[str, typer.Argument(help="Name or id.")], json_: JsonOpt = False
) -> None:
    """Print every setting of a source (the password is only said to be set)."""
    container = open_container(ctx)
    try:
        data = container.vod.source(source).to_dict()
    finally:
        container.close()
    if json_:
        print_json(data)
        return
    print_line(f"VOD source {data['name']} (#{data['id']}, {data['kind']})")
    for title, keys in GROUPS.items():
        print_line(f"{title}:")
        for key in keys:
            value = _shown(key, data[key])
            if key == "username":
                if data["kind"] != "xtream":
                    continue
                value = f"{value} (password {'set' if data['has_password'] else 'not set'})"
            elif key == "clean_rules" and data["default_clean_rules"]:
                value = "Antenna's defaults:\n" + " " * INDENT + value
            print_line(f"  {key:<{INDENT - 3}} {value}")
    last = (
        f"{data['last_run_at']} {data['last_status']}: {data['last_message']}"
        if data["last_run_at"]
        else "never"
    )
    print_line(f"Last export: {last}")
