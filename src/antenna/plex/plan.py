"""Pure Plex decisions: live state, events between states, agents, path maps, watched, channel maps."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from antenna.errors import UserError
from antenna.plex.models import (
    Agent,
    EpisodeWatch,
    EventType,
    LineupChannel,
    NowPlaying,
    PathMap,
    PlayerState,
    PlayerView,
    PlexEvent,
    ServerState,
    Session,
    Snapshot,
    WatchedPolicy,
)

WATCHED_PERCENT = (
    90  # Plex itself scrobbles at 90 %; Tautulli's 85 % would disagree with Plex's own watched flag
)
ACTIVE = (PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.BUFFERING)


def build_state(
    server_id: int,
    name: str,
    snapshot: Snapshot,
    previous: ServerState | None,
    *,
    websocket: bool = False,
    slot_order: Sequence[str] = (),
) -> ServerState:
    """Turn one poll into the server's live state; clients seen before and now gone become disconnected."""
    if snapshot.info is None:
        return _down_state(server_id, name, snapshot, previous, websocket=websocket)
    sessions = _ordered(snapshot.sessions, slot_order)
    slots = tuple(_session_view(s, snapshot) for s in sessions)
    by_client: dict[str, PlayerView] = {}
    for client in snapshot.clients:
        by_client[client.machine_id] = PlayerView(
            state=PlayerState.CONNECTED,
            machine_id=client.machine_id,
            address=client.address,
            port=client.port,
            device_title=client.title,
            product=client.product,
            can_play=client.can_play,
        )
    for view in slots:
        known = by_client.get(view.machine_id)
        by_client[view.machine_id] = replace(
            view, port=view.port or (known.port if known else None), can_play=bool(known and known.can_play)
        )
    for old in previous.clients if previous else ():
        current = by_client.get(old.machine_id)
        if current is None:
            by_client[old.machine_id] = replace(
                old, state=PlayerState.DISCONNECTED, now=None, session_key="", transcode_decision=""
            )
        elif current.state == PlayerState.CONNECTED and old.state in (*ACTIVE, PlayerState.STOPPED):
            # Still there but nothing plays any more: "stopped" until it disconnects, as players report it.
            by_client[old.machine_id] = replace(current, state=PlayerState.STOPPED)
    clients = tuple(sorted(by_client.values(), key=lambda v: (v.device_title.lower(), v.machine_id)))
    info = snapshot.info
    return ServerState(
        server_id=server_id,
        name=name,
        connection="connected",
        updated_at=snapshot.taken_at,
        version=info.version,
        platform=info.platform,
        machine_id=info.machine_id,
        transcode_video_sessions=max(snapshot.transcode_sessions, info.transcoder_active_video_sessions),
        connected_clients=sum(1 for c in clients if c.state != PlayerState.DISCONNECTED),
        active_sessions=len(slots),
        websocket=websocket,
        clients=clients,
        slots=slots,
    )


def _down_state(
    server_id: int, name: str, snapshot: Snapshot, previous: ServerState | None, *, websocket: bool
) -> ServerState:
    unauthorized = "token" in snapshot.error.lower() and "401" in snapshot.error
    clients = tuple(
        replace(c, state=PlayerState.DISCONNECTED, now=None, session_key="", transcode_decision="")
        for c in (previous.clients if previous else ())
    )
    return ServerState(
        server_id=server_id,
        name=name,
        connection="unauthorized" if unauthorized else "disconnected",
        updated_at=snapshot.taken_at,
        version=previous.version if previous else "",
        platform=previous.platform if previous else "",
        machine_id=previous.machine_id if previous else "",
        websocket=websocket,
        error=snapshot.error,
        clients=clients,
    )


def _ordered(sessions: Iterable[Session], slot_order: Sequence[str]) -> list[Session]:
    # Slot N is the Nth session by first appearance, so a player keeps its slot while others come and go.
    rank = {key: index for index, key in enumerate(slot_order)}
    return sorted(sessions, key=lambda s: (rank.get(s.session_key, len(rank)), _int(s.session_key)))


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _session_view(session: Session, snapshot: Snapshot) -> PlayerView:
    return PlayerView(
        state=session.state,
        machine_id=session.client_id,
        address=session.address,
        port=session.port,
        user=session.user,
        device_title=session.device_title,
        product=session.product,
        session_key=session.session_key,
        transcode_decision=session.transcode_decision,
        now=session.now,
    )


def next_slot_order(previous: Sequence[str], sessions: Iterable[Session]) -> tuple[str, ...]:
    """Return the first-seen order of the sessions still active, new ones appended."""
    keys = [s.session_key for s in sessions]
    kept = [key for key in previous if key in keys]
    return (*kept, *(key for key in keys if key not in kept))


def apply_notification(
    snapshot: Snapshot, items: Iterable[Mapping[str, Any]], now: datetime
) -> Snapshot | None:
    """Apply `playing` notifications to the last poll; None when a session is unknown (poll instead)."""
    sessions = {s.session_key: s for s in snapshot.sessions}
    for item in items:
        key = str(item.get("sessionKey", ""))
        session = sessions.get(key)
        if session is None:
            return None
        state = str(item.get("state", ""))
        if state == PlayerState.STOPPED.value:
            del sessions[key]
            continue
        offset = _offset(item.get("viewOffset"))
        now_playing = session.now if offset is None else replace(session.now, offset_ms=offset)
        sessions[key] = replace(session, state=PlayerState.from_plex(state), now=now_playing)
    return replace(snapshot, sessions=tuple(sessions.values()), taken_at=now)


def _offset(value: Any) -> int | None:
    # Notifications are JSON from the network: NaN, Infinity, negative or huge numbers must not break us.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and math.isfinite(value) and 0 <= value < 10**12:
        return int(value)
    return None


def derive_events(previous: ServerState | None, current: ServerState, now: datetime) -> list[PlexEvent]:
    """Return the events that explain the change from previous to current (none on the very first poll)."""
    if previous is None:
        return []
    events: list[PlexEvent] = []

    def emit(kind: EventType, view: PlayerView | None = None, slot: int | None = None, **data: Any) -> None:
        now_playing = view.now if view else None
        payload: dict[str, Any] = {**data}
        if view is not None:
            payload.update(
                state=view.state.value,
                device=view.device_title,
                product=view.product,
                session_key=view.session_key,
                transcode_decision=view.transcode_decision,
            )
        if now_playing is not None:
            payload["now_playing"] = now_playing.to_dict()
        events.append(
            PlexEvent(
                type=kind,
                server_id=current.server_id,
                server_name=current.name,
                at=now,
                client_id=view.machine_id if view else "",
                slot=slot,
                user=view.user if view else "",
                title=now_playing.title if now_playing else (view.device_title if view else ""),
                data=payload,
            )
        )

    was_up, is_up = previous.connection == "connected", current.connection == "connected"
    if was_up and not is_up:
        emit(EventType.SERVER_DOWN, reason=current.error)
    elif is_up and not was_up:
        emit(EventType.SERVER_UP, version=current.version)

    old_sessions = {v.session_key: v for v in previous.slots}
    new_sessions = {v.session_key: (index + 1, v) for index, v in enumerate(current.slots)}
    for key, old in old_sessions.items():
        if key not in new_sessions:
            missed = (
                is_up  # the server answered, so the session really ended; when it is down we just lost sight
            )
            emit(EventType.STOP, old, reason="stopped" if missed else "server unreachable")
    for key, (slot, view) in new_sessions.items():
        old_view = old_sessions.get(key)
        if old_view is None:
            emit(EventType.PLAY, view, slot)
            if view.state == PlayerState.PAUSED:
                emit(EventType.PAUSE, view, slot)
            elif view.state == PlayerState.BUFFERING:
                emit(EventType.BUFFER, view, slot)
            continue
        if view.state != old_view.state:
            if view.state == PlayerState.PAUSED:
                emit(EventType.PAUSE, view, slot)
            elif view.state == PlayerState.BUFFERING:
                emit(EventType.BUFFER, view, slot)
            elif view.state == PlayerState.PLAYING and old_view.state == PlayerState.PAUSED:
                emit(EventType.RESUME, view, slot)
        if view.transcode_decision != old_view.transcode_decision:
            emit(EventType.TRANSCODE_CHANGED, view, slot, previous_decision=old_view.transcode_decision)
        old_percent = old_view.now.percent_complete if old_view.now else 0
        new_percent = view.now.percent_complete if view.now else 0
        if old_percent < WATCHED_PERCENT <= new_percent:
            emit(EventType.WATCHED, view, slot, percent=new_percent)

    old_clients = {c.machine_id: c for c in previous.clients}
    for client in current.clients:
        before = old_clients.get(client.machine_id)
        was_connected = before is not None and before.state != PlayerState.DISCONNECTED
        now_connected = client.state != PlayerState.DISCONNECTED
        if now_connected and not was_connected and is_up:
            emit(EventType.CLIENT_CONNECTED, client)
        elif was_connected and not now_connected and is_up:
            emit(EventType.CLIENT_DISCONNECTED, client)
    return events


def recently_added(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """Return (item id, section id, title) of movies, shows and episodes Plex finished processing."""
    found = []
    for item in items:
        # Timeline state 5 = processed; metadataState is set while Plex is still matching.
        if (
            str(item.get("state")) == "5"
            and str(item.get("type")) in {"1", "2", "4"}
            and not item.get("metadataState")
        ):
            found.append(
                (str(item.get("itemID", "")), str(item.get("sectionID", "")), str(item.get("title", "")))
            )
    return found


SHOW_AGENTS = (
    ("tv.plex.agents.nfo.series", "Plex TV Series"),
    ("com.plexapp.agents.none", "Plex Series Scanner"),
    ("tv.plex.agents.none", "Plex Series Scanner"),
)


def pick_show_agent(agents: Iterable[Agent]) -> tuple[str, str] | None:
    """Return (agent, scanner) for a TV section of local files: Plex NFO Series, else Personal Media Shows."""
    offered = {agent.identifier for agent in agents}
    for identifier, scanner in SHOW_AGENTS:
        if identifier in offered:
            return identifier, scanner
    return None


def _norm(path: str) -> tuple[str, str]:
    sep = "\\" if "\\" in path and "/" not in path else "/"
    return path.rstrip("/\\") or sep, sep


def map_path(path: str, maps: Iterable[PathMap], *, to_server: bool) -> str:
    """Translate a path between Antenna's view and the server's by the longest matching prefix."""
    best: tuple[int, str] | None = None
    for mapping in maps:
        source, target = (mapping.local, mapping.server) if to_server else (mapping.server, mapping.local)
        prefix, source_sep = _norm(source)
        candidate = path.replace("\\", "/") if source_sep == "/" else path.replace("/", "\\")
        if candidate == prefix or candidate.startswith(prefix.rstrip(source_sep) + source_sep):
            rest = candidate[len(prefix) :].lstrip("/\\")
            base, target_sep = _norm(target)
            parts = [p for p in re.split(r"[\\/]", rest) if p]
            mapped = target_sep.join([base.rstrip("/\\") or "", *parts]) if parts else base
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), mapped)
    return best[1] if best else path


def parse_path_map(text: str) -> PathMap:
    """Parse 'LOCAL=SERVER' (e.g. '/srv/media=/data/media') into a PathMap."""
    local, sep, server = text.partition("=")
    if not sep or not local.strip() or not server.strip():
        raise UserError(f"Path map {text!r} is not LOCAL=SERVER.", "Example: /srv/media=/data/media")
    return PathMap(local=local.strip(), server=server.strip())


def is_watched(episode: EpisodeWatch, policy: WatchedPolicy, users: Sequence[str], owner: str) -> bool:
    """Decide whether an episode counts as watched under the policy (users named as in history)."""
    watched_by = {u.lower() for u in episode.watched_by}
    if episode.view_count > 0:
        watched_by.add(owner.lower())
    if policy == WatchedPolicy.OWNER:
        return episode.view_count > 0
    if policy == WatchedPolicy.ANY:
        return bool(watched_by)
    wanted = {u.lower() for u in users}
    return bool(wanted) and wanted <= watched_by


def best_channel_map(
    numbers: Sequence[str], channels: Sequence[LineupChannel]
) -> dict[str, LineupChannel | None]:
    """Map each channel number to a lineup channel: exact, else the only one with that major number."""
    exact = {c.number: c for c in channels}
    by_major: dict[str, list[LineupChannel]] = {}
    for channel in channels:
        by_major.setdefault(channel.number.split(".")[0], []).append(channel)
    result: dict[str, LineupChannel | None] = {}
    for number in numbers:
        if number in exact:
            result[number] = exact[number]
            continue
        candidates = by_major.get(number.split(".")[0], [])
        result[number] = candidates[0] if len(candidates) == 1 else None
    return result


ART_KINDS = ("poster", "art", "thumb", "parent_thumb", "grandparent_art", "grandparent_thumb")


def art_path(now: NowPlaying | None, kind: str = "poster") -> str:
    """Return the server image path for a kind of art (fallback thumb, then art); "" if nothing plays."""
    if now is None:
        return ""
    if kind not in ART_KINDS:
        raise ValueError(f"unknown art kind {kind!r}; choose one of {', '.join(ART_KINDS)}")
    if kind == "poster":
        wanted = now.grandparent_thumb if now.media_type == "episode" else now.thumb
    else:
        wanted = getattr(now, kind)
    return str(wanted or now.thumb or now.art or "")
