"""Plex through the REST API with the hub running: servers, library, live events, webhooks, MQTT, art."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container, build_container
from antenna.settings import load_settings
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.conftest import port_open, service_missing
from tests.outputs import Listener, Receiver, running_receiver
from tests.plexsim import FakePlayer, PlexSim


@pytest.fixture
def plex_container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    data = tmp_path / "data"
    data.mkdir()
    env = {"ANTENNA_DATABASE_URL": database_url, "ANTENNA_PLEX_POLL_SECONDS": "1"}
    container = build_container(load_settings(data, env))
    container.plex_hub.dispatcher._delays = (0.1, 0.2)  # fast retries; the schedule itself is unit tested
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def api(plex_container: Container) -> Iterator[TestClient]:
    key = AuthService(plex_container.secrets, plex_container.clock).api_key()
    with TestClient(create_app(plex_container), headers={"X-Api-Key": key}) as client:
        yield client


def wait_for(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def add_server(api: TestClient, sim: PlexSim, **extra: Any) -> dict[str, Any]:
    response = api.post("/api/plex/servers", json={"url": sim.url, "token": sim.token, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_wrong_token_and_unreachable_are_one_clear_message(api: TestClient, plexsim: PlexSim) -> None:
    wrong = api.post("/api/plex/servers", json={"url": plexsim.url, "token": "nope-token-123"})
    assert wrong.status_code == 400
    assert "rejected the token" in wrong.json()["error"]
    assert "nope-token-123" not in wrong.text
    down = api.post("/api/plex/servers", json={"url": "http://127.0.0.1:9", "token": "x"})
    assert down.status_code == 503
    assert "does not answer" in down.json()["error"]
    bad = api.post("/api/plex/servers", json={"url": "ftp://nas", "token": "x"})
    assert bad.status_code == 400
    assert api.get("/api/plex/servers").json() == []


def test_servers_library_watched_and_live_tv(api: TestClient, plexsim: PlexSim) -> None:
    server = add_server(api, plexsim, path_maps=["/home/me/tv=/srv/tv"])
    assert server["name"] == plexsim.name
    assert server["server"]["version"].startswith("1.43")
    assert "token" not in json.dumps(api.get("/api/plex/servers").json())
    assert api.post(f"/api/plex/servers/{server['id']}/test").json()["machine_id"] == plexsim.machine_id

    created = api.post(
        f"/api/plex/servers/{server['id']}/sections",
        json={"name": "Podcasts", "folder": "/home/me/tv/Podcasts"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["agent"] == "tv.plex.agents.nfo.series"
    assert created.json()["locations"] == ["/srv/tv/Podcasts"]

    show = "/home/me/tv/Night Shift"
    refreshed = api.post(f"/api/plex/servers/{server['id']}/refresh", json={"path": show}).json()
    assert refreshed == {"section": "TV Shows", "section_id": "1", "path": "/srv/tv/Night Shift"}
    assert plexsim.refresh_calls[-1] == ("1", "/srv/tv/Night Shift")
    assert api.post(f"/api/plex/servers/{server['id']}/sections/TV Shows/empty-trash").status_code == 200
    assert plexsim.empty_trash_calls == ["1"]

    files = [
        f"{show}/Season 01/Night Shift - S01E0{n} - {t}.mkv" for n, t in ((1, "Pilot"), (2, "Graveyard"))
    ]
    plexsim.mark_watched("4", account_id=2)  # alice watched E02
    plexsim.mark_watched("3")  # the owner watched E01
    rows = api.post(f"/api/plex/servers/{server['id']}/watched", json=files).json()
    assert [(r["found"], r["watched"]) for r in rows] == [(True, True), (True, False)]  # owner policy
    api.patch(f"/api/plex/servers/{server['id']}", json={"watched_policy": "any"})
    rows = api.post(f"/api/plex/servers/{server['id']}/watched", json=files).json()
    assert [r["watched"] for r in rows] == [True, True]
    api.patch(
        f"/api/plex/servers/{server['id']}",
        json={"watched_policy": "all_of", "watched_users": ["owner", "alice"]},
    )
    rows = api.post(f"/api/plex/servers/{server['id']}/watched", json=files).json()
    assert [r["watched"] for r in rows] == [False, False]
    assert rows[1]["watched_by"] == ["alice"]

    dvrs = api.get(f"/api/plex/servers/{server['id']}/dvrs").json()
    lineup = dvrs[0]["lineup"]
    assert dvrs[0]["devices"][0]["mappings"]
    channels = api.get(f"/api/plex/servers/{server['id']}/lineup-channels", params={"lineup": lineup}).json()
    assert {c["number"] for c in channels} >= {"101", "5.1"}
    mapping = api.get(
        f"/api/plex/servers/{server['id']}/channel-map",
        params={"lineup": lineup, "number": ["101", "5", "999"]},
    ).json()
    assert mapping["101"]["title"] == "News One"
    assert mapping["5"]["number"] == "5.1"
    assert mapping["999"] is None


def test_live_session_reaches_history_webhooks_mqtt_and_art(
    api: TestClient, plexsim: PlexSim, fake_player: FakePlayer
) -> None:
    if not port_open("127.0.0.1", 1883):
        service_missing("Mosquitto is not listening on 127.0.0.1:1883")
    prefix, discovery = f"t{uuid.uuid4().hex[:8]}", f"d{uuid.uuid4().hex[:8]}"
    with running_receiver() as receiver, Listener(f"{prefix}/#", f"{discovery}/#") as mqtt:
        hook = api.post(
            "/api/plex/webhooks", json={"name": "ha", "url": f"{receiver.base}/flaky", "secret": "k3y"}
        )
        assert hook.status_code == 201, hook.text
        assert "k3y" not in hook.text
        saved = api.put(
            "/api/plex/mqtt", json={"enabled": True, "topic_prefix": prefix, "discovery_prefix": discovery}
        )
        assert saved.json()["enabled"] is True
        plexsim.add_client(fake_player.machine_id, "Living Room TV", port=fake_player.port)
        server = add_server(api, plexsim)
        mqtt.expect(f"{prefix}/status", "online")
        _check_live(api, plexsim, fake_player, server["id"], receiver, mqtt, prefix, discovery)


def _check_live(
    api: TestClient,
    sim: PlexSim,
    player: FakePlayer,
    server_id: int,
    receiver: Receiver,
    mqtt: Listener,
    prefix: str,
    discovery: str,
) -> None:
    wait_for(
        lambda: api.get("/api/plex/status").json(), "the first poll"
    )  # sessions found then are not "play"
    placeholder = api.get(f"/plex/art/{server_id}/slot/1")
    assert placeholder.headers["X-Antenna-Art"] == "placeholder"

    key = sim.start_session("3", player.machine_id, user="alice")
    status = wait_for(
        lambda: [s for s in api.get("/api/plex/status").json() if s["active_sessions"] == 1], "the session"
    )[0]
    assert status["slots"][0]["now"]["title"] == "Night Shift : Pilot"
    events = wait_for(
        lambda: api.get("/api/plex/events", params={"type": "play"}).json()["events"], "history"
    )
    assert events[0]["user"] == "alice"

    posts = wait_for(lambda: receiver.paths("/flaky")[1:], "the retried webhook")
    body = json.loads(posts[0].body)
    assert body["type"] == "play"
    assert sim.token not in posts[0].body.decode()
    assert posts[0].headers["X-Antenna-Signature"].startswith("sha256=")
    hooks = wait_for(
        lambda: [h for h in api.get("/api/plex/webhooks").json() if h["last_status"].startswith("ok")],
        "status",
    )
    assert hooks[0]["last_delivery_at"]

    root = f"{prefix}/plexsim"
    state = json.loads(mqtt.get(lambda t, p, r: t == f"{root}/slot/1/state" and '"playing"' in p)[1])
    assert state["title"] == "Night Shift : Pilot"
    _topic, config, _retained = mqtt.get(lambda t, p, r: t.startswith(f"{discovery}/image/"))
    assert json.loads(config)["url_topic"].startswith(root)
    with Listener(f"{discovery}/image/#") as late:  # a subscriber that comes later still gets it: retained
        assert late.get(lambda t, p, r: r and t == _topic)[1] == config

    art = api.get(f"/plex/art/{server_id}/{player.machine_id}", params={"w": 100, "h": 150})
    assert art.headers["content-type"] == "image/jpeg"
    assert "X-Antenna-Art" not in art.headers

    sent = api.post(
        f"/api/plex/servers/{server_id}/clients/{player.machine_id}/command", json={"action": "pause"}
    )
    assert sent.json() == {"sent": "pause", "route": "direct"}
    assert player.commands[-1].path == "/player/playback/pause"

    sim.stop_session(key)
    wait_for(lambda: api.get("/api/plex/events", params={"type": "stop"}).json()["events"], "the stop event")

    test = api.post("/api/plex/test-event").json()
    assert test["type"] == "test"
    mqtt.get(lambda t, p, r: t == f"{prefix}/antenna/event" and '"test"' in p)


def test_inbound_plex_webhook(api: TestClient, plexsim: PlexSim, plex_container: Container) -> None:
    add_server(api, plexsim)
    wait_for(lambda: api.get("/api/plex/status").json(), "the first poll")
    payload = {
        "event": "library.new",
        "Server": {"uuid": plexsim.machine_id, "title": plexsim.name},
        "Metadata": {"ratingKey": "5", "title": "Daybreak"},
    }
    key = AuthService(plex_container.secrets, plex_container.clock).api_key()
    anonymous = {"X-Api-Key": ""}  # Plex cannot send headers: the key comes in the URL
    refused = api.post("/api/plex/webhook", data={"payload": json.dumps(payload)}, headers=anonymous)
    assert refused.status_code == 401
    accepted = api.post(
        f"/api/plex/webhook?key={key}", data={"payload": json.dumps(payload)}, headers=anonymous
    )
    assert accepted.json() == {"accepted": "library.new", "server": plexsim.name}
    added = wait_for(
        lambda: api.get("/api/plex/events", params={"type": "recently_added"}).json()["events"], "event"
    )
    assert added[0]["title"] == "Daybreak"
    garbage = api.post(f"/api/plex/webhook?key={key}", data={"payload": "{not json"}, headers=anonymous)
    assert garbage.status_code == 400
    assert "not JSON" in garbage.json()["error"]
