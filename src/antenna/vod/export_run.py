"""One VOD export run: read the catalogue, write its tree a chunk at a time, remember what the next run skips.

The `vod_export` job's work (VodService.export wraps it with the run's record, report file and debug log).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from antenna.db.repos.vod import VodRepository
from antenna.fs import LibraryRoot, count_files, folder_stamp, on_network_filesystem, stamp_holds
from antenna.vod import catalogue
from antenna.vod.export import Exporter, Job, Row
from antenna.vod.models import Cleanup, UrlMode, VodSourceConfig
from antenna.vod.plan import TreeFile, movie_chunks, series_files, series_folders

ClientFactory = Callable[[VodSourceConfig], catalogue.VodClient]


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

    def count(self) -> int:
        return self.repo.count_manifest(self.source_id)


class ExportRun:
    """Exports one source's catalogue into its tree."""

    def __init__(self, repo: VodRepository, client_factory: ClientFactory, base_url: str) -> None:
        self.repo, self.client_factory, self.base_url = repo, client_factory, base_url

    def run(
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
        states: Mapping[str, catalogue.SeriesState] = {}
        with contextlib.ExitStack() as stack:
            if config.kind == "m3u":
                found = catalogue.from_m3u(config, scope)
            else:
                client = stack.enter_context(self.client_factory(config))
                states = self.repo.series_states(config.id)
                found = catalogue.from_xtream(
                    config, client, states, scope, progress, check_cancelled, _present(config)
                )
            check_cancelled()
            root = LibraryRoot(Path(config.root))
            root.ensure()
            job = Job(
                root=root,
                movie_url=self.url_for(config, "movie", found),
                episode_url=self.url_for(config, "episode", found),
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
            folders = found.folders or series_folders(found.listed, config.naming)
            seasons: dict[str, set[str]] = {}  # series id -> its subfolders written this run
            streams: list[tuple[str, str, str]] = []
            batch: list[TreeFile] = []
            for show in catalogue.with_episodes(config, found, check_cancelled):
                files = series_files(show, config.naming, job.episode_url, folders[show.series_id])
                seasons[show.series_id] = {
                    p.split("/")[2] for p in (f.path for f in files) if p.count("/") > 2
                }
                batch.extend(files)
                streams.extend((e.stream_id, e.extension, e.url) for e in show.episodes)
                done += 1
                if len(batch) >= 2000:  # a few series at a time: one manifest look-up for all of them
                    exporter.add(batch, found.recheck)
                    batch = []
                    progress(done, total, "writing series")
                if len(streams) >= 5000:
                    self.repo.add_streams(config.id, "episode", streams)
                    streams = []
            if batch:
                exporter.add(batch, found.recheck)
            self.repo.add_streams(config.id, "episode", streams)
            kept_files = sum(states[s][1] for s in found.kept if s in states)
            outcome = exporter.finish(found.kept, complete=found.complete, kept_files=kept_files)
        if scope in ("all", "series"):
            self.remember(config, found, outcome.series_files, folders, seasons)
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

    def url_for(
        self, config: VodSourceConfig, kind: str, found: catalogue.Catalogue
    ) -> Callable[[str, str], str]:
        """Return what a .strm holds for a stream: Antenna's stable redirect, or the provider URL."""
        if config.url_mode is UrlMode.REDIRECT:
            base = config.base_url or self.base_url
            return lambda stream_id, ext: f"{base}/vod/{kind}/{config.id}-{quote(stream_id, safe='')}"
        provider = found.movie_url if kind == "movie" else found.episode_url
        if provider is not None:
            return provider
        urls = {m.stream_id: m.url for m in found.movies} if kind == "movie" else {
            e.stream_id: e.url for s in found.series for e in s.episodes
        }  # fmt: skip
        return lambda stream_id, ext: urls.get(stream_id, "")

    def remember(
        self,
        config: VodSourceConfig,
        found: catalogue.Catalogue,
        files: Mapping[str, int],
        folders: Mapping[str, str],
        seasons: Mapping[str, set[str]],
    ) -> None:
        """Store the series states the next run's fast skip needs (a failed series keeps its old state):
        what the provider said, the files written, and their folders' stamp (read now the writes are done)."""
        before = self.repo.series_states(config.id)
        states = {s: before[s] for s in found.kept if s in before}
        shows = Path(config.root) / config.naming.series_folder
        for sid, (modified, count, stamp) in states.items():
            if not stamp and sid in folders:  # stored before stamps existed: stamped once, from a listing
                states[sid] = (modified, count, folder_stamp(shows / folders[sid]))
        for show in found.series:
            sid = show.series_id
            if sid in files:
                stamp = folder_stamp(shows / folders[sid], seasons.get(sid, ()))
                states[sid] = (show.last_modified, files[sid], stamp)
        self.repo.save_series_states(config.id, states)


def _present(config: VodSourceConfig) -> Callable[[str, catalogue.SeriesState], bool]:
    """Return the check that an unchanged series' files are all still in its folder: its folders' stamp
    holds (a stat per folder), or, for a state stored without one, as many .strm and .nfo files are there."""
    shows = Path(config.root) / config.naming.series_folder

    def present(folder: str, state: catalogue.SeriesState) -> bool:
        _modified, files, stamp = state
        if stamp:
            return stamp_holds(shows / folder, stamp)
        return count_files(shows / folder, (".strm", ".nfo")) >= files

    return present
