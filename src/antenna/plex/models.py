"""Plex domain types: server config, what a server reports, derived player state, and typed events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PlayerState(StrEnum):
    """The seven states a client or slot can be in (the Indigo plugin's set, which users know)."""

    PLAYING = "playing"
    PAUSED = "paused"
    BUFFERING = "buffering"
    STOPPED = "stopped"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    OTHER = "other"

    @classmethod
    def from_plex(cls, value: str | None) -> PlayerState:
        """Map a Plex session/notification state string onto ours."""
        if not value:
            return cls.OTHER
        try:
            return cls(value.lower())
        except ValueError:
            return cls.OTHER


class EventType(StrEnum):
    """Every event Antenna derives from a Plex server."""

    PLAY = "play"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    BUFFER = "buffer"
    WATCHED = "watched"
    CLIENT_CONNECTED = "client_connected"
    CLIENT_DISCONNECTED = "client_disconnected"
    SERVER_DOWN = "server_down"
    SERVER_UP = "server_up"
    TRANSCODE_CHANGED = "transcode_changed"
    RECENTLY_ADDED = "recently_added"
    TEST = "test"
    # Antenna's own events, delivered through the same webhooks and MQTT (server "Antenna", id 0)
    EPISODE_DOWNLOADED = "episode_downloaded"
    EPISODE_FAILED = "episode_failed"
    EPISODE_REMOVED = "episode_removed"
    FEED_FAILING = "feed_failing"


# Bus topics of other capabilities forwarded to webhooks and MQTT as events of the "Antenna" pseudo-server.
FORWARDED_TOPICS = {
    "podcasts.episode.downloaded": EventType.EPISODE_DOWNLOADED,
    "podcasts.episode.failed": EventType.EPISODE_FAILED,
    "podcasts.episode.removed": EventType.EPISODE_REMOVED,
    "podcasts.feed.failing": EventType.FEED_FAILING,
}
ANTENNA_SERVER = "Antenna"


class WatchedPolicy(StrEnum):
    """Whose watched state counts when deciding an episode is watched."""

    OWNER = "owner"
    ANY = "any"
    ALL_OF = "all_of"


@dataclass(frozen=True, slots=True)
class PathMap:
    """One prefix pair: how a folder Antenna sees is named on the Plex server."""

    local: str
    server: str


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """A Plex server Antenna talks to; the token never appears in repr or payloads."""

    id: int
    name: str
    url: str
    token: str = field(repr=False)
    verify_tls: bool = True
    path_maps: tuple[PathMap, ...] = ()
    watched_policy: WatchedPolicy = WatchedPolicy.OWNER
    watched_users: tuple[str, ...] = ()
    enabled: bool = True
    machine_id: str = ""


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What `GET /` says about a server."""

    name: str
    version: str
    platform: str
    machine_id: str
    transcoder_active_video_sessions: int = 0
    companion_proxy: bool = False
    allow_media_deletion: bool = False


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """The item a session plays; art URLs are server paths without the token."""

    rating_key: str
    title: str  # display title: "Series : Episode" for TV
    item_title: str
    media_type: str  # movie, episode, track, clip, photo
    grandparent_title: str = ""
    parent_title: str = ""
    summary: str = ""
    art: str = ""
    thumb: str = ""
    parent_thumb: str = ""
    grandparent_art: str = ""
    grandparent_thumb: str = ""
    year: int | None = None
    star_rating: float | None = None
    content_rating: str = ""
    resolution: str = ""
    duration_ms: int | None = None
    offset_ms: int = 0
    library_section_id: str = ""

    @property
    def percent_complete(self) -> int:
        """Return int(offset / duration * 100), 0 when the duration is unknown."""
        if not self.duration_ms:
            return 0
        return max(0, min(100, int(self.offset_ms * 100 / self.duration_ms)))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field plus percent_complete."""
        data = {name: getattr(self, name) for name in self.__slots__}
        data["percent_complete"] = self.percent_complete
        return data


@dataclass(frozen=True, slots=True)
class Session:
    """One active playback session from `/status/sessions`."""

    session_key: str
    client_id: str  # the player's machineIdentifier
    state: PlayerState
    user: str
    device_title: str
    product: str
    platform: str
    address: str
    now: NowPlaying
    port: int | None = None
    transcode_decision: str = "direct play"  # "direct play", "copy" or "transcode" (video decision)


@dataclass(frozen=True, slots=True)
class Client:
    """A player the server can see, from `/clients`."""

    machine_id: str
    title: str
    product: str
    platform: str
    address: str
    port: int | None
    capabilities: tuple[str, ...] = ()

    @property
    def can_play(self) -> bool:
        """Return True when the player accepts playback commands."""
        return "playback" in self.capabilities


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one poll of a server returned; `info` None means the server did not answer."""

    taken_at: datetime
    info: ServerInfo | None
    sessions: tuple[Session, ...] = ()
    clients: tuple[Client, ...] = ()
    transcode_sessions: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlayerView:
    """What Antenna shows (page, MQTT) for one client or one slot."""

    state: PlayerState
    machine_id: str = ""
    address: str = ""
    port: int | None = None
    user: str = ""
    device_title: str = ""
    product: str = ""
    session_key: str = ""
    can_play: bool = False
    transcode_decision: str = ""
    now: NowPlaying | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with the now-playing fields under `now`."""
        # Built by hand: dataclasses.asdict deep-copies and was most of the monitor's CPU (bench/plex.py).
        return {
            "state": self.state.value,
            "machine_id": self.machine_id,
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "device_title": self.device_title,
            "product": self.product,
            "session_key": self.session_key,
            "can_play": self.can_play,
            "transcode_decision": self.transcode_decision,
            "now": self.now.to_dict() if self.now is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ServerState:
    """The live state of one server: connection, counts, clients by machine id, and slots 1..N."""

    server_id: int
    name: str
    connection: str  # "connected", "disconnected", "connecting", "unauthorized"
    updated_at: datetime
    version: str = ""
    platform: str = ""
    machine_id: str = ""
    transcode_video_sessions: int = 0
    connected_clients: int = 0
    active_sessions: int = 0
    websocket: bool = False
    error: str = ""
    clients: tuple[PlayerView, ...] = ()
    slots: tuple[PlayerView, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "server_id": self.server_id,
            "name": self.name,
            "connection": self.connection,
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
            "platform": self.platform,
            "machine_id": self.machine_id,
            "transcode_video_sessions": self.transcode_video_sessions,
            "connected_clients": self.connected_clients,
            "active_sessions": self.active_sessions,
            "websocket": self.websocket,
            "error": self.error,
            "clients": [client.to_dict() for client in self.clients],
            "slots": [slot.to_dict() for slot in self.slots],
        }


@dataclass(frozen=True, slots=True)
class PlexEvent:
    """A typed event derived from a server; `data` is JSON-ready and never holds the token."""

    type: EventType
    server_id: int
    server_name: str
    at: datetime
    client_id: str = ""
    slot: int | None = None
    user: str = ""
    title: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        """Return the bus topic, e.g. ``plex.event.play``."""
        return f"plex.event.{self.type.value}"

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON body sent to webhooks, MQTT and the bus."""
        return {
            "type": self.type.value,
            "server_id": self.server_id,
            "server": self.server_name,
            "at": self.at.isoformat(),
            "client_id": self.client_id,
            "slot": self.slot,
            "user": self.user,
            "title": self.title,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class Section:
    """A library section."""

    id: str
    title: str
    type: str
    agent: str
    scanner: str
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Agent:
    """A metadata agent from `/system/agents`."""

    identifier: str
    title: str
    media_types: tuple[int, ...] = ()  # Plex type numbers: 1 movie, 2 show, 4 episode, 8 artist …


@dataclass(frozen=True, slots=True)
class WatchRecord:
    """One play in the server's history."""

    rating_key: str
    account_id: int
    user: str
    viewed_at: datetime


@dataclass(frozen=True, slots=True)
class EpisodeWatch:
    """An episode found by file path, with the owner's counters and who watched it (from history)."""

    rating_key: str
    title: str
    file: str
    view_count: int
    view_offset_ms: int
    last_viewed_at: datetime | None
    watched_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dvr:
    """A Live TV DVR with its tuner devices and lineup."""

    key: str
    uuid: str
    title: str
    lineup: str
    lineup_title: str
    devices: tuple[DvrDevice, ...] = ()


@dataclass(frozen=True, slots=True)
class DvrDevice:
    """A tuner device attached to a DVR."""

    key: str
    uuid: str
    uri: str
    make: str
    model: str
    title: str
    mappings: tuple[tuple[str, str, bool], ...] = ()  # (channelKey, deviceIdentifier, enabled)


@dataclass(frozen=True, slots=True)
class LineupChannel:
    """A channel of a guide lineup."""

    key: str
    identifier: str
    number: str  # the virtual channel number, e.g. "5" or "5.1"
    title: str
    call_sign: str = ""


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and how to publish MQTT; the password never appears in repr."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = field(default="", repr=False)
    tls: bool = False
    topic_prefix: str = "antenna"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """An outgoing webhook: JSON POST of events, optionally signed; no events listed means all."""

    id: int
    name: str
    url: str
    secret: str = field(default="", repr=False)
    events: tuple[str, ...] = ()
    enabled: bool = True

    def wants(self, event_type: str) -> bool:
        """Return True when this hook should receive events of this type."""
        return self.enabled and (not self.events or event_type in self.events)
