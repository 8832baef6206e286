"""IPTV use cases: sources, refresh (fetch, merge, write outputs atomically), channels, overrides, reports."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from antenna.db.repos.iptv import IptvRepository
from antenna.db.repos.plex import Columns
from antenna.errors import AntennaError, UserError
from antenna.fs import atomic_writer, ensure_dir, remove_file
from antenna.iptv import engine, guide_write, plan
from antenna.iptv.fetch import fetch_source, guide_path
from antenna.iptv.models import (
    JOB_KIND,
    ChannelFilter,
    MergeReport,
    Override,
    SourceConfig,
    SourceKind,
    SourceReport,
    SourceRole,
)
from antenna.jobs.models import JobContext
from antenna.jobs.schedule import parse_schedule
from antenna.jobs.schedule_service import ScheduleService
from antenna.redact import redact

OVERRIDE_FIELDS = ("name", "number", "group_name", "logo", "guide_id", "enabled")


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source as shown to users: the password only said to be set, URLs redacted."""

    id: int
    name: str
    kind: str
    role: str
    location: str
    username: str
    has_password: bool
    timezone: str
    schedule: str
    timeout_seconds: int
    priority: int
    enabled: bool
    icon: str
    last_refresh_at: datetime | None
    last_status: str
    last_error: str
    last_seconds: float
    last_format: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["last_refresh_at"] = self.last_refresh_at.isoformat() if self.last_refresh_at else None
        return data


def _view(row: Columns) -> SourceView:
    return SourceView(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        role=row["role"],
        location=redact(row["location"], [row["password"]]),
        username=row["username"],
        has_password=bool(row["password"]),
        timezone=row["timezone"],
        schedule=row["schedule"],
        timeout_seconds=row["timeout_seconds"],
        priority=row["priority"],
        enabled=row["enabled"],
        icon=row["icon"],
        last_refresh_at=row["last_refresh_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        last_seconds=row["last_seconds"],
        last_format=row["last_format"],
    )


def _config(row: Columns) -> SourceConfig:
    filters = row["filters"] or {}
    return SourceConfig(
        id=row["id"],
        name=row["name"],
        role=SourceRole(row["role"]),
        icon=row["icon"],
        priority=row["priority"],
        base_url=row["location"] if row["kind"] in (SourceKind.URL, SourceKind.XTREAM) else "",
        filter=ChannelFilter(
            include_groups=tuple(filters.get("include_groups", ())),
            exclude_groups=tuple(filters.get("exclude_groups", ())),
            include_regex=filters.get("include_regex", ""),
            exclude_regex=filters.get("exclude_regex", ""),
        ),
        group_starts=tuple((g, int(n)) for g, n in (filters.get("group_starts") or {}).items()),
        language=row["language"],
    )


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"Unknown timezone {name!r}.", "Use an IANA name such as Europe/Berlin.") from exc


def check_location(kind: SourceKind, location: str) -> str:
    """Return the location if it suits the kind, else raise a UserError saying what is expected."""
    location = location.strip()
    if kind in (SourceKind.URL, SourceKind.XTREAM):
        parts = urlsplit(location if "://" in location or kind is SourceKind.URL else f"http://{location}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(
                f"{redact(location)!r} is not an http(s) URL.", "Example: https://example.org/list.m3u"
            )
    elif kind is SourceKind.COMMAND:
        try:
            if not shlex.split(location):
                raise ValueError("empty")
        except ValueError as exc:
            raise UserError(f"The command {location!r} cannot be split into words ({exc}).") from exc
    elif not location:
        raise UserError("A file source needs a path.")
    return location


class IptvService:
    """Every IPTV action the shells offer; refresh runs as the `iptv_refresh` job."""

    def __init__(
        self,
        repo: IptvRepository,
        *,
        data_dir: Path,
        base_url: str,
        clock: Callable[[], datetime],
        days: int = 7,
    ) -> None:
        self.repo = repo
        self.root = data_dir / "iptv"
        self._base_url = base_url
        self._clock = clock
        self._days = days
        self.schedules: ScheduleService | None = None  # set by the container once it exists

    def schedule_name(self, source_id: int) -> str:
        """Return the name of a source's refresh schedule."""
        return f"iptv-source-{source_id}"

    def _sync_schedule(self, row: Columns) -> None:
        if self.schedules is None:
            return
        self.schedules.set(
            self.schedule_name(row["id"]),
            row["schedule"],
            job_kind=JOB_KIND,
            timezone=row["timezone"] if row["timezone"] != "UTC" else "",
            enabled=bool(row["enabled"]),
            params={"sources": [row["id"]]},
        )

    # paths ---------------------------------------------------------------------------------------
    @property
    def playlist_path(self) -> Path:
        """Return where the Kodi playlist is written."""
        return self.root / "playlist.m3u"

    @property
    def guide_path(self) -> Path:
        """Return where the Plex XMLTV is written."""
        return self.root / "xmltv.xml"

    @property
    def guide_gz_path(self) -> Path:
        """Return where the gzipped XMLTV is written."""
        return self.root / "xmltv.xml.gz"

    def _data_path(self, source_id: int) -> Path:
        return self.root / "sources" / f"{source_id}.data"

    # sources -------------------------------------------------------------------------------------
    def sources(self) -> list[SourceView]:
        """Return every source."""
        return [_view(row) for row in self.repo.sources()]

    def source(self, ref: str | int) -> SourceView:
        """Return one source by id or name."""
        return _view(self.repo.source(ref))

    def add_source(
        self,
        name: str,
        kind: str,
        location: str,
        *,
        role: str = "both",
        username: str = "",
        password: str = "",
        timezone: str = "UTC",
        schedule: str = "every 6h",
        timeout_seconds: int = 60,
        priority: int = 100,
        icon: str = "",
        user_agent: str = "",
        filters: Mapping[str, Any] | None = None,
    ) -> SourceView:
        """Check and store a source."""
        if not name.strip():
            raise UserError("A source needs a name.")
        try:
            source_kind, source_role = SourceKind(kind), SourceRole(role)
        except ValueError as exc:
            raise UserError(
                f"{exc}.", "Kinds: url, file, xtream, command. Roles: channels, guide, both."
            ) from exc
        if source_kind is SourceKind.XTREAM and not (username and password):
            raise UserError("An Xtream source needs --username and --password.")
        _tz(timezone)
        parse_schedule(schedule, timezone)
        if not 1 <= timeout_seconds <= 3600:
            raise UserError("The timeout must be between 1 and 3600 seconds.")
        row = self.repo.add_source(
            {
                "name": name.strip(),
                "kind": source_kind.value,
                "role": source_role.value,
                "location": check_location(source_kind, location),
                "username": username,
                "password": password,
                "timezone": timezone,
                "schedule": schedule,
                "timeout_seconds": timeout_seconds,
                "priority": priority,
                "icon": icon,
                "user_agent": user_agent,
                "filters": dict(filters or {}),
            },
            self._clock(),
        )
        self._sync_schedule(row)
        return _view(row)

    def update_source(self, ref: str | int, **changes: Any) -> SourceView:
        """Change a source's settings."""
        row = self.repo.source(ref)
        if "timezone" in changes:
            _tz(changes["timezone"])
        if "schedule" in changes:
            parse_schedule(changes["schedule"], str(changes.get("timezone", row["timezone"])))
        if "location" in changes:
            changes["location"] = check_location(SourceKind(row["kind"]), changes["location"])
        updated = self.repo.update_source(row["id"], changes)
        if {"schedule", "timezone", "enabled"} & set(changes):
            self._sync_schedule(updated)
        return _view(updated)

    def remove_source(self, ref: str | int) -> SourceView:
        """Forget a source, its overrides and its cached data."""
        row = self.repo.source(ref)
        self.repo.delete_source(row["id"])
        if self.schedules is not None:
            with contextlib.suppress(UserError):
                self.schedules.delete(self.schedule_name(row["id"]))
        for path in (self._data_path(row["id"]), guide_path(self._data_path(row["id"]))):
            with contextlib.suppress(FileNotFoundError):
                remove_file(path)
        return _view(row)

    def test_source(self, ref: str | int) -> str:
        """Fetch a source now into a scratch file and say what it holds (its stored data is not touched)."""
        row = self.repo.source(ref)
        scratch = self.root / "tmp" / f"test-{row['id']}.data"
        try:
            fetched = fetch_source(row, scratch, conditional=False)
            kind = engine.detect_format(fetched.path)
            return f"{row['name']}: {kind}, {fetched.size} bytes"
        finally:
            with contextlib.suppress(FileNotFoundError):
                remove_file(scratch)

    # refresh -------------------------------------------------------------------------------------
    async def run(self, ctx: JobContext) -> str:
        """Run the `iptv_refresh` job: refresh the sources asked for (default: all enabled), then rebuild."""
        wanted = ctx.params.get("sources") or []
        report = await asyncio.to_thread(
            self.refresh, [int(s) for s in wanted], ctx.progress, ctx.check_cancelled
        )
        for source in report.sources:
            if source.status in ("failed", "kept"):
                ctx.item_failed(source.name, source.message)
        return plan.summary(report)

    def refresh(
        self,
        source_ids: list[int] | None = None,
        progress: Callable[[int, int, str], None] = lambda done, total, message: None,
        check_cancelled: Callable[[], None] = lambda: None,
    ) -> MergeReport:
        """Fetch sources (a failed one keeps its last good data), merge, and write every output atomically."""
        rows = [r for r in self.repo.sources() if r["enabled"]]
        targets = [r for r in rows if not source_ids or r["id"] in source_ids]
        statuses: dict[int, SourceReport] = {}
        for index, row in enumerate(targets):
            check_cancelled()
            progress(index, len(targets) + 1, f"fetching {row['name']}")
            statuses[row["id"]] = self._fetch(row)
        check_cancelled()
        progress(len(targets), len(targets) + 1, "merging")
        steps = len(targets) + 1

        def merging(share: float, name: str) -> None:
            check_cancelled()  # a cancelled refresh stops mid-guide; the last good outputs stay
            progress(round((len(targets) + share) * 100), steps * 100, f"merging the guide from {name}")

        report = self.rebuild(statuses, on_guide=merging)
        progress(steps, steps, "done")
        return report

    def _fetch(self, row: Columns) -> SourceReport:
        began = time.perf_counter()
        path = self._data_path(row["id"])
        try:
            fetched = fetch_source(row, path, conditional=path.exists())
            kind = engine.detect_format(path)
        except AntennaError as exc:
            seconds = time.perf_counter() - began
            status = "kept" if path.exists() else "failed"
            message = redact(str(exc), [row["password"], row["username"]] if row["password"] else [])
            self.repo.update_source(
                row["id"],
                {
                    "last_status": status,
                    "last_error": message,
                    "last_seconds": seconds,
                    "last_refresh_at": self._clock(),
                },
            )
            return SourceReport(row["id"], row["name"], status, message, seconds)
        seconds = time.perf_counter() - began
        status = "ok" if fetched.changed else "unchanged"
        self.repo.update_source(
            row["id"],
            {
                "last_status": status,
                "last_error": "",
                "last_seconds": seconds,
                "last_format": kind,
                "last_refresh_at": self._clock(),
                "etag": fetched.etag,
                "last_modified": fetched.last_modified,
                **({"location": fetched.moved_to} if fetched.moved_to else {}),
            },
        )
        return SourceReport(row["id"], row["name"], status, kind, seconds)

    def rebuild(
        self,
        statuses: Mapping[int, SourceReport] | None = None,
        on_guide: Callable[[float, str], None] | None = None,
    ) -> MergeReport:
        """Merge every enabled source's last good data and write the playlist, the guide and the report.

        on_guide hears how far the guide merge has read each XMLTV source (see guide_write.write_guide).
        """
        files = []
        for row in self.repo.sources():
            path = self._data_path(row["id"])
            if not row["enabled"]:
                continue
            for data in (path, guide_path(path)):
                if data.exists():
                    files.append(engine.SourceFile(_config(row), data, tz=_tz(row["timezone"])))
        merged = engine.merge(files, self.overrides())
        now = self._clock()
        ensure_dir(self.root)
        with atomic_writer(self.playlist_path) as out:
            engine.write_playlist(merged, out, guide_url=f"{self._base_url}/iptv/xmltv.xml.gz")
        with self._guide_outputs() as outs:
            scratch = self.root / "tmp"
            ensure_dir(scratch)
            merger, warnings = guide_write.write_guide(
                merged, outs, now=now, days=self._days, temp_dir=scratch, progress=on_guide
            )
        previous = self._read_json("channels.json") or {}
        report = engine.report(merged, merger, previous.get("names", {}), warnings)
        if statuses:
            by_id = {s.source_id: s for s in report.sources}
            by_id.update(statuses)
            report = engine.replace_sources(report, list(by_id.values()))
        self._write_json(
            "channels.json",
            {
                "names": json.loads(engine.channel_names(merged)),
                "channels": [engine.channel_dict(c) for c in merged.channels],
            },
        )
        self._write_json("report.json", {"at": now.isoformat(), **engine.report_dict(report)})
        return report

    @contextlib.contextmanager
    def _guide_outputs(self) -> Iterator[list[BinaryIO]]:
        # One pass writes both: the plain file Plex wants and the gzip Kodi prefers.
        with (
            atomic_writer(self.guide_path) as plain,
            atomic_writer(self.guide_gz_path) as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as packed,
        ):
            yield [plain, packed]  # type: ignore[list-item]  # GzipFile is a BinaryIO in all but name

    def _read_json(self, name: str) -> dict[str, Any] | None:
        path = self.root / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_json(self, name: str, data: Mapping[str, Any]) -> None:
        with atomic_writer(self.root / name) as out:
            out.write(json.dumps(data, ensure_ascii=False, default=str).encode())

    # channels and overrides ----------------------------------------------------------------------
    def overrides(self) -> dict[tuple[int, str], Override]:
        """Return every user override by (source id, channel key)."""
        return {
            (row["source_id"], row["channel_key"]): Override(
                name=row["name"],
                number=row["number"],
                group=row["group_name"],
                logo=row["logo"],
                guide_id=row["guide_id"],
                enabled=row["enabled"],
            )
            for row in self.repo.overrides()
        }

    def set_override(self, source: str | int, channel_key: str, **fields: Any) -> None:
        """Change how a channel is shown (name, number, group, logo, guide id, enabled); None clears one."""
        unknown = set(fields) - set(OVERRIDE_FIELDS)
        if unknown:
            raise UserError(f"Unknown channel field(s): {', '.join(sorted(unknown))}.")
        if fields.get("number") and not plan.valid_number(str(fields["number"])):
            raise UserError(f"{fields['number']!r} is not a channel number.", "Use digits, e.g. 101 or 5.1.")
        row = self.repo.source(source)
        self.repo.set_override(row["id"], channel_key, fields)

    def channels(self) -> list[dict[str, Any]]:
        """Return the merged channels of the last refresh (empty before the first)."""
        data = self._read_json("channels.json") or {}
        channels = data.get("channels", [])
        return channels if isinstance(channels, list) else []

    def report(self) -> dict[str, Any] | None:
        """Return the report of the last refresh, or None before the first."""
        return self._read_json("report.json")
