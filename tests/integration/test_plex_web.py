"""Plex page in-process: empty state, server/webhook/MQTT forms with field errors, test event, commands."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.plexsim import PlexSim
from tests.webclient import PASSWORD, htmx_headers


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    AuthService(container.secrets, container.clock).ensure_admin_password(PASSWORD)
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def hx(client: TestClient) -> dict[str, str]:
    """Log in and return the headers an HTMX request from the page sends."""
    return htmx_headers(client, "/plex")


def _errors(text: str) -> list[str]:
    return [html.unescape(e).strip() for e in re.findall(r'class="field-error"[^>]*>([^<]*)<', text)]


def _add_server(client: TestClient, hx: dict[str, str], sim: PlexSim, token: str) -> str:
    form = {"url": sim.url, "token": token, "name": "", "verify_tls": "on", "path_maps": ""}
    response = client.post("/plex/servers", data=form, headers=hx)
    assert response.status_code == 200, response.text
    return response.text


def test_page_without_servers_explains_the_next_step(client: TestClient, hx: dict[str, str]) -> None:
    page = client.get("/plex")
    assert page.status_code == 200
    text = page.text
    assert "Connect your Plex server" in text
    assert "X-Plex-Token" in text
    assert "antenna plex server add http://HOST:32400 --token TOKEN" in text
    assert "No events yet." in text
    assert 'sse-connect="/plex/live"' in text
    assert "Send test event" in text


def test_wrong_token_is_shown_next_to_the_token_field(
    client: TestClient, hx: dict[str, str], plexsim: PlexSim
) -> None:
    text = _add_server(client, hx, plexsim, "not-the-token")
    assert 'id="plex-token-error"' in text
    assert any("rejected the token" in e and "X-Plex-Token" in e for e in _errors(text))
    assert 'aria-describedby="plex-token-error"' in text
    assert plexsim.url in text  # the URL is kept for correcting
    assert "not-the-token" not in text  # the token is never sent back

    text = _add_server(client, hx, plexsim, plexsim.token)
    assert _errors(text) == []
    assert "Plexsim" in text  # named after the server
    assert 'hx-swap-oob="innerHTML"' in text  # the live blocks follow
    assert 'sse-swap="plex-server-1"' in text
    assert plexsim.token not in client.get("/plex").text


def test_bad_url_and_path_map_errors_sit_by_their_fields(client: TestClient, hx: dict[str, str]) -> None:
    form = {"url": "ftp://nowhere", "token": "t", "path_maps": ""}
    text = client.post("/plex/servers", data=form, headers=hx).text
    assert 'id="plex-url-error"' in text
    assert any("is not a Plex server URL" in e for e in _errors(text))

    form = {"url": "http://127.0.0.1:1", "token": "t", "path_maps": "/srv/media"}
    text = client.post("/plex/servers", data=form, headers=hx).text
    assert 'id="plex-maps-error"' in text
    assert any("LOCAL=SERVER" in e for e in _errors(text))


def test_forms_work_without_javascript(client: TestClient, hx: dict[str, str], plexsim: PlexSim) -> None:
    plain = {"X-CSRF-Token": hx["X-CSRF-Token"]}
    failed = client.post("/plex/servers", data={"url": plexsim.url, "token": "nope"}, headers=plain)
    assert failed.status_code == 400
    assert "<h1>Plex</h1>" in failed.text  # the whole page, with the error in place
    assert 'id="plex-token-error"' in failed.text
    added = client.post("/plex/servers", data={"url": plexsim.url, "token": plexsim.token}, headers=plain)
    assert added.status_code == 303
    assert added.headers["location"] == "/plex#plex-settings"


def test_server_can_be_tested_disabled_and_removed(
    client: TestClient, hx: dict[str, str], plexsim: PlexSim, container: Container
) -> None:
    _add_server(client, hx, plexsim, plexsim.token)
    tested = client.post("/plex/servers/1/test", headers=hx)
    assert "Connected to Plexsim" in tested.text

    toggled = client.post("/plex/servers/1/toggle", headers=hx).text
    assert ">Enable<" in toggled
    assert "Monitoring is off" in toggled
    assert container.plex.server(1).enabled is False

    removed = client.post("/plex/servers/1/delete", headers=hx).text
    assert container.plex.servers() == []
    assert "Connect your Plex server" in removed  # the empty state is back


def test_webhooks_are_added_without_echoing_the_secret_and_deleted(
    client: TestClient, hx: dict[str, str], container: Container
) -> None:
    bad = client.post("/plex/webhooks", data={"name": "ha", "url": "ftp://x"}, headers=hx).text
    assert 'id="hook-url-error"' in bad
    assert any("is not an http(s) URL" in e for e in _errors(bad))

    form = {
        "name": "ha",
        "url": "http://127.0.0.1:9/hook",
        "secret": "s3cret-value",
        "events": ["play", "stop"],
    }
    text = client.post("/plex/webhooks", data=form, headers=hx).text
    assert _errors(text) == []
    assert "http://127.0.0.1:9/hook" in text
    assert "play, stop" in text
    assert "s3cret-value" not in text
    assert "s3cret-value" not in client.get("/plex").text
    hook = container.plex_outputs.webhooks()[0]
    assert hook.has_secret

    text = client.post(f"/plex/webhooks/{hook.id}/delete", headers=hx).text
    assert "No webhooks yet" in text
    assert container.plex_outputs.webhooks() == []


def test_mqtt_bad_port_is_shown_next_to_the_port_field(
    client: TestClient, hx: dict[str, str], container: Container
) -> None:
    form = {"enabled": "", "host": "127.0.0.1", "port": "70000", "topic_prefix": "antenna"}
    form["discovery_prefix"] = "homeassistant"
    text = client.post("/plex/mqtt", data=form, headers=hx).text
    assert 'id="mqtt-port-error"' in text
    assert any("out of range" in e for e in _errors(text))
    assert 'value="70000"' in text

    text = client.post("/plex/mqtt", data={**form, "port": "eighteen"}, headers=hx).text
    assert any("is not a number" in e for e in _errors(text))

    text = client.post("/plex/mqtt", data={**form, "port": "1884", "password": "hunter2"}, headers=hx).text
    assert _errors(text) == []
    assert "Saved." in text
    assert "hunter2" not in text
    assert "set — leave blank to keep it" in text
    assert container.plex_outputs.mqtt().port == 1884
    assert container.plex_outputs.mqtt().password == "hunter2"
    client.post("/plex/mqtt", data={**form, "port": "1884", "password": ""}, headers=hx)
    assert container.plex_outputs.mqtt().password == "hunter2"  # blank keeps it


def test_test_event_appears_in_the_history(client: TestClient, hx: dict[str, str]) -> None:
    sent = client.post("/plex/test-event", headers=hx)
    assert "Sent a test event" in sent.text
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        table = client.get("/plex/events", headers=hx).text
        if 'data-type="test"' in table:
            break
        time.sleep(0.1)
    assert "Test event from Antenna" in table
    assert "No events yet" not in client.get("/plex/events?type=test", headers=hx).text.split("plex-empty")[0]
    filtered = client.get("/plex/events?type=play", headers=hx).text
    assert 'data-type="test"' not in filtered
    assert "No event matches these filters" in filtered
    assert "Test event from Antenna" not in client.get("/plex/events?q=zzz", headers=hx).text


def test_command_to_player_without_remote_control_says_why(
    client: TestClient, hx: dict[str, str], plexsim: PlexSim
) -> None:
    plexsim.add_client("kitchen-1", "Kitchen", capabilities="timeline")
    _add_server(client, hx, plexsim, plexsim.token)
    response = client.post("/plex/servers/1/clients/kitchen-1/command", data={"action": "pause"}, headers=hx)
    assert response.headers["HX-Retarget"] == "#flash"
    assert "Kitchen does not accept playback commands" in response.text
    assert "flash-error" in response.text
