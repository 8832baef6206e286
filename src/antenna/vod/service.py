"""VOD use cases: sources, exports (as the `vod_export` job), stats, run reports and the stable redirects."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from antenna.clients.xtream import XtreamAccount
from antenna.clients.xtream_vod import XtreamVodClient, stream_url
from antenna.db.repos.plex import Columns
from antenna.db.repos.vod import VodRepository
from antenna.errors import AntennaError, NotFound, UserError
from antenna.fs import (
    atomic_write,
    atomic_writer,
    ensure_dir,
)
from antenna.jobs.models import JobContext
from antenna.jobs.schedule import parse_schedule
from antenna.jobs.schedule_service import ScheduleService
from antenna.vod import catalogue, run_log
from antenna.vod import settings as vod_settings
from antenna.vod.export_run import ClientFactory, ExportRun
from antenna.vod.models import Cleanup, IdStyle, UrlMode, VodSourceConfig
from antenna.vod.sources import VodSourceView, config_of, view_of

JOB_KIND = "vod_export"
SCOPES = ("all", "movies", "series")


def xtream_client(config: VodSourceConfig) -> catalogue.VodClient:
    """Return the Xtream VOD client of a source."""
    return XtreamVodClient(XtreamAccount(config.server, config.username, config.password), timeout=60.0)


class VodService:
    """Every VOD action the shells offer."""

    def __init__(
        self,
        repo: VodRepository,
        *,
        data_dir: Path,
        base_url: str,
        clock: Callable[[], datetime],
        client_factory: ClientFactory = xtream_client,
    ) -> None:
        self.repo = repo
        self.reports = data_dir / "vod" / "reports"
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._client_factory = client_factory
        self.schedules: ScheduleService | None = None  # set by the container once it exists

    # sources -----------------------------------------------------------------------------------------
    def sources(self) -> list[VodSourceView]:
        """Return every source."""
        return [view_of(row) for row in self.repo.sources()]

    def source(self, ref: str | int) -> VodSourceView:
        """Return one source by id or name."""
        return view_of(self.repo.source(ref))

    def add_source(
        self,
        name: str,
        *,
        root: str,
        xtream: str = "",
        username: str = "",
        password: str = "",
        m3u: str = "",
        base_url: str = "",
        url_mode: str = "redirect",
        id_style: str = "plex",
        schedule: str = "",
        options: Mapping[str, Any] | None = None,
    ) -> VodSourceView:
        """Check and store a source (an Xtream account or an M3U playlist) and its output folder."""
        if not name.strip():
            raise UserError("A VOD source needs a name.")
        if bool(xtream) == bool(m3u):
            raise UserError("Give either an Xtream server (--xtream) or an M3U playlist (--m3u).")
        if xtream and not (username and password):
            raise UserError("An Xtream source needs --username and --password.")
        if not root.strip():
            raise UserError("A VOD source needs an output folder (--root).")
        try:
            UrlMode(url_mode)
            IdStyle(id_style)
        except ValueError as exc:
            raise UserError(
                f"{exc}.", "URL modes: redirect, provider. ID styles: plex, jellyfin, none."
            ) from exc
        if schedule:
            parse_schedule(schedule, "UTC")
        values = {
            "name": name.strip(),
            "kind": "xtream" if xtream else "m3u",
            "server": xtream.strip(),
            "username": username,
            "password": password,
            "m3u": m3u.strip(),
            "root": str(Path(root).expanduser().resolve()),
            "base_url": (base_url or self._base_url).rstrip("/"),
            "url_mode": url_mode,
            "options": {"naming": {"id_style": id_style}, **dict(options or {})},
            "schedule": schedule,
        }
        row = self.repo.add_source(values, self._clock())
        self._sync_schedule(row)
        return view_of(row)

    def update_source(self, ref: str | int, changes: Mapping[str, Any]) -> VodSourceView:
        """Check and store a change of a source's settings; the next export renames files in place."""
        row = self.repo.source(ref)
        root = changes.get("root")
        if isinstance(root, str) and root.strip():
            changes = {**changes, "root": str(Path(root.strip()).expanduser().resolve())}
        update = vod_settings.update(row, changes, default_base_url=self._base_url)
        if not update.columns:
            return view_of(row)
        row = self.repo.update_source(row["id"], update.columns)
        if "root" in update.changed:
            # A whole new tree goes there (the old folder's files stay): the manifest would call it unchanged.
            self.repo.forget_files(row["id"])
        elif update.rewrites:
            # Series the provider says are unchanged are skipped; they must be written again under new names.
            self.repo.save_series_states(row["id"], {})
        if "schedule" in update.changed:
            if row["schedule"]:
                self._sync_schedule(row)
            elif self.schedules is not None:
                with contextlib.suppress(UserError):
                    self.schedules.delete(f"vod-source-{row['id']}")
        return view_of(row)

    def remove_source(self, ref: str | int) -> VodSourceView:
        """Forget a source (its files stay where they are)."""
        row = self.repo.source(ref)
        self.repo.delete_source(row["id"])
        if self.schedules is not None:
            with contextlib.suppress(UserError):
                self.schedules.delete(f"vod-source-{row['id']}")
        return view_of(row)

    def _sync_schedule(self, row: Columns) -> None:
        if self.schedules is None or not row["schedule"]:
            return
        self.schedules.set(
            f"vod-source-{row['id']}", row["schedule"], job_kind=JOB_KIND, params={"source": row["id"]}
        )

    def test_source(self, ref: str | int) -> str:
        """Read a source's catalogue now (series details not fetched) and say what it holds."""
        config = config_of(self.repo.source(ref))
        if config.kind == "m3u":
            found = catalogue.from_m3u(config, "all")
            episodes = sum(len(s.episodes) for s in found.series)
            return (
                f"{config.name}: {len(found.movies)} movies, {len(found.series)} series, {episodes} episodes"
            )
        with self._client_factory(config) as client:
            return f"{config.name}: {len(client.movies())} movies, {len(client.series_list())} series"

    # export ------------------------------------------------------------------------------------------
    async def run(self, ctx: JobContext) -> str:
        """Run the `vod_export` job on one source (params: source, scope, cleanup, force)."""
        params = ctx.params
        return await asyncio.to_thread(
            self.export,
            params["source"],
            scope=params.get("scope", "all"),
            cleanup=params.get("cleanup", "off"),
            force=bool(params.get("force", False)),
            progress=ctx.progress,
            check_cancelled=ctx.check_cancelled,
        )

    def export(
        self,
        ref: str | int,
        *,
        scope: str = "all",
        cleanup: str = "off",
        force: bool = False,
        progress: Callable[[int, int, str], None] = lambda done, total, message: None,
        check_cancelled: Callable[[], None] = lambda: None,
    ) -> str:
        """Export a source's catalogue into its tree; return a summary line. A failed read changes nothing."""
        if scope not in SCOPES:
            raise UserError(f"Unknown scope {scope!r}.", "Use all, movies or series.")
        try:
            mode = Cleanup(cleanup)
        except ValueError as exc:
            raise UserError(f"Unknown cleanup mode {cleanup!r}.", "Use off, preview or apply.") from exc
        config = config_of(self.repo.source(ref))
        run_id = self.repo.add_run(config.id, scope, mode.value, self._clock())
        ensure_dir(self.reports)
        report = self.reports / f"run-{run_id}.csv"
        debug = self.debug_log_path(run_id) if config.debug_log else None
        with run_log.recording(debug, [config.password, config.username]):
            run_log.say(
                f"export #{run_id} of {config.name}: scope {scope}, cleanup {mode.value}, force {force}"
            )
            try:
                # The report streams into a temp file as the run goes; only a finished run's report appears.
                with atomic_writer(report) as raw:
                    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                    run = ExportRun(self.repo, self._client_factory, self._base_url)
                    summary, counts = run.run(config, scope, mode, force, stream, progress, check_cancelled)
                    stream.detach()  # flushes; atomic_writer closes the file itself
            except BaseException as exc:
                message = str(exc) if isinstance(exc, AntennaError) else f"{type(exc).__name__}: {exc}"
                run_log.say(f"failed: {message}")
                self._finish(run_id, config.id, "failed", message, {}, "")
                raise
            run_log.say(f"done: {summary}")
        self._finish(run_id, config.id, "ok", summary, counts, str(report))
        return summary

    def debug_log_path(self, run_id: int) -> Path:
        """Return where a run's debug log is (it exists when its source had the debug log on)."""
        return self.reports / f"run-{run_id}.log"

    def _finish(
        self, run_id: int, source_id: int, status: str, message: str, counts: Mapping[str, int], report: str
    ) -> None:
        now = self._clock()
        self.repo.finish_run(run_id, status=status, message=message, counts=counts, report=report, now=now)
        self.repo.update_source(
            source_id, {"last_run_at": now, "last_status": status, "last_message": message}
        )

    # stats, runs, redirects ----------------------------------------------------------------------------
    def stats(self, ref: str | int) -> tuple[Path, dict[str, int]]:
        """Write a summary CSV: counts from the source and from the filesystem; return its path and counts."""
        config = config_of(self.repo.source(ref))
        if config.kind == "m3u":
            found = catalogue.from_m3u(config, "all")
            source = {"source_movies": len(found.movies), "source_series": len(found.series)}
        else:
            with self._client_factory(config) as client:
                source = {"source_movies": len(client.movies()), "source_series": len(client.series_list())}
        counts = {**source, **_disk_counts(Path(config.root))}
        counts["manifest_files"] = self.repo.count_manifest(config.id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["measure", "count"])
        writer.writerows(sorted(counts.items()))
        ensure_dir(self.reports)
        path = self.reports / f"stats-{config.id}-{self._clock():%Y%m%d-%H%M%S}.csv"
        atomic_write(path, buffer.getvalue().encode())
        return path, counts

    def runs(self, ref: str | int | None = None, limit: int = 20) -> list[Columns]:
        """Return the newest runs (of one source, or of all)."""
        source_id = None if ref is None else self.repo.source(ref)["id"]
        return self.repo.runs(source_id, limit)

    def run_info(self, run_id: int) -> Columns:
        """Return one run (without reading its report)."""
        return self.repo.run(run_id)

    def report(
        self, run_id: int | None = None, limit: int | None = None
    ) -> tuple[Columns, list[dict[str, str]]]:
        """Return a run (default: the newest) and its CSV rows (the first `limit` of them, when given)."""
        if run_id is None:
            newest = self.repo.runs(None, 1)
            if not newest:
                raise NotFound("No VOD export has run yet.", "Run `antenna vod export` first.")
            run = newest[0]
        else:
            run = self.repo.run(run_id)
        rows: list[dict[str, str]] = []
        if run["report"] and os.path.exists(run["report"]):
            with open(run["report"], encoding="utf-8", newline="") as stream:
                rows = list(itertools.islice(csv.DictReader(stream), limit))
        return run, rows

    def redirect(self, kind: str, ident: str) -> str:
        """Return the provider URL a `/vod/{kind}/{source}-{stream}` redirect points to now."""
        source_part, _, stream_id = ident.partition("-")
        if kind not in ("movie", "episode") or not source_part.isdigit() or not stream_id:
            raise NotFound(f"No VOD {kind} {ident!r}.")
        stream = self.repo.stream(int(source_part), kind, stream_id)
        if stream is None:
            raise NotFound(f"No VOD {kind} {ident!r}.", "Export the source again.")
        if stream["url"]:
            return str(stream["url"])
        config = config_of(self.repo.source(int(source_part)))
        account = XtreamAccount(config.server, config.username, config.password)
        return stream_url(account, "movie" if kind == "movie" else "series", stream_id, stream["extension"])


def _disk_counts(root: Path) -> dict[str, int]:
    """Count the tree's .strm and .nfo files (0 when the folder does not exist yet)."""
    counts = {"disk_strm": 0, "disk_nfo": 0}
    for _folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".strm"):
                counts["disk_strm"] += 1
            elif name.endswith(".nfo"):
                counts["disk_nfo"] += 1
    return counts
