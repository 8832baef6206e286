"""The show folder on disk: show artwork and NFO, episode NFO and thumb, atomic install, trash."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.formats import nfo
from antenna.fs import LibraryRoot, Trash, atomic_move, atomic_write, ensure_dir
from antenna.podcasts import naming
from antenna.podcasts.models import Episode, Podcast

log = logging.getLogger(__name__)

SHOW_NFO = "tvshow.nfo"
POSTER = "poster.jpg"
FANART = "fanart.jpg"


@dataclass(frozen=True, slots=True)
class EpisodeFiles:
    """Where an episode's media, NFO and thumb live (absolute paths inside the show folder)."""

    media: Path
    nfo: Path
    thumb: Path

    def all(self) -> tuple[Path, Path, Path]:
        """Return the three paths."""
        return (self.media, self.nfo, self.thumb)


def show_root(podcast: Podcast) -> LibraryRoot:
    """Return the show folder as a root nothing of the episode may leave."""
    return LibraryRoot(Path(podcast.folder))


def episode_files(podcast: Podcast, relpath: str) -> EpisodeFiles:
    """Resolve an episode's fixed relative path (and its NFO and thumb beside it) inside the show folder."""
    root = show_root(podcast)
    rel = PurePosixPath(relpath)
    return EpisodeFiles(
        media=root.resolve(rel),
        nfo=root.resolve(rel.with_name(naming.nfo_name(rel.name))),
        thumb=root.resolve(rel.with_name(naming.thumb_name(rel.name))),
    )


def show_title_in_folder(folder: Path) -> str | None:
    """Return the title in the folder's tvshow.nfo, or None when it has none (or it cannot be read)."""
    path = folder / SHOW_NFO
    try:
        data = path.read_bytes()
    except OSError:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    title = root.findtext("title")
    return title.strip() if title else None


def folder_conflict(folder: Path, title: str) -> str:
    """Return a warning when the folder already holds another show's tvshow.nfo (one show per folder)."""
    existing = show_title_in_folder(folder)
    if existing is not None and existing.casefold() != title.casefold():
        return f"{folder} already holds the show '{existing}' (tvshow.nfo); use one folder per show."
    return ""


def _show_info(podcast: Podcast) -> nfo.ShowInfo:
    return nfo.ShowInfo(
        title=podcast.title,
        plot=podcast.description,
        studio=podcast.author,
        uniqueid=podcast.identity or podcast.url,
    )


def write_show(podcast: Podcast, image: bytes | None, seasons: set[int]) -> list[Path]:
    """Write tvshow.nfo, poster, fanart and season posters when their content changed; return what changed."""
    root = show_root(podcast)
    root.ensure()
    changed: list[Path] = []
    kodi_safe = podcast.options.kodi_safe
    targets: list[tuple[Path, bytes]] = [
        (root.resolve(SHOW_NFO), nfo.render_tvshow_nfo(_show_info(podcast), kodi_safe=kodi_safe))
    ]
    if image:
        targets += [(root.resolve(POSTER), image), (root.resolve(FANART), image)]
        targets += [(root.resolve(naming.season_poster_name(season)), image) for season in sorted(seasons)]
    for path, data in targets:
        if atomic_write(path, data):
            changed.append(path)
    return changed


def episode_info(podcast: Podcast, episode: Episode, now: datetime) -> nfo.EpisodeInfo:
    """Return what the episode NFO says."""
    media_name = PurePosixPath(episode.relpath).name
    return nfo.EpisodeInfo(
        title=episode.title,
        show_title=podcast.title,
        season=episode.season or episode.published.year,
        episode=episode.number or 0,
        aired=episode.published.date(),
        plot=episode.description,
        runtime_seconds=episode.duration,
        uniqueid=episode.key,
        studio=podcast.author,
        thumb=naming.thumb_name(media_name),
        date_added=now,
    )


def install_episode(
    podcast: Podcast, episode: Episode, media_temp: Path, thumb: bytes | None, now: datetime
) -> EpisodeFiles:
    """Write the episode's NFO and thumb, then move the media in last: only then is it available."""
    files = episode_files(podcast, episode.relpath)
    ensure_dir(files.media.parent)
    atomic_write(
        files.nfo,
        nfo.render_episode_nfo(episode_info(podcast, episode, now), kodi_safe=podcast.options.kodi_safe),
    )
    if thumb:
        atomic_write(files.thumb, thumb)
    atomic_move(media_temp, files.media)
    return files


def rewrite_episode_nfo(podcast: Podcast, episode: Episode, now: datetime) -> bool:
    """Rewrite an episode NFO (e.g. after a title change); return True when it changed."""
    files = episode_files(podcast, episode.relpath)
    if not files.media.exists():
        return False
    data = nfo.render_episode_nfo(episode_info(podcast, episode, now), kodi_safe=podcast.options.kodi_safe)
    return atomic_write(files.nfo, data)


def trash_episode(podcast: Podcast, episode: Episode, trash: Trash, now: datetime) -> list[Path]:
    """Move the episode's media, NFO and thumb to the trash; return where they went."""
    if not episode.relpath:
        return []
    files = episode_files(podcast, episode.relpath)
    folder = show_root(podcast).path
    moved = []
    for path in files.all():
        if path.exists():
            moved.append(trash.put(path, relative_to=folder.parent, now=now))
    with contextlib.suppress(OSError):
        files.media.parent.rmdir()  # only succeeds when the season folder is now empty
    return moved


def trash_show(podcast: Podcast, trash: Trash, now: datetime) -> Path | None:
    """Move the whole show folder to the trash."""
    folder = show_root(podcast).path
    if not folder.exists():
        return None
    return trash.put(folder, relative_to=folder.parent, now=now)


def existing_media(podcast: Podcast, relpath: str) -> Path | None:
    """Return the media file when an episode's fixed path already exists on disk (adopted, not downloaded)."""
    if not relpath:
        return None
    path = episode_files(podcast, relpath).media
    return path if path.is_file() and path.stat().st_size > 0 else None
