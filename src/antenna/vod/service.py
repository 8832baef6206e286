"""VOD use cases: sources, exports (as the `vod_export` job), stats, run reports and the stable redirects."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from antenna.clients.xtream import XtreamAccount
from antenna.clients.xtream_vod import XtreamVodClient, stream_url
from antenna.db.repos.plex import Columns
from antenna.db.repos.vod import VodRepository
from antenna.errors import AntennaError, NotFound, UserError
from antenna.fs import LibraryRoot, atomic_write, atomic_writer, ensure_dir, on_network_filesystem
from antenna.jobs.models import JobContext
from antenna.jobs.schedule import parse_schedule
from antenna.jobs.schedule_service import ScheduleService
from antenna.vod import catalogue
from antenna.vod import settings as vod_settings
from antenna.vod.export import Exporter, Job, Row
from antenna.vod.models import Cleanup, IdStyle, UrlMode, VodSourceConfig
from antenna.vod.plan import TreeFile, movie_chunks, series_files, series_folders
from antenna.vod.sources import VodSourceView, config_of, view_of

JOB_KIND = "vod_export"
SCOPES = ("all", "movies", "series")
ClientFactory = Callable[[VodSourceConfig], catalogue.VodClient]


def xtream_client(config: VodSourceConfig) -> catalogue.VodClient:
    """Return the Xtream VOD client of a source."""
    return XtreamVodClient(XtreamAccount(config.server, config.username, config.password), timeout=60.0)


class _Manifest:
    """One source's manifest, as the exporter reads and changes it."""

    def __init__(self, repo: VodRepository, source_id: int) -> None:
        self.repo, self.source_id = repo, source_id

    def known(self, items: Sequence[str], paths: Sequence[str]) -> Mapping[str, tuple[str, str, str, str]]:
        return self.repo.manifest_for(self.source_id, items, paths)

    def change(self, put: Sequence[Row], drop: Sequence[str]) -> None:
        self.repo.change_manifest(self.source_id, put, drop)

    def rows(self) -> Iterator[Row]:
        return self.repo.manifest_rows(self.source_id)

    def any(self) -> bool:
        return self.repo.has_manifest(self.source_id)


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
        try:
            # The report streams into a temp file as the run goes; only a finished run's report appears.
            with atomic_writer(report) as raw:
                stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                summary, counts = self._export(config, scope, mode, force, stream, progress, check_cancelled)
                stream.detach()  # flushes; atomic_writer closes the file itself
        except BaseException as exc:
            message = str(exc) if isinstance(exc, AntennaError) else f"{type(exc).__name__}: {exc}"
            self._finish(run_id, config.id, "failed", message, {}, "")
            raise
        self._finish(run_id, config.id, "ok", summary, counts, str(report))
        return summary

    def _export(
        self,
        config: VodSourceConfig,
        scope: str,
        mode: Cleanup,
        force: bool,
        report: TextIO,
        progress: Callable[[int, int, str], None],
        check_cancelled: Callable[[], None],
    ) -> tuple[str, dict[str, int]]:
        """Read the catalogue and write its tree a chunk at a time (the provider stays open for details)."""
        with contextlib.ExitStack() as stack:
            if config.kind == "m3u":
                found = catalogue.from_m3u(config, scope)
            else:
                client = stack.enter_context(self._client_factory(config))
                states = self.repo.series_states(config.id)
                found = catalogue.from_xtream(config, client, states, scope, progress, check_cancelled)
            check_cancelled()
            root = LibraryRoot(Path(config.root))
            root.ensure()
            job = Job(
                root=root,
                movie_url=self._url_for(config, "movie", found),
                episode_url=self._url_for(config, "episode", found),
                cleanup=mode,
                threshold=config.threshold,
                force=force,
                workers=config.disk_workers or (12 if on_network_filesystem(root.path) else 1),
                scope=scope,
                folders=(config.naming.movies_folder, config.naming.series_folder),
            )
            exporter = Exporter(job, _Manifest(self.repo, config.id), report, check_cancelled)
            stack.callback(exporter.close)
            total = len(found.movies) + len(found.series)
            done = 0
            for chunk in movie_chunks(found.movies, config.naming, job.movie_url):
                exporter.add(chunk)
                done += len(chunk) // 2
                progress(done, total, "writing movies")
            if scope in ("all", "movies"):
                self.repo.save_streams(
                    config.id, "movie", ((m.stream_id, m.extension, m.url) for m in found.movies)
                )
            folders = series_folders(found.listed, config.naming)
            streams: list[tuple[str, str, str]] = []
            batch: list[TreeFile] = []
            for show in catalogue.with_episodes(config, found, check_cancelled):
                batch.extend(series_files(show, config.naming, job.episode_url, folders[show.series_id]))
                streams.extend((e.stream_id, e.extension, e.url) for e in show.episodes)
                done += 1
                if len(batch) >= 2000:  # a few series at a time: one manifest look-up for all of them
                    exporter.add(batch)
                    batch = []
                    progress(done, total, "writing series")
                if len(streams) >= 5000:
                    self.repo.add_streams(config.id, "episode", streams)
                    streams = []
            if batch:
                exporter.add(batch)
            self.repo.add_streams(config.id, "episode", streams)
            outcome = exporter.finish(found.kept, complete=found.complete)
        if scope in ("all", "series"):
            self._remember(config, found, outcome.series_files)
        counts = dict(outcome.counts)
        counts.update(movies=len(found.movies), series=found.listed_series, fetched_series=len(found.series))
        parts = [f"{counts.get(k, 0)} {k}" for k in ("created", "updated", "renamed", "unchanged", "deleted")]
        summary = f"{config.name}: {len(found.movies)} movies, {found.listed_series} series; " + ", ".join(
            parts
        )
        if counts.get("stale"):
            summary += f"; {counts['stale']} files no longer listed ({outcome.cleanup})"
        if found.problems:
            summary += f"; {len(found.problems)} problems (first: {found.problems[0]})"
        return summary, counts

    def _url_for(
        self, config: VodSourceConfig, kind: str, found: catalogue.Catalogue
    ) -> Callable[[str, str], str]:
        """Return what a .strm holds for a stream: Antenna's stable redirect, or the provider URL."""
        if config.url_mode is UrlMode.REDIRECT:
            base = config.base_url or self._base_url
            return lambda stream_id, ext: f"{base}/vod/{kind}/{config.id}-{quote(stream_id, safe='')}"
        provider = found.movie_url if kind == "movie" else found.episode_url
        if provider is not None:
            return provider
        urls = {m.stream_id: m.url for m in found.movies} if kind == "movie" else {
            e.stream_id: e.url for s in found.series for e in s.episodes
        }  # fmt: skip
        return lambda stream_id, ext: urls.get(stream_id, "")

    def _remember(
        self, config: VodSourceConfig, found: catalogue.Catalogue, files: Mapping[str, int]
    ) -> None:
        """Store the series states the next run's fast skip needs (a failed series keeps its old state)."""
        before = self.repo.series_states(config.id)
        states = {s: before[s] for s in found.kept if s in before}
        for show in found.series:
            if show.series_id in files:
                states[show.series_id] = (show.last_modified, files[show.series_id])
        self.repo.save_series_states(config.id, states)

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
