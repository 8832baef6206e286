"""Subscribing: preview a feed with the exact names its episodes will get, refuse duplicates, OPML, search."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from antenna.clients.feed_http import FeedHttp, FeedResponse
from antenna.db.repos.podcasts import PodcastRepository
from antenna.errors import Conflict, UserError
from antenna.formats.feed import Feed, SearchResult, parse_feed, parse_search_results
from antenna.formats.feed_url import normalise_url
from antenna.formats.opml import OpmlFeed, parse_opml, render_opml
from antenna.podcasts import library, naming
from antenna.podcasts.models import Podcast, PodcastOptions
from antenna.podcasts.records import change_options, options_to_json, podcast_from

PREVIEW_EPISODES = 200  # the preview lists this many; the count covers all


@dataclass(frozen=True, slots=True)
class PreviewEpisode:
    """One feed episode and the file it would get."""

    title: str
    published: datetime
    relpath: str
    size: int | None
    duration: int | None


@dataclass(frozen=True, slots=True)
class Preview:
    """What subscribing to a feed would give, before anything is stored."""

    url: str
    title: str
    author: str
    description: str
    image_url: str
    episode_count: int
    folder: str
    episodes: tuple[PreviewEpisode, ...]
    warnings: tuple[str, ...]
    duplicate_of: str = ""  # the existing subscription's title when this one would be refused
    feed: Feed | None = None
    etag: str = ""
    last_modified: str = ""


def preview_names(feed: Feed, title: str, options: PodcastOptions, limit: int) -> list[PreviewEpisode]:
    """Return the names the newest `limit` episodes would get (numbered oldest first, as queueing does)."""
    taken: list[tuple[int, int]] = []
    named: list[PreviewEpisode] = []
    for item in sorted(feed.episodes, key=lambda e: e.published):
        index = naming.next_same_day_index(item.published.date(), taken)
        season, number = naming.episode_numbers(item.published, index)
        taken.append((season, number))
        ext = naming.media_extension(item.enclosure_url, item.mime_type)
        if options.audio_to_video and (
            item.mime_type.startswith("audio/") or ext in ("mp3", "m4a", "aac", "ogg", "opus")
        ):
            ext = "mp4"
        relpath = str(naming.episode_relpath(title, season, number, item.title, ext))
        named.append(PreviewEpisode(item.title, item.published, relpath, item.size, item.duration))
    named.reverse()
    return named[:limit]


def identity_key(feed: Feed) -> str:
    """Return what makes two feeds the same show: the feed identity and the title.

    The identity falls back to the show's link when the feed has no podcast:guid, and several shows of one
    network often share a homepage, so the title is part of the key: mirrors match, sibling shows do not.
    """
    return f"{feed.identity}|{feed.title.strip().casefold()}" if feed.identity else ""


class Subscriptions:
    """Creates and removes subscriptions."""

    def __init__(
        self,
        repo: PodcastRepository,
        http: FeedHttp,
        *,
        library_root: Path,
        defaults: PodcastOptions,
        search_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.repo = repo
        self.http = http
        self.library_root = library_root
        self.defaults = defaults
        self.search_url = search_url
        self.clock = clock

    def default_folder(self, title: str) -> Path:
        """Return `<podcast library>/<Show>`."""
        return self.library_root / naming.show_folder_name(title)

    def fetch_feed(self, url: str) -> tuple[FeedResponse, Feed]:
        """Fetch and parse a feed; UserError (one line) when it is not one."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise UserError(f"'{url}' is not an http(s) URL.", "Give the podcast's RSS feed URL.")
        response = self.http.get_feed(url)
        return response, parse_feed(response.body, response.url, now=self.clock())

    def preview(self, url: str, changes: Mapping[str, Any] | None = None, folder: str = "") -> Preview:
        """Fetch a feed and show what subscribing would do; nothing is stored."""
        response, feed = self.fetch_feed(url)
        final_url = response.url
        options = change_options(self.defaults, changes or {})
        target = Path(folder).expanduser() if folder else self.default_folder(feed.title)
        warnings = list(feed.warnings)
        conflict = library.folder_conflict(target, feed.title)
        if conflict:
            warnings.append(conflict)
        duplicate = self.repo.find_duplicate(
            normalise_url(url), identity_key(feed)
        ) or self.repo.find_duplicate(normalise_url(final_url), "")
        return Preview(
            url=url,
            title=feed.title,
            author=feed.author,
            description=feed.description,
            image_url=feed.image_url,
            episode_count=len(feed.episodes),
            folder=str(target),
            episodes=tuple(preview_names(feed, feed.title, options, PREVIEW_EPISODES)),
            warnings=tuple(warnings),
            duplicate_of=duplicate["title"] if duplicate else "",
            feed=feed,
            etag=response.etag[:300],
            last_modified=response.last_modified[:100],
        )

    def subscribe(
        self, url: str, changes: Mapping[str, Any] | None = None, folder: str = "", *, paused: bool = False
    ) -> tuple[Podcast, Feed]:
        """Store a subscription (refusing duplicates); return it with the parsed feed for the first merge."""
        preview = self.preview(url, changes, folder)
        assert preview.feed is not None
        if preview.duplicate_of:
            raise Conflict(
                f"Already subscribed to this feed as '{preview.duplicate_of}'.",
                "Change that subscription's options instead.",
            )
        target = Path(preview.folder)
        if library.folder_conflict(target, preview.title):
            raise Conflict(
                library.folder_conflict(target, preview.title), "Pick another folder with --folder."
            )
        options = change_options(self.defaults, changes or {})
        feed = preview.feed
        row = self.repo.add_podcast(
            {
                "url": url.strip(),
                "url_key": normalise_url(url)[:1000],
                "identity": identity_key(feed)[:1000],
                "title": feed.title[:500] or "Untitled podcast",
                "author": feed.author[:500],
                "description": feed.description,
                "image_url": feed.image_url,
                "folder": str(target),
                "options": options_to_json(options),
                "paused": paused,
                "etag": preview.etag,
                "last_modified": preview.last_modified,
            },
            self.clock(),
        )
        return podcast_from(row, self.defaults), feed

    def search(self, term: str, limit: int = 25) -> list[SearchResult]:
        """Search the podcast directory (iTunes Search API format)."""
        term = term.strip()
        if not term:
            raise UserError("Give something to search for.")
        data = self.http.get_json_bytes(
            self.search_url, {"term": term, "media": "podcast", "entity": "podcast", "limit": str(limit)}
        )
        return parse_search_results(data)

    def import_opml(
        self, data: bytes, subscribe: Callable[[str], Podcast]
    ) -> tuple[list[Podcast], list[str]]:
        """Subscribe to every feed of an OPML file; return (added, one line per feed that was not)."""
        added: list[Podcast] = []
        problems: list[str] = []
        for entry in parse_opml(data):
            try:
                added.append(subscribe(entry.xml_url))
            except UserError as exc:
                problems.append(f"{entry.title or entry.xml_url}: {exc.message}")
        return added, problems

    def export_opml(self, podcasts: Sequence[Podcast]) -> bytes:
        """Return every subscription as OPML 2.0."""
        feeds = [OpmlFeed(title=p.title, xml_url=p.url, html_url="") for p in podcasts]
        return render_opml("Antenna podcasts", feeds, self.clock())
