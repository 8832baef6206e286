"""The episode pipeline: queued → downloading → downloaded → tagging → moving → unwatched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from antenna.clients.download import Downloader, DownloadError, DownloadRequest
from antenna.clients.ffmpeg import FfmpegError, Mp4Tags, audio_to_video, is_audio_only, probe
from antenna.errors import UserError
from antenna.fs import ensure_dir, remove_file
from antenna.podcasts import library
from antenna.podcasts.models import Episode, EpisodeState, Podcast

log = logging.getLogger(__name__)

PROGRESS_TOPIC = "podcasts.download"  # per-episode byte progress, for the Downloads page
EVENT_TOPIC = "podcasts.episode"  # podcasts.episode.downloaded / .failed / .removed


class Store(Protocol):
    """What the pipeline needs from the service: episodes, podcasts and state changes."""

    def podcast(self, podcast_id: int) -> Podcast: ...

    def set_state(self, episode: Episode, state: EpisodeState, **values: Any) -> Episode: ...

    def fetch_image(self, url: str) -> bytes | None: ...


Publish = Callable[[str, dict[str, Any]], object]


@dataclass
class PipelineReport:
    """What one download run did."""

    done: list[Episode] = field(default_factory=list)
    failed: list[tuple[Episode, str]] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)  # show folders that changed (for a Plex refresh)


class Pipeline:
    """Downloads queued episodes concurrently and installs them into their show folders."""

    def __init__(
        self,
        store: Store,
        downloader: Downloader,
        *,
        temp_dir: Path,
        publish: Publish,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.downloader = downloader
        self.temp_dir = temp_dir
        self.publish = publish
        self.clock = clock

    def temp_path(self, episode: Episode) -> Path:
        """Return where an episode's bytes collect while downloading (kept across restarts for resume)."""
        return self.temp_dir / f"episode-{episode.id}.part"

    async def run(
        self,
        episodes: list[Episode],
        on_finished: Callable[[int, int], None] = lambda done, total: None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> PipelineReport:
        """Process every episode (concurrency is the downloader's); a failed episode does not stop the run."""
        ensure_dir(self.temp_dir)
        report = PipelineReport()
        total = len(episodes)

        async def one(episode: Episode) -> None:
            if cancelled():
                return
            podcast = self.store.podcast(episode.podcast_id)
            try:
                finished = await self.process(podcast, episode)
            except (DownloadError, UserError, OSError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "message", None) or str(exc)
                failed = self.store.set_state(
                    episode, EpisodeState.FAILED, reason=reason, attempts=_attempts(episode) + 1
                )
                report.failed.append((failed, reason))
                self._event("failed", podcast, failed, reason=reason)
            else:
                report.done.append(finished)
                report.folders.add(podcast.folder)
                self._event("downloaded", podcast, finished)
            finally:
                self.publish(PROGRESS_TOPIC, {"episode_id": episode.id, "finished": True})
                on_finished(len(report.done) + len(report.failed), total)

        await asyncio.gather(*(one(e) for e in episodes))
        return report

    async def process(self, podcast: Podcast, episode: Episode) -> Episode:
        """Run one episode through every stage and return it in the library."""
        temp = self.temp_path(episode)
        episode = self.store.set_state(episode, EpisodeState.DOWNLOADING, reason="")
        shown = {
            "episode_id": episode.id,
            "podcast_id": podcast.id,
            "podcast": podcast.title,
            "title": episode.title,
        }
        last = 0.0

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.25 or (total is not None and done >= total):
                last = now
                self.publish(PROGRESS_TOPIC, {**shown, "done": done, "total": total})

        await self.downloader.fetch(
            DownloadRequest(episode.enclosure_url, temp, expected_size=None, key=str(episode.id)), progress
        )
        episode = self.store.set_state(episode, EpisodeState.DOWNLOADED)
        episode = self.store.set_state(episode, EpisodeState.TAGGING)
        thumb = await asyncio.to_thread(self._thumb, podcast, episode)
        media = temp
        if podcast.options.audio_to_video and episode.relpath.endswith(".mp4"):
            media = await asyncio.to_thread(self._to_video, podcast, episode, temp, thumb)
        episode = self.store.set_state(episode, EpisodeState.MOVING)
        now = self.clock()
        await asyncio.to_thread(library.install_episode, podcast, episode, media, thumb, now)
        if media != temp:
            remove_file(temp)
        _forget_meta(temp)
        return self.store.set_state(episode, EpisodeState.UNWATCHED, downloaded_at=now)

    def _thumb(self, podcast: Podcast, episode: Episode) -> bytes | None:
        for url in (episode.image_url, podcast.image_url):
            if url:
                image = self.store.fetch_image(url)
                if image:
                    return image
        return None

    def _to_video(self, podcast: Podcast, episode: Episode, temp: Path, thumb: bytes | None) -> Path:
        info = probe(temp)
        if not is_audio_only(info):
            return temp  # already video: keep it as it came
        image_path: Path | None = None
        if thumb:
            image_path = temp.with_suffix(".cover")
            image_path.write_bytes(thumb)
        out = temp.with_suffix(".video.mp4")
        tags = Mp4Tags(
            title=episode.title,
            show=podcast.title,
            description=episode.description,
            date=episode.published.date().isoformat(),
            episode_id=episode.key,
            season_number=episode.season,
            episode_sort=episode.number,
            comment="",
            genre="Podcast",
        )
        try:
            audio_to_video(temp, image_path, out, tags)
        except FfmpegError:
            with contextlib.suppress(OSError):
                out.unlink()
            raise
        finally:
            if image_path is not None:
                with contextlib.suppress(OSError):
                    image_path.unlink()
        return out

    def _event(self, kind: str, podcast: Podcast, episode: Episode, **extra: Any) -> None:
        self.publish(
            f"{EVENT_TOPIC}.{kind}",
            {
                "podcast_id": podcast.id,
                "podcast": podcast.title,
                "episode_id": episode.id,
                "title": episode.title,
                "state": episode.state.value,
                **extra,
            },
        )


def _attempts(episode: Episode) -> int:
    return int(getattr(episode, "attempts", 0) or 0)


def _forget_meta(temp: Path) -> None:
    """Remove the downloader's sidecar once the bytes are in the library."""
    with contextlib.suppress(OSError):
        Path(str(temp) + ".meta").unlink()


def with_state(episode: Episode, state: EpisodeState, **values: Any) -> Episode:
    """Return the episode with a new state and other fields (what the store persisted)."""
    return replace(episode, state=state, **values)
