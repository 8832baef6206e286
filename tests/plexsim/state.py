"""The fake Plex server's state: library, accounts, clients, sessions and history, behind one lock."""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROOTS = ("/srv", "/media", "/data")
DEFAULT_DIRS = (
    "/srv/tv",
    "/srv/movies",
    "/srv/anime",
    "/srv/music",
    "/media/tv",
    "/media/movies",
    "/data/tv",
)
DEFAULT_CHANNELS: list[dict[str, str]] = [
    {"identifier": "101", "channelVcn": "101", "callSign": "NEWS1", "title": "News One"},
    {"identifier": "102", "channelVcn": "102", "callSign": "SPRT2", "title": "Sports Two"},
    {"identifier": "5.1", "channelVcn": "5.1", "callSign": "LOCAL5", "title": "Local Five"},
]


@dataclass(frozen=True)
class Command:
    """One /player/* command as received by a fake player or by the server's companion proxy."""

    path: str
    params: dict[str, str]
    target: str


@dataclass
class Section:
    """A library section (a `Directory` under /library/sections)."""

    id: str
    title: str
    type: str
    locations: list[str]
    agent: str
    scanner: str
    language: str = "en-US"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: int = field(default_factory=lambda: int(time.time()))


@dataclass
class Item:
    """A metadata item: show, season, episode or movie."""

    rating_key: str
    kind: str
    section_id: str
    title: str
    year: int | None = None
    summary: str = ""
    index: int | None = None
    parent_key: str | None = None
    file: str = ""
    duration_ms: int = 0
    content_rating: str = ""
    rating: float | None = None
    view_count: int = 0
    view_offset: int = 0
    last_viewed_at: int | None = None
    added_at: int = field(default_factory=lambda: int(time.time()))


@dataclass
class Client:
    """A player known to the server (listed by /clients)."""

    machine_id: str
    title: str
    product: str
    platform: str
    address: str
    port: int | None
    capabilities: str


@dataclass
class Session:
    """A playback session (listed by /status/sessions)."""

    session_key: str
    rating_key: str
    client_id: str
    user: str
    state: str
    view_offset: int
    transcode: bool


@dataclass
class HistoryEntry:
    """One row of /status/sessions/history/all; the item's fields are copied so deletes keep history."""

    id: int
    rating_key: str
    account_id: int
    viewed_at: int
    section_id: str
    kind: str
    title: str
    grandparent_title: str
    parent_title: str
    index: int | None
    parent_index: int | None


class SimState:
    """Everything the fake server knows; every public method takes the lock (tests call from their thread)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sections: dict[str, Section] = {}
        self.items: dict[str, Item] = {}
        self.accounts: dict[int, str] = {1: "owner"}
        self.clients: dict[str, Client] = {}
        self.sessions: dict[str, Session] = {}
        self.history: list[HistoryEntry] = []
        self.directories: set[str] = set()
        self.refresh_calls: list[tuple[str, str | None]] = []
        self.empty_trash_calls: list[str] = []
        self.deleted: list[str] = []
        self.scrobbles: list[str] = []
        self.proxy_commands: list[Command] = []
        self.requests: list[tuple[str, str]] = []
        self.lineup_channels: list[dict[str, str]] = [dict(c) for c in DEFAULT_CHANNELS]
        self._next_key = 1
        self._next_section = 1
        self._next_session = 1
        self._next_history = 1
        for path in DEFAULT_DIRS:
            self.add_directory(path)

    # -- notifications (PlexSim sends them over the websocket) --------------------------------------
    def _notify(self, message: dict[str, Any]) -> None:
        """Deliver a notification; the base state has nobody to tell."""

    def _playing(self, session: Session, state: str) -> dict[str, Any]:
        """Build a `playing` NotificationContainer for a session."""
        entry = {
            "sessionKey": session.session_key,
            "clientIdentifier": session.client_id,
            "guid": "",
            "ratingKey": session.rating_key,
            "url": "",
            "key": f"/library/metadata/{session.rating_key}",
            "viewOffset": session.view_offset,
            "playQueueItemID": int(session.session_key),
            "state": state,
        }
        return {
            "NotificationContainer": {"type": "playing", "size": 1, "PlaySessionStateNotification": [entry]}
        }

    # -- library ------------------------------------------------------------------------------------
    def add_directory(self, path: str) -> None:
        """Make `path` (and its parents) exist in the virtual filesystem /services/browse shows."""
        with self.lock:
            path = path.rstrip("/") or "/"
            while path not in ("/", ""):
                self.directories.add(path)
                path = os.path.dirname(path)

    def path_exists(self, path: str) -> bool:
        """Whether a folder exists: a known one, or anything under /srv, /media or /data."""
        path = path.rstrip("/") or "/"
        with self.lock:
            return path in self.directories or any(path.startswith(r + "/") or path == r for r in ROOTS)

    def _key(self) -> str:
        key = str(self._next_key)
        self._next_key += 1
        return key

    def add_section(
        self,
        title: str,
        type: str = "show",
        location: str | list[str] = "/srv/tv",
        agent: str = "tv.plex.agents.none",
        scanner: str = "Plex Series Scanner",
        language: str = "en-US",
    ) -> str:
        """Create a library section and return its id ("1", "2", ...)."""
        locations = [location] if isinstance(location, str) else list(location)
        with self.lock:
            sid = str(self._next_section)
            self._next_section += 1
            self.sections[sid] = Section(sid, title, type, locations, agent, scanner, language)
            for loc in locations:
                self.add_directory(loc)
            return sid

    def add_show(self, section_id: str, title: str, year: int | None = None, summary: str = "") -> str:
        """Create a show in a section and return its ratingKey."""
        with self.lock:
            if section_id not in self.sections:
                raise KeyError(f"no section {section_id}")
            key = self._key()
            self.items[key] = Item(key, "show", section_id, title, year=year, summary=summary)
            return key

    def add_episode(
        self,
        show_key: str,
        season: int,
        index: int,
        title: str,
        file: str,
        *,
        duration_ms: int = 1_800_000,
        summary: str = "",
        year: int | None = None,
        content_rating: str = "TV-PG",
        rating: float | None = 7.5,
    ) -> str:
        """Create an episode (and its season when new) and return the episode's ratingKey."""
        with self.lock:
            show = self.items[show_key]
            season_item = next(
                (i for i in self.children(show_key) if i.kind == "season" and i.index == season), None
            )
            if season_item is None:
                skey = self._key()
                season_item = Item(skey, "season", show.section_id, f"Season {season}", index=season)
                season_item.parent_key = show_key
                self.items[skey] = season_item
            key = self._key()
            self.items[key] = Item(
                key,
                "episode",
                show.section_id,
                title,
                year=year or show.year,
                summary=summary,
                index=index,
                parent_key=season_item.rating_key,
                file=file,
                duration_ms=duration_ms,
                content_rating=content_rating,
                rating=rating,
            )
            self.add_directory(os.path.dirname(file))
            return key

    def add_movie(
        self,
        section_id: str,
        title: str,
        year: int,
        file: str,
        *,
        duration_ms: int = 6_000_000,
        summary: str = "",
        content_rating: str = "PG-13",
        rating: float | None = 8.1,
    ) -> str:
        """Create a movie and return its ratingKey."""
        with self.lock:
            if section_id not in self.sections:
                raise KeyError(f"no section {section_id}")
            key = self._key()
            self.items[key] = Item(
                key,
                "movie",
                section_id,
                title,
                year=year,
                summary=summary,
                file=file,
                duration_ms=duration_ms,
                content_rating=content_rating,
                rating=rating,
            )
            self.add_directory(os.path.dirname(file))
            return key

    def children(self, key: str) -> list[Item]:
        """Direct children of an item, ordered by index."""
        with self.lock:
            kids = [i for i in self.items.values() if i.parent_key == key]
        return sorted(kids, key=lambda i: (i.index or 0, int(i.rating_key)))

    def leaves(self, key: str) -> list[Item]:
        """Playable items under an item (episodes of a show or season; the item itself otherwise)."""
        with self.lock:
            item = self.items[key]
            if item.kind in ("episode", "movie"):
                return [item]
            out: list[Item] = []
            for child in self.children(key):
                out.extend(self.leaves(child.rating_key))
            return out

    def parent(self, item: Item) -> Item | None:
        """The item's parent (season of an episode, show of a season)."""
        return self.items.get(item.parent_key or "")

    def delete_item(self, key: str) -> None:
        """Remove an item and everything under it; empty seasons go too."""
        with self.lock:
            for child in self.children(key):
                self.delete_item(child.rating_key)
            item = self.items.pop(key)
            parent = self.parent(item)
            if parent is not None and parent.kind == "season" and not self.children(parent.rating_key):
                del self.items[parent.rating_key]

    # -- accounts and watched state -----------------------------------------------------------------
    def add_account(self, account_id: int, name: str) -> None:
        """Add (or rename) a server account; account 1 is the owner."""
        with self.lock:
            self.accounts[account_id] = name

    def account_id(self, name: str) -> int:
        """The id of the account with this name (1, the owner, when unknown)."""
        with self.lock:
            return next((i for i, n in self.accounts.items() if n == name), 1)

    def mark_watched(self, rating_key: str, account_id: int = 1, viewed_at: datetime | None = None) -> None:
        """Record a view: the owner's counters change; every account gets a history row."""
        with self.lock:
            item = self.items[rating_key]
            when = int((viewed_at or datetime.now()).timestamp())
            if account_id == 1:
                item.view_count += 1
                item.last_viewed_at = when
                item.view_offset = 0
            season = self.parent(item)
            show = self.parent(season) if season else None
            self.history.append(
                HistoryEntry(
                    self._next_history,
                    rating_key,
                    account_id,
                    when,
                    item.section_id,
                    item.kind,
                    item.title,
                    show.title if show else "",
                    season.title if season else "",
                    item.index,
                    season.index if season else None,
                )
            )
            self._next_history += 1

    def mark_unwatched(self, rating_key: str) -> None:
        """Reset the owner's watched state of an item."""
        with self.lock:
            item = self.items[rating_key]
            item.view_count, item.last_viewed_at, item.view_offset = 0, None, 0

    def set_view_offset(self, rating_key: str, offset_ms: int) -> None:
        """Set the owner's resume point of an item."""
        with self.lock:
            self.items[rating_key].view_offset = offset_ms

    # -- clients and sessions -----------------------------------------------------------------------
    def add_client(
        self,
        machine_id: str,
        title: str,
        *,
        product: str = "Plex for Android (TV)",
        platform: str = "Android",
        address: str = "127.0.0.1",
        port: int | None = None,
        capabilities: str = "timeline,playback,navigation,playqueues,mirror",
    ) -> None:
        """Announce a player; with `port` it is a FakePlayer listening there."""
        with self.lock:
            self.clients[machine_id] = Client(
                machine_id, title, product, platform, address, port, capabilities
            )

    def remove_client(self, machine_id: str) -> None:
        """Forget a player."""
        with self.lock:
            self.clients.pop(machine_id, None)

    def start_session(
        self,
        rating_key: str,
        client_id: str,
        *,
        user: str = "owner",
        state: str = "playing",
        view_offset: int = 0,
        transcode: bool = False,
        notify: bool = True,
    ) -> str:
        """Start playing an item on a client; returns the sessionKey."""
        with self.lock:
            if rating_key not in self.items:
                raise KeyError(f"no item {rating_key}")
            key = str(self._next_session)
            self._next_session += 1
            session = Session(key, rating_key, client_id, user, state, view_offset, transcode)
            self.sessions[key] = session
            message = self._playing(session, state)
        if notify:
            self._notify(message)
        return key

    def update_session(
        self,
        session_key: str,
        *,
        state: str | None = None,
        view_offset: int | None = None,
        transcode: bool | None = None,
        notify: bool = True,
    ) -> None:
        """Change a session's state, offset or transcode decision."""
        with self.lock:
            session = self.sessions[session_key]
            if state is not None:
                session.state = state
            if view_offset is not None:
                session.view_offset = view_offset
            if transcode is not None:
                session.transcode = transcode
            message = self._playing(session, session.state)
        if notify:
            self._notify(message)

    def stop_session(self, session_key: str, *, notify: bool = True) -> None:
        """End a session (notify=False: a dropped stop); >= 90% played scrobbles the item for the user."""
        with self.lock:
            session = self.sessions.pop(session_key)
            item = self.items.get(session.rating_key)
            if item is not None and item.duration_ms and session.view_offset >= 0.9 * item.duration_ms:
                self.mark_watched(item.rating_key, self.account_id(session.user))
                self.scrobbles.append(item.rating_key)
            elif item is not None and self.account_id(session.user) == 1:
                item.view_offset = session.view_offset
            message = self._playing(session, "stopped")
        if notify:
            self._notify(message)

    def transcoding(self) -> list[Session]:
        """Sessions currently transcoding."""
        with self.lock:
            return [s for s in self.sessions.values() if s.transcode]
