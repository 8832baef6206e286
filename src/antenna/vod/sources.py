"""VOD sources as stored and as shown: the export's config of a row, and a user's view of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from antenna.db.repos.plex import Columns
from antenna.redact import redact
from antenna.vod.models import IdStyle, Naming, UrlMode, VodFilter, VodSourceConfig


@dataclass(frozen=True, slots=True)
class VodSourceView:
    """A source as shown to users: the password only said to be set."""

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
    last_run_at: datetime | None
    last_status: str
    last_message: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["last_run_at"] = self.last_run_at.isoformat() if self.last_run_at else None
        return data


def config_of(row: Columns) -> VodSourceConfig:
    """Return a stored source as the export sees it."""
    options = row["options"] or {}
    naming = options.get("naming") or {}
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
        naming=Naming(id_style=IdStyle(naming.get("id_style", "plex"))),
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
    )


def view_of(row: Columns) -> VodSourceView:
    location = row["server"] if row["kind"] == "xtream" else row["m3u"]
    return VodSourceView(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        location=redact(location, [row["password"], row["username"]]),
        username=row["username"],
        has_password=bool(row["password"]),
        root=row["root"],
        base_url=row["base_url"],
        url_mode=row["url_mode"],
        id_style=(row["options"] or {}).get("naming", {}).get("id_style", "plex"),
        schedule=row["schedule"],
        last_run_at=row["last_run_at"],
        last_status=row["last_status"],
        last_message=row["last_message"],
    )
