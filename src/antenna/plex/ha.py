"""Pure builders of the MQTT messages Antenna publishes for Plex: state, events and Home Assistant discovery.

Topic layout (``<p>`` is the topic prefix, ``<s>`` the server slug, ``<c>`` the client slug):

    <p>/status                            online/offline, retained (the bridge's last will)
    <p>/<s>/state                         server JSON, retained
    <p>/<s>/event                         every event's JSON, not retained
    <p>/<s>/client/<c>/state              client JSON, retained
    <p>/<s>/client/<c>/art_url            URL of the client's current art, retained
    <p>/<s>/client/<c>/event              {"event_type": ...} for HA's event entity, not retained
    <p>/<s>/client/<c>/command            play / pause / stop, written by HA's buttons
    <p>/<s>/slot/<n>/state                slot JSON, retained
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from antenna.plex.models import EventType, MqttConfig, PlayerState, PlayerView, PlexEvent, ServerState

Message = tuple[str, str, bool]  # (topic, payload, retain)

ONLINE = "online"
OFFLINE = "offline"
COMMANDS = ("play", "pause", "stop")
EVENT_TYPES = tuple(t.value for t in EventType if t is not EventType.TEST)

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 64


def slug(text: str) -> str:
    """Return a lowercase a-z0-9_ id for topics and HA ids; never empty, stable for the same text."""
    folded = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    out = _NOT_SLUG.sub("_", ascii_only).strip("_")[:_MAX_SLUG].strip("_")
    if out:
        return out
    # names made only of symbols or non-Latin script still need a distinct, stable id
    return "id_" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _clean_prefix(prefix: str, default: str) -> str:
    """Return a prefix with no empty levels and no wildcard or NUL characters."""
    levels = [re.sub(r"[+#\x00]", "", level).strip() for level in prefix.split("/")]
    kept = [level for level in levels if level]
    return "/".join(kept) or default


def topic_prefix(cfg: MqttConfig) -> str:
    """Return the configured topic prefix, made safe."""
    return _clean_prefix(cfg.topic_prefix, "antenna")


def status_topic(cfg: MqttConfig) -> str:
    """Return the availability topic (the MQTT publisher's last-will topic)."""
    return f"{topic_prefix(cfg)}/status"


def server_topic(cfg: MqttConfig, server_name: str) -> str:
    """Return the topic root of one server."""
    return f"{topic_prefix(cfg)}/{slug(server_name)}"


def client_topic(cfg: MqttConfig, server_name: str, client_id: str) -> str:
    """Return the topic root of one client of a server."""
    return f"{server_topic(cfg, server_name)}/client/{slug(client_id)}"


def command_topic(cfg: MqttConfig, server_name: str, client_id: str) -> str:
    """Return the topic HA's buttons write play/pause/stop to."""
    return f"{client_topic(cfg, server_name, client_id)}/command"


def command_subscription(cfg: MqttConfig) -> str:
    """Return the wildcard subscription that covers every command topic."""
    return f"{topic_prefix(cfg)}/+/client/+/command"


def parse_command_topic(cfg: MqttConfig, topic: str) -> tuple[str, str] | None:
    """Return (server_slug, client_slug) for a command topic, None for any other topic."""
    head = topic_prefix(cfg) + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 4 or parts[1] != "client" or parts[3] != "command":
        return None
    server, client = parts[0], parts[2]
    if not server or not client or slug(server) != server or slug(client) != client:
        return None
    return server, client


def art_url(base_url: str, server_id: int, client_id: str, view: PlayerView | None = None) -> str:
    """Return the stable art URL Antenna serves for a client; the item's key busts caches when it changes."""
    url = f"{base_url.rstrip('/')}/plex/art/{server_id}/{quote(client_id, safe='')}"
    if view is not None and view.now is not None and view.now.rating_key:
        url += f"?v={quote(view.now.rating_key, safe='')}"
    return url


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str)


def _view_payload(view: PlayerView, art: str, **extra: Any) -> dict[str, Any]:
    """Return PlayerView.to_dict() plus the flat keys templates want: title, progress, art_url."""
    data = view.to_dict()
    data["title"] = view.now.title if view.now is not None else ""
    data["progress"] = view.now.percent_complete if view.now is not None else 0
    data["art_url"] = art
    data.update(extra)
    return data


def _stopped(view: PlayerView) -> PlayerView:
    """Return what a vanished client or slot is shown as: stopped, identity kept, nothing playing."""
    return PlayerView(
        state=PlayerState.STOPPED,
        machine_id=view.machine_id,
        device_title=view.device_title,
        product=view.product,
    )


def _always(topic: str, view: PlayerView) -> bool:
    return True


def state_messages(
    cfg: MqttConfig,
    state: ServerState,
    *,
    previous: ServerState | None = None,
    base_url: str = "",
    changed: Callable[[str, PlayerView], bool] = _always,
) -> list[Message]:
    """Return the retained state messages of a server, its clients and slots, stopping vanished ones.

    `changed(topic, view)` lets a caller skip building payloads for views it already published.
    """
    root = server_topic(cfg, state.name)
    server = {
        "server_id": state.server_id,
        "name": state.name,
        "connection": state.connection,
        "version": state.version,
        "platform": state.platform,
        "transcode_video_sessions": state.transcode_video_sessions,
        "connected_clients": state.connected_clients,
        "active_sessions": state.active_sessions,
        # No updated_at: it would change with every progress tick and re-publish an unchanged server.
    }
    messages: list[Message] = [(f"{root}/state", _json(server), True)]

    seen: set[str] = set()
    for view in state.clients:
        if not view.machine_id or view.machine_id in seen:
            continue
        seen.add(view.machine_id)
        base = client_topic(cfg, state.name, view.machine_id)
        if not changed(f"{base}/state", view):
            continue
        art = art_url(base_url, state.server_id, view.machine_id, view)
        messages.append((f"{base}/state", _json(_view_payload(view, art if view.now else "")), True))
        messages.append((f"{base}/art_url", art, True))

    for number, view in enumerate(state.slots, start=1):
        if not changed(f"{root}/slot/{number}/state", view):
            continue
        art = (
            art_url(base_url, state.server_id, view.machine_id, view) if view.machine_id and view.now else ""
        )
        messages.append((f"{root}/slot/{number}/state", _json(_view_payload(view, art, slot=number)), True))

    if previous is not None:
        for view in previous.clients:
            if view.machine_id and view.machine_id not in seen:
                seen.add(view.machine_id)
                base = client_topic(cfg, state.name, view.machine_id)
                messages.append((f"{base}/state", _json(_view_payload(_stopped(view), "")), True))
        for number in range(len(state.slots) + 1, len(previous.slots) + 1):
            gone = _stopped(previous.slots[number - 1])
            messages.append(
                (f"{root}/slot/{number}/state", _json(_view_payload(gone, "", slot=number)), True)
            )
    return messages


def only_changed(messages: list[Message], sent: Mapping[str, str]) -> list[Message]:
    """Return non-retained messages and retained ones whose payload differs from what was last sent."""
    return [m for m in messages if not m[2] or sent.get(m[0]) != m[1]]


def event_message(cfg: MqttConfig, event: PlexEvent) -> Message:
    """Return the server-wide, non-retained event message."""
    return (f"{server_topic(cfg, event.server_name)}/event", _json(event.to_payload()), False)


def client_event_message(cfg: MqttConfig, event: PlexEvent) -> Message | None:
    """Return the message for the client's HA event entity, None when the event has no client."""
    if not event.client_id:
        return None
    payload = {
        "event_type": event.type.value,
        "title": event.title,
        "user": event.user,
        "slot": event.slot,
        "at": event.at.isoformat(),
    }
    return (f"{client_topic(cfg, event.server_name, event.client_id)}/event", _json(payload), False)


def discovery_messages(cfg: MqttConfig, state: ServerState, *, base_url: str = "") -> list[Message]:
    """Return retained Home Assistant discovery configs: one device per server, one per client."""
    if not cfg.discovery:
        return []
    disc = _clean_prefix(cfg.discovery_prefix, "homeassistant")
    server = slug(state.name)
    node = f"antenna_{server}"
    root = server_topic(cfg, state.name)
    common = {
        "availability_topic": status_topic(cfg),
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "origin": {"name": "Antenna"},
    }
    server_device: dict[str, Any] = {
        "identifiers": [node],
        "name": state.name or "Plex server",
        "manufacturer": "Plex",
        "model": "Plex Media Server",
    }
    if state.version:
        server_device["sw_version"] = state.version
    if base_url:
        server_device["configuration_url"] = f"{base_url.rstrip('/')}/plex"

    messages: list[Message] = []

    def add(component: str, object_id: str, config: dict[str, Any]) -> None:
        payload = {**common, **config, "unique_id": f"{node}_{object_id}"}
        messages.append((f"{disc}/{component}/{node}/{object_id}/config", _json(payload), True))

    server_state = f"{root}/state"
    add(
        "sensor",
        "connection",
        {
            "name": "Connection",
            "state_topic": server_state,
            "value_template": "{{ value_json.connection }}",
            "icon": "mdi:plex",
            "device": server_device,
        },
    )
    for key, label in (("active_sessions", "Active sessions"), ("transcode_video_sessions", "Transcodes")):
        add(
            "sensor",
            key,
            {
                "name": label,
                "state_topic": server_state,
                "value_template": f"{{{{ value_json.{key} }}}}",
                "state_class": "measurement",
                "device": server_device,
            },
        )

    seen: set[str] = set()
    for view in state.clients:
        if not view.machine_id or view.machine_id in seen:
            continue
        seen.add(view.machine_id)
        client = slug(view.machine_id)
        base = client_topic(cfg, state.name, view.machine_id)
        device: dict[str, Any] = {
            "identifiers": [f"{node}_{client}"],
            "name": view.device_title or view.product or view.machine_id,
            "manufacturer": "Plex",
            "via_device": node,
        }
        if view.product:
            device["model"] = view.product
        client_state = f"{base}/state"
        add(
            "sensor",
            f"{client}_state",
            {
                "name": "State",
                "state_topic": client_state,
                "value_template": "{{ value_json.state }}",
                "device_class": "enum",
                "options": [s.value for s in PlayerState],
                "json_attributes_topic": client_state,
                "device": device,
            },
        )
        add(
            "sensor",
            f"{client}_title",
            {
                "name": "Title",
                "state_topic": client_state,
                # HA refuses sensor states longer than 255 characters
                "value_template": "{{ value_json.title[:255] }}",
                "icon": "mdi:filmstrip",
                "device": device,
            },
        )
        add(
            "sensor",
            f"{client}_progress",
            {
                "name": "Progress",
                "state_topic": client_state,
                "value_template": "{{ value_json.progress }}",
                "unit_of_measurement": "%",
                "state_class": "measurement",
                "device": device,
            },
        )
        add("image", f"{client}_art", {"name": "Art", "url_topic": f"{base}/art_url", "device": device})
        for command in COMMANDS:
            add(
                "button",
                f"{client}_{command}",
                {
                    "name": command.capitalize(),
                    "command_topic": f"{base}/command",
                    "payload_press": command,
                    "icon": f"mdi:{command}",
                    "device": device,
                },
            )
        add(
            "event",
            f"{client}_event",
            {
                "name": "Event",
                "state_topic": f"{base}/event",
                "event_types": list(EVENT_TYPES),
                "device": device,
            },
        )
    return messages
