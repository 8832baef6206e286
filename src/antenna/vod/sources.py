"""VOD sources as stored and as shown: the export's config of a row, and a user's view of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from antenna.db.repos.plex import Columns
from antenna.redact import redact
from antenna.vod.models import DEFAULT_CLEAN_RULES, IdStyle, Naming, UrlMode, VodFilter, VodSourceConfig


@dataclass(frozen=True, slots=True)
class VodSourceView:
    """A source as shown to users, with every setting: the password only said to be set."""

    id: int
    name: str
    kind: str
    location: str
    username: str
    has_password: bool
    root: str
    base_url: str
    url_mode: str
    id_style: str
    schedule: str
    movies_folder: str
    series_folder: str
    movie_template: str
    series_template: str
    episode_template: str
    clean_rules: tuple[str, ...]
    default_clean_rules: bool  # the rules are Antenna's own (DEFAULT_CLEAN_RULES)
    include_categories: tuple[str, ...]
    exclude_categories: tuple[str, ...]
    year_min: int | None
    year_max: int | None
    title_regex: str
    rich_nfo: bool
    provider_workers: int
    disk_workers: int | None
    threshold: float
    debug_log: bool
    last_run_at: datetime | None
    last_status: str
    last_message: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["last_run_at"] = self.last_run_at.isoformat() if self.last_run_at else None
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


def naming_of(options: dict[str, Any]) -> Naming:
    """Return the naming stored in a source's options (Naming's defaults for what is not stored)."""
    stored = options.get("naming") or {}
    default = Naming()
    rules = stored.get("clean_rules")
    return Naming(
        id_style=IdStyle(stored.get("id_style") or default.id_style),
        movies_folder=stored.get("movies_folder") or default.movies_folder,
        series_folder=stored.get("series_folder") or default.series_folder,
        movie_template=stored.get("movie_template") or default.movie_template,
        series_template=stored.get("series_template") or default.series_template,
        episode_template=stored.get("episode_template") or default.episode_template,
        # An empty list is a choice (no cleaning); only a missing one means the defaults.
        clean_rules=DEFAULT_CLEAN_RULES if rules is None else tuple(rules),
    )


def config_of(row: Columns) -> VodSourceConfig:
    """Return a stored source as the export sees it."""
    options = row["options"] or {}
    rules = options.get("filter") or {}
    return VodSourceConfig(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        root=row["root"],
        server=row["server"],
        username=row["username"],
        password=row["password"],
        m3u=row["m3u"],
        base_url=row["base_url"],
        url_mode=UrlMode(row["url_mode"]),
        naming=naming_of(options),
        filter=VodFilter(
            include_categories=tuple(rules.get("include_categories", ())),
            exclude_categories=tuple(rules.get("exclude_categories", ())),
            year_min=rules.get("year_min"),
            year_max=rules.get("year_max"),
            title_regex=rules.get("title_regex", ""),
        ),
        rich_nfo=bool(options.get("rich_nfo", False)),
        provider_workers=int(options.get("provider_workers", 4)),
        disk_workers=int(options["disk_workers"]) if options.get("disk_workers") else None,
        threshold=float(options.get("threshold", 0.2)),
        schedule=row["schedule"],
        debug_log=bool(options.get("debug_log", False)),
    )


def view_of(row: Columns) -> VodSourceView:
    """Return a stored source as users see it (credentials in its location masked)."""
    config = config_of(row)
    naming, rules = config.naming, config.filter
    location = config.server if config.kind == "xtream" else config.m3u
    return VodSourceView(
        id=config.id,
        name=config.name,
        kind=config.kind,
        location=redact(location, [config.password, config.username]),
        username=config.username,
        has_password=bool(config.password),
        root=config.root,
        base_url=config.base_url,
        url_mode=config.url_mode.value,
        id_style=naming.id_style.value,
        schedule=config.schedule,
        movies_folder=naming.movies_folder,
        series_folder=naming.series_folder,
        movie_template=naming.movie_template,
        series_template=naming.series_template,
        episode_template=naming.episode_template,
        clean_rules=naming.clean_rules,
        default_clean_rules=naming.clean_rules == DEFAULT_CLEAN_RULES,
        include_categories=rules.include_categories,
        exclude_categories=rules.exclude_categories,
        year_min=rules.year_min,
        year_max=rules.year_max,
        title_regex=rules.title_regex,
        rich_nfo=config.rich_nfo,
        provider_workers=config.provider_workers,
        disk_workers=config.disk_workers,
        threshold=config.threshold,
        debug_log=config.debug_log,
        last_run_at=row["last_run_at"],
        last_status=row["last_status"],
        last_message=row["last_message"],
    )
