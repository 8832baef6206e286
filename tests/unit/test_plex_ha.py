"""The Home Assistant / MQTT message builders: topics, state payloads, discovery configs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antenna.plex import ha
from antenna.plex.models import (
    EventType,
    MqttConfig,
    NowPlaying,
    PlayerState,
    PlayerView,
    PlexEvent,
    ServerState,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CFG = MqttConfig(enabled=True, topic_prefix="antenna", discovery_prefix="homeassistant")
BASE = "http://antenna.local:8080"


def now(title: str = "Dune", key: str = "42") -> NowPlaying:
    return NowPlaying(
        rating_key=key, title=title, item_title=title, media_type="movie", duration_ms=1000, offset_ms=250
    )


def view(machine_id: str, state: PlayerState = PlayerState.PLAYING, playing: bool = True) -> PlayerView:
    return PlayerView(
        state=state,
        machine_id=machine_id,
        device_title=f"TV {machine_id}",
        product="Plex for Apple TV",
        can_play=True,
        now=now() if playing else None,
    )


def server(clients: tuple[PlayerView, ...] = (), slots: tuple[PlayerView, ...] = ()) -> ServerState:
    return ServerState(
        server_id=7,
        name="Living Room",
        connection="connected",
        updated_at=AT,
        version="1.40.0",
        platform="Linux",
        machine_id="abc",
        transcode_video_sessions=1,
        connected_clients=len(clients),
        active_sessions=len(slots),
        clients=clients,
        slots=slots,
    )


def by_topic(messages: list[ha.Message]) -> dict[str, tuple[str, bool]]:
    return {topic: (payload, retain) for topic, payload, retain in messages}


# slug and topics


def test_slug_examples() -> None:
    assert ha.slug("Living Room") == "living_room"
    assert ha.slug("  Wohnzimmer-Ö!! ") == "wohnzimmer_o"
    assert ha.slug("A1B2-c3d4") == "a1b2_c3d4"
    assert ha.slug("客厅").startswith("id_")
    assert ha.slug("客厅") != ha.slug("卧室")
    assert ha.slug("") == ha.slug("")
    assert len(ha.slug("x" * 500)) <= 64


def test_prefixes_are_cleaned() -> None:
    cfg = MqttConfig(topic_prefix="/home//antenna/+/", discovery_prefix="#")
    assert ha.status_topic(cfg) == "home/antenna/status"
    assert ha.topic_prefix(MqttConfig(topic_prefix="")) == "antenna"
    state = server(clients=(view("c1"),))
    assert all(t.startswith("homeassistant/") for t, _, _ in ha.discovery_messages(cfg, state))


def test_parse_command_topic() -> None:
    topic = ha.command_topic(CFG, "Living Room", "Client-1")
    assert topic == "antenna/living_room/client/client_1/command"
    assert ha.parse_command_topic(CFG, topic) == ("living_room", "client_1")
    assert ha.parse_command_topic(CFG, "antenna/living_room/client/client_1/state") is None
    assert ha.parse_command_topic(CFG, "other/living_room/client/client_1/command") is None
    assert ha.parse_command_topic(CFG, "antenna/living_room/client//command") is None
    assert ha.parse_command_topic(CFG, "antenna/Living Room/client/x/command") is None
    assert ha.parse_command_topic(CFG, "antenna/a/b/client/x/command") is None
    nested = MqttConfig(topic_prefix="home/antenna")
    assert ha.parse_command_topic(nested, ha.command_topic(nested, "S", "c")) == ("s", "c")
    assert ha.command_subscription(CFG) == "antenna/+/client/+/command"


# state


def test_state_messages_layout_and_payloads() -> None:
    state = server(
        clients=(view("c1"), view("c2", PlayerState.CONNECTED, playing=False)), slots=(view("c1"),)
    )
    messages = by_topic(ha.state_messages(CFG, state, base_url=BASE))
    assert all(retain for _, retain in messages.values())

    srv = json.loads(messages["antenna/living_room/state"][0])
    assert srv["connection"] == "connected"
    assert srv["name"] == "Living Room"
    assert srv["version"] == "1.40.0"
    assert srv["platform"] == "Linux"
    assert srv["transcode_video_sessions"] == 1
    assert srv["connected_clients"] == 2
    assert srv["active_sessions"] == 1

    c1 = json.loads(messages["antenna/living_room/client/c1/state"][0])
    assert c1["state"] == "playing"
    assert c1["title"] == "Dune"
    assert c1["progress"] == 25
    assert c1["now"]["percent_complete"] == 25
    assert c1["art_url"] == f"{BASE}/plex/art/7/c1?v=42"
    assert messages["antenna/living_room/client/c1/art_url"][0] == f"{BASE}/plex/art/7/c1?v=42"

    c2 = json.loads(messages["antenna/living_room/client/c2/state"][0])
    assert c2["state"] == "connected"
    assert (c2["title"], c2["progress"], c2["art_url"]) == ("", 0, "")
    assert messages["antenna/living_room/client/c2/art_url"][0] == f"{BASE}/plex/art/7/c2"

    slot = json.loads(messages["antenna/living_room/slot/1/state"][0])
    assert slot["slot"] == 1
    assert slot["machine_id"] == "c1"
    assert slot["title"] == "Dune"


def test_vanished_clients_and_slots_are_published_stopped() -> None:
    before = server(clients=(view("c1"), view("c2")), slots=(view("c1"), view("c2")))
    after = server(clients=(view("c1"),), slots=(view("c1"),))
    messages = by_topic(ha.state_messages(CFG, after, previous=before, base_url=BASE))

    gone_client = json.loads(messages["antenna/living_room/client/c2/state"][0])
    assert gone_client["state"] == "stopped"
    assert gone_client["now"] is None
    assert gone_client["title"] == ""
    assert gone_client["machine_id"] == "c2"

    gone_slot = json.loads(messages["antenna/living_room/slot/2/state"][0])
    assert gone_slot["state"] == "stopped"
    assert gone_slot["slot"] == 2
    assert gone_slot["progress"] == 0
    assert json.loads(messages["antenna/living_room/slot/1/state"][0])["state"] == "playing"
    assert "antenna/living_room/slot/3/state" not in messages

    # nothing vanished: no extra messages
    same = ha.state_messages(CFG, after, previous=after, base_url=BASE)
    assert len(same) == len(ha.state_messages(CFG, after, base_url=BASE))


def test_only_changed_skips_unchanged_retained_messages() -> None:
    messages = ha.state_messages(CFG, server(clients=(view("c1"),)), base_url=BASE)
    sent = {topic: payload for topic, payload, _ in messages}
    assert ha.only_changed(messages, sent) == []
    event = ha.event_message(CFG, PlexEvent(EventType.PLAY, 7, "Living Room", AT))
    assert ha.only_changed([event], {event[0]: event[1]}) == [event]


# events


def test_event_messages() -> None:
    event = PlexEvent(EventType.PLAY, 7, "Living Room", AT, client_id="c1", slot=1, user="ann", title="Dune")
    topic, payload, retain = ha.event_message(CFG, event)
    assert topic == "antenna/living_room/event"
    assert not retain
    assert json.loads(payload) == event.to_payload()

    client = ha.client_event_message(CFG, event)
    assert client is not None
    topic, payload, retain = client
    assert topic == "antenna/living_room/client/c1/event"
    assert not retain
    assert json.loads(payload)["event_type"] == "play"

    no_client = PlexEvent(EventType.SERVER_DOWN, 7, "Living Room", AT)
    assert ha.client_event_message(CFG, no_client) is None


# discovery


def discovery(state: ServerState) -> dict[str, dict[str, Any]]:
    return {
        topic: json.loads(payload) for topic, payload, _ in ha.discovery_messages(CFG, state, base_url=BASE)
    }


def test_discovery_configs() -> None:
    state = server(clients=(view("c1"),))
    messages = ha.discovery_messages(CFG, state, base_url=BASE)
    assert all(retain for _, _, retain in messages)
    configs = discovery(state)
    for topic, config in configs.items():
        assert re.fullmatch(
            r"homeassistant/(sensor|image|button|event)/antenna_living_room/[a-z0-9_]+/config", topic
        )
        assert config["availability_topic"] == "antenna/status"
        assert config["payload_available"] == "online"
        assert config["payload_not_available"] == "offline"
        assert isinstance(config["unique_id"], str)
        assert config["unique_id"].startswith("antenna_living_room_")
        assert "name" in config
        assert "device" in config
    unique_ids = [c["unique_id"] for c in configs.values()]
    assert len(unique_ids) == len(set(unique_ids))

    root = "homeassistant/sensor/antenna_living_room"
    connection = configs[f"{root}/connection/config"]
    assert connection["state_topic"] == "antenna/living_room/state"
    assert connection["device"] == {
        "identifiers": ["antenna_living_room"],
        "name": "Living Room",
        "manufacturer": "Plex",
        "model": "Plex Media Server",
        "sw_version": "1.40.0",
        "configuration_url": f"{BASE}/plex",
    }
    assert f"{root}/active_sessions/config" in configs
    assert configs[f"{root}/transcode_video_sessions/config"]["state_class"] == "measurement"

    client_state = configs[f"{root}/c1_state/config"]
    assert client_state["state_topic"] == "antenna/living_room/client/c1/state"
    assert client_state["value_template"] == "{{ value_json.state }}"
    device = client_state["device"]
    assert isinstance(device, dict)
    assert device["identifiers"] == ["antenna_living_room_c1"]
    assert device["via_device"] == "antenna_living_room"
    assert device["name"] == "TV c1"

    assert configs[f"{root}/c1_title/config"]["value_template"].startswith("{{ value_json.title")
    progress = configs[f"{root}/c1_progress/config"]
    assert (progress["unit_of_measurement"], progress["state_class"]) == ("%", "measurement")

    image = configs["homeassistant/image/antenna_living_room/c1_art/config"]
    assert image["url_topic"] == "antenna/living_room/client/c1/art_url"

    for command in ("play", "pause", "stop"):
        button = configs[f"homeassistant/button/antenna_living_room/c1_{command}/config"]
        assert button["command_topic"] == ha.command_topic(CFG, "Living Room", "c1")
        assert button["payload_press"] == command

    event = configs["homeassistant/event/antenna_living_room/c1_event/config"]
    assert event["state_topic"] == "antenna/living_room/client/c1/event"
    assert event["event_types"] == [t.value for t in EventType if t is not EventType.TEST]


def test_discovery_unique_ids_are_stable() -> None:
    first = discovery(server(clients=(view("c1"),)))
    playing_other = server(clients=(view("c1", PlayerState.PAUSED),), slots=(view("c1"),))
    second = discovery(playing_other)
    assert first.keys() == second.keys()
    assert [c["unique_id"] for c in first.values()] == [c["unique_id"] for c in second.values()]


def test_discovery_off() -> None:
    assert ha.discovery_messages(MqttConfig(discovery=False), server(clients=(view("c1"),))) == []


# properties

SAFE_LEVEL = re.compile(r"[^/+#\x00]+")
names = st.text(max_size=40)


def assert_topic_safe(topic: str) -> None:
    levels = topic.split("/")
    assert all(SAFE_LEVEL.fullmatch(level) for level in levels), topic


@given(names)
def test_slug_is_always_topic_safe(text: str) -> None:
    out = ha.slug(text)
    assert out
    assert re.fullmatch(r"[a-z0-9_]+", out)
    assert ha.slug(text) == out


@given(
    prefix=names,
    disc_prefix=names,
    server_name=names,
    client_ids=st.lists(names, max_size=3),
    slots=st.integers(min_value=0, max_value=3),
)
def test_every_topic_is_safe(
    prefix: str, disc_prefix: str, server_name: str, client_ids: list[str], slots: int
) -> None:
    cfg = MqttConfig(topic_prefix=prefix, discovery_prefix=disc_prefix)
    clients = tuple(view(cid) for cid in client_ids if cid)
    state = ServerState(7, server_name, "connected", AT, clients=clients, slots=clients[:slots])
    previous = ServerState(7, server_name, "connected", AT, clients=(view("gone"),), slots=(view("x"),) * 4)
    messages = ha.state_messages(cfg, state, previous=previous, base_url=BASE)
    messages += ha.discovery_messages(cfg, state, base_url=BASE)
    for cid in client_ids:
        event = PlexEvent(EventType.PLAY, 7, server_name, AT, client_id=cid)
        messages.append(ha.event_message(cfg, event))
        client = ha.client_event_message(cfg, event)
        if client is not None:
            messages.append(client)
        command = ha.command_topic(cfg, server_name, cid)
        assert_topic_safe(command)
        assert ha.parse_command_topic(cfg, command) == (ha.slug(server_name), ha.slug(cid))
    for topic, payload, _ in messages:
        assert_topic_safe(topic)
        if topic.endswith(("/config", "/state")):
            json.loads(payload)
