"""Every podcast use case the shells offer: subscriptions, checks, downloads, housekeeping, and their jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from antenna.clients.download import Downloader
from antenna.clients.feed_http import FeedHttp
from antenna.db.repos.podcasts import PodcastRepository
from antenna.errors import UserError
from antenna.formats.feed import SearchResult, parse_feed
from antenna.fs import Trash
from antenna.jobs.models import JobContext
from antenna.podcasts import library, maintenance
from antenna.podcasts.checker import CheckResult, FeedChecker, feed_items
from antenna.podcasts.housekeeping import Housekeeper, HousekeepReport, WatchedLookup
from antenna.podcasts.maintenance import MaintenanceReport
from antenna.podcasts.models import DOWNLOAD_JOB, Episode, EpisodeState, Podcast, PodcastOptions
from antenna.podcasts.parsing import ParsePool
from antenna.podcasts.pipeline import Pipeline, PipelineReport
from antenna.podcasts.records import change_options, episode_from, options_to_json, podcast_from
from antenna.podcasts.subscriptions import Preview, Subscriptions

log = logging.getLogger(__name__)

CHECK_WORKERS = 4  # feeds fetched at once (and merged into the database)
PARALLEL_PARSE_FROM = 8  # feeds per check from which parsing moves to worker processes
Publish = Callable[[str, dict[str, Any]], object]


@dataclass(frozen=True, slots=True)
class PodcastSummary:
    """A subscription with its episode counts per state."""

    podcast: Podcast
    counts: Mapping[str, int]

    @property
    def in_library(self) -> int:
        """Episodes whose files are in the library."""
        return sum(self.counts.get(s.value, 0) for s in EpisodeState if s.in_library)

    @property
    def pending(self) -> int:
        """Episodes waiting for or in the download pipeline."""
        return sum(self.counts.get(s.value, 0) for s in EpisodeState if s.in_flight)


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A new subscription and what its first look at the feed did."""

    podcast: Podcast
    episodes: int
    queued: int
    adopted: int


class PodcastService:
    """Podcast use cases; blocking methods (call them from a thread in async code) unless marked async."""

    def __init__(
        self,
        repo: PodcastRepository,
        *,
        data_dir: Path,
        library_root: Path,
        defaults: PodcastOptions,
        search_url: str,
        trash: Trash,
        clock: Callable[[], datetime],
        publish: Publish = lambda topic, data: None,
        concurrency: int = 3,
        per_host: int = 2,
    ) -> None:
        self.repo = repo
        self.data_dir = data_dir
        self.library_root = library_root
        self.defaults = defaults
        self.trash = trash
        self.clock = clock
        self.publish = publish
        self.concurrency = concurrency
        self.per_host = per_host
        self.http = FeedHttp()
        self.subscriptions = Subscriptions(
            repo,
            self.http,
            library_root=library_root,
            defaults=defaults,
            search_url=search_url,
            clock=self.now,
        )
        self.checker = FeedChecker(repo, self.http, trash=trash, load=self.get, clock=self.now)
        self.housekeeper = Housekeeper(repo, trash, clock=self.now, publish=publish)
        self.refresh_folder: Callable[[str], None] | None = None  # Plex partial scan, wired by the container
        self.submit: Callable[[str], object] | None = None  # queues a job, wired by the container

    def now(self) -> datetime:
        """Return the time from the clock the service was given (tests replace `clock`)."""
        return self.clock()

    def set_watched_lookup(self, lookup: WatchedLookup | None) -> None:
        """Tell housekeeping how to ask Plex which files are watched."""
        self.housekeeper.watched = lookup

    def close(self) -> None:
        """Close HTTP connections."""
        self.http.close()

    # reads -------------------------------------------------------------------------------------
    def get(self, podcast_id: int) -> Podcast:
        """Return one subscription."""
        return podcast_from(self.repo.podcast(int(podcast_id)), self.defaults)

    def podcasts(self) -> list[Podcast]:
        """Return every subscription."""
        return [podcast_from(r, self.defaults) for r in self.repo.podcasts()]

    def summaries(self) -> list[PodcastSummary]:
        """Return every subscription with its counts."""
        counts = self.repo.state_counts()
        return [PodcastSummary(p, counts.get(p.id, {})) for p in self.podcasts()]

    def episodes(
        self, podcast_id: int | None = None, states: Iterable[EpisodeState] | None = None
    ) -> list[Episode]:
        """Return episodes, newest first."""
        wanted = [s.value for s in states] if states is not None else None
        return [episode_from(r) for r in self.repo.episodes(podcast_id, wanted)]

    def episode(self, episode_id: int) -> Episode:
        """Return one episode."""
        return episode_from(self.repo.episode(episode_id))

    # subscriptions -----------------------------------------------------------------------------
    def preview(self, url: str, changes: Mapping[str, Any] | None = None, folder: str = "") -> Preview:
        """Show what subscribing would do."""
        return self.subscriptions.preview(url, changes, folder)

    def subscribe(
        self, url: str, changes: Mapping[str, Any] | None = None, folder: str = "", *, paused: bool = False
    ) -> Subscribed:
        """Subscribe, store the feed's episodes, queue what the options want and write the show's files."""
        podcast, feed = self.subscriptions.subscribe(url, changes, folder, paused=paused)
        added, _ = self.repo.merge_feed(podcast.id, feed_items(feed), self.clock())
        queued, adopted = self.checker.queue_wanted(self.get(podcast.id))
        self.repo.update_podcast(podcast.id, {"checked_at": self.clock()})
        self.write_show(podcast)
        if queued:
            self._submit_download()
        return Subscribed(self.get(podcast.id), added, queued, adopted)

    def search(self, term: str) -> list[SearchResult]:
        """Search the directory."""
        return self.subscriptions.search(term)

    def set_paused(self, ids: Iterable[int], paused: bool) -> list[Podcast]:
        """Pause or resume subscriptions."""
        return [podcast_from(self.repo.update_podcast(i, {"paused": paused}), self.defaults) for i in ids]

    def set_options(self, ids: Iterable[int], changes: Mapping[str, Any]) -> list[Podcast]:
        """Change options of several subscriptions; the quota is applied at once."""
        changed = []
        for podcast_id in ids:
            podcast = self.get(podcast_id)
            options = change_options(podcast.options, changes)
            self.repo.update_podcast(podcast.id, {"options": options_to_json(options)})
            changed.append(self.get(podcast.id))
            self.checker.queue_wanted(changed[-1])
        return changed

    def remove(self, ids: Iterable[int], *, delete_files: bool = False) -> list[str]:
        """Unsubscribe; with delete_files the show folders go to the trash. Return the titles removed."""
        titles = []
        for podcast_id in ids:
            podcast = self.get(podcast_id)
            if delete_files:
                library.trash_show(podcast, self.trash, self.clock())
            self.repo.delete_podcast(podcast.id)
            titles.append(podcast.title)
        return titles

    def import_opml(self, data: bytes) -> tuple[list[Podcast], list[str]]:
        """Subscribe to every feed of an OPML file."""
        return self.subscriptions.import_opml(data, lambda url: self.subscribe(url).podcast)

    def export_opml(self) -> bytes:
        """Return the subscriptions as OPML."""
        return self.subscriptions.export_opml(self.podcasts())

    def write_show(self, podcast: Podcast) -> None:
        """Write the show's NFO and artwork (a failed image fetch only loses the artwork)."""
        image = self.fetch_image(podcast.image_url) if podcast.image_url else None
        library.write_show(podcast, image, self.repo.seasons(podcast.id))

    def fetch_image(self, url: str) -> bytes | None:
        """Fetch artwork; None (logged) when it cannot be had."""
        try:
            return self.http.get_bytes(url)
        except UserError as exc:
            log.warning("Artwork not fetched: %s", exc.message)
            return None

    # episodes ----------------------------------------------------------------------------------
    def queue_episodes(self, ids: Iterable[int]) -> int:
        """Queue chosen episodes for download whatever the quota says; return how many were queued."""
        count = 0
        for episode_id in ids:
            episode = self.episode(episode_id)
            if episode.state.in_library or episode.state.in_flight:
                continue
            self.repo.update_episode(
                episode.id, {"user_deleted": False, "state": EpisodeState.AVAILABLE.value}, self.clock()
            )
            count += self.checker.queue_one(self.get(episode.podcast_id), self.episode(episode.id))
        if count:
            self._submit_download()
        return count

    def delete_episodes(self, ids: Iterable[int]) -> int:
        """Move chosen episodes' files to the trash; they are never downloaded again by backfill."""
        count = 0
        for episode_id in ids:
            episode = self.episode(episode_id)
            if episode.state.in_flight:
                raise UserError(
                    f"'{episode.title}' is being downloaded.", "Wait for it to finish, then delete it."
                )
            self.housekeeper.remove(self.get(episode.podcast_id), episode, "deleted by you", self.clock())
            count += 1
        return count

    def mark_watched(self, ids: Iterable[int]) -> int:
        """Mark chosen library episodes watched."""
        now = self.clock()
        episodes = [self.episode(i) for i in ids]
        chosen = [e.id for e in episodes if e.state == EpisodeState.UNWATCHED]
        return self.repo.set_states(chosen, EpisodeState.WATCHED.value, now, watched_at=now)

    # work --------------------------------------------------------------------------------------
    def check(
        self,
        ids: Iterable[int] | None = None,
        *,
        force: bool = False,
        progress: Callable[[int, int, str], None] = lambda done, total, message: None,
    ) -> list[CheckResult]:
        """Check feeds (all active ones by default) a few at a time."""
        targets = [self.get(i) for i in ids] if ids else [p for p in self.podcasts() if not p.paused]
        results: list[CheckResult] = []
        parsers = ParsePool() if len(targets) >= PARALLEL_PARSE_FROM else None
        parse = parsers.parse if parsers is not None else parse_feed
        try:
            with ThreadPoolExecutor(CHECK_WORKERS, thread_name_prefix="feed-check") as pool:
                checks = pool.map(
                    lambda p: self.checker.check(p, force=force, parse=parse, batch=True), targets
                )
                for result in checks:
                    results.append(result)
                    progress(len(results), len(targets), result.title)
        finally:
            if parsers is not None:
                parsers.close()
        self.repo.mark_checked([r.podcast_id for r in results if r.status == "unchanged"], self.now())
        for result in results:
            if result.status in ("failed", "gone"):
                self.publish(
                    "podcasts.feed.failing",
                    {"podcast_id": result.podcast_id, "podcast": result.title, "reason": result.message},
                )
            elif result.added:
                self.write_show(self.get(result.podcast_id))
        return results

    def recover(self) -> int:
        """After a crash: episodes left mid-pipeline go back to the queue (bytes on disk are resumed)."""
        stuck = [s.value for s in EpisodeState if s.in_flight and s != EpisodeState.QUEUED]
        return self.repo.reset_states(stuck, EpisodeState.QUEUED.value, self.clock())

    async def download(
        self,
        progress: Callable[[int, int, str], None] = lambda done, total, message: None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> PipelineReport:
        """Download every queued episode into the library, then have Plex rescan the changed folders."""
        await asyncio.to_thread(self.recover)
        queued = await asyncio.to_thread(self.episodes, None, [EpisodeState.QUEUED])
        queued.sort(key=lambda e: (e.published, e.id))
        progress(0, len(queued), "starting")
        async with Downloader(concurrency=self.concurrency, per_host=self.per_host) as downloader:
            pipeline = Pipeline(
                _Store(self),
                downloader,
                temp_dir=self.data_dir / "downloads",
                publish=self.publish,
                clock=self.now,
            )
            report = await pipeline.run(
                queued, lambda done, total: progress(done, total, f"{done} of {total} episodes"), cancelled
            )
        for folder in sorted(report.folders):
            await asyncio.to_thread(self._refresh, folder)
        return report

    def housekeep(self, *, dry_run: bool = False) -> HousekeepReport:
        """Apply quotas, expiry and watched removal (or only show them), then queue backfill."""
        report = self.housekeeper.run(self.podcasts(), dry_run=dry_run, queue=self.checker.queue_wanted)
        if not dry_run:
            for folder in sorted(report.folders):
                self._refresh(folder)
            if self.episodes(None, [EpisodeState.QUEUED]):
                self._submit_download()
        return report

    def maintain(self, *, redownload: bool = False, read_nfo: bool = True) -> MaintenanceReport:
        """Verify library files against the database, read NFO edits back, check database integrity."""
        podcasts = self.podcasts()
        now = self.now()
        report = maintenance.verify(self.repo, podcasts, self.episodes, now, redownload=redownload)
        if read_nfo:
            maintenance.read_nfo_edits(self.repo, podcasts, self.episodes, now, report)
        report.integrity = self.repo.integrity_problems()
        if report.requeued:
            self._submit_download()
        return report

    def _refresh(self, folder: str) -> None:
        if self.refresh_folder is None:
            return
        try:
            self.refresh_folder(folder)
        except UserError as exc:
            log.warning("Plex refresh of %s failed: %s", folder, exc.message)

    def _submit_download(self) -> None:
        if self.submit is not None:
            self.submit(DOWNLOAD_JOB)

    # job bodies --------------------------------------------------------------------------------
    async def run_check(self, ctx: JobContext) -> str:
        """The podcast_check job: check feeds (params: ids, force), then download what was queued."""
        ids = [int(i) for i in ctx.params.get("ids") or []]
        results = await asyncio.to_thread(
            self.check, ids or None, force=bool(ctx.params.get("force")), progress=ctx.progress
        )
        for result in results:
            if result.status in ("failed", "gone"):
                ctx.item_failed(result.title, result.message)
        queued = sum(r.queued for r in results)
        if queued:
            self._submit_download()
        new = sum(r.added for r in results)
        return f"{len(results)} feeds checked, {new} new episodes, {queued} queued"

    async def run_download(self, ctx: JobContext) -> str:
        """The podcast_download job."""
        report = await self.download(ctx.progress, lambda: ctx.cancelled)
        for episode, reason in report.failed:
            ctx.item_failed(episode.title, reason)
        return f"{len(report.done)} downloaded, {len(report.failed)} failed"

    async def run_housekeep(self, ctx: JobContext) -> str:
        """The podcast_housekeep job (params: dry_run)."""
        dry_run = bool(ctx.params.get("dry_run"))
        if not dry_run:
            checked = await asyncio.to_thread(self.maintain)
            for missing in checked.missing:
                ctx.item_failed(missing, "file missing on disk")
            for problem in checked.nfo_problems + checked.integrity:
                ctx.item_failed("maintenance", problem)
        report = await asyncio.to_thread(self.housekeep, dry_run=dry_run)
        for problem in report.problems:
            ctx.item_failed("housekeeping", problem)
        counts = ", ".join(f"{n} {a}" for a, n in sorted(report.counts().items())) or "nothing to do"
        return ("dry run: " if report.dry_run else "") + counts


class _Store:
    """The pipeline's view of the service: state changes are persisted and returned."""

    def __init__(self, service: PodcastService) -> None:
        self.service = service

    def podcast(self, podcast_id: int) -> Podcast:
        return self.service.get(podcast_id)

    def set_state(self, episode: Episode, state: EpisodeState, **values: Any) -> Episode:
        row = self.service.repo.update_episode(
            episode.id, {"state": state.value, **values}, self.service.clock()
        )
        return episode_from(row)

    def fetch_image(self, url: str) -> bytes | None:
        return self.service.fetch_image(url)
