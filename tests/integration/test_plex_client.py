"""PlexClient and the notification websocket against the fake PMS (tests/plexsim)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from PIL import Image

from antenna.clients import plex as plex_module
from antenna.clients.plex import PlexClient
from antenna.clients.plex_ws import Notification, notifications
from antenna.errors import NotFound, Unavailable, UserError
from antenna.plex.models import PlayerState
from tests.plexsim import FakePlayer, PlexSim
from tests.plexsim.pytest_plugin import EPISODES
from tests.support import free_port, self_signed_https

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(plexsim: PlexSim) -> Iterator[PlexClient]:
    """A client for the simulator, closed afterwards."""
    plex = PlexClient(plexsim.url, plexsim.token, timeout=5)
    try:
        yield plex
    finally:
        plex.close()


def tv_section(client: PlexClient) -> str:
    """Return the id of the seeded "TV Shows" section."""
    return next(s.id for s in client.sections() if s.title == "TV Shows")


def seed_show(plexsim: PlexSim, client: PlexClient) -> dict[str, str]:
    """Add show "Harbor" with three episodes to the TV section; return file -> rating key."""
    show = plexsim.add_show(tv_section(client), "Harbor", year=2020)
    out = {}
    for n in (1, 2, 3):
        file = f"/srv/tv/Harbor/Season 01/Harbor - S01E0{n} - Part {n}.mkv"
        out[file] = plexsim.add_episode(show, 1, n, f"Part {n}", file, duration_ms=1_800_000)
    return out


# ------------------------------------------------------------------------- server and errors


def test_info_reports_the_server(plexsim: PlexSim, client: PlexClient) -> None:
    info = client.info()
    assert info.name == plexsim.name
    assert info.machine_id == plexsim.machine_id
    assert info.version
    assert info.platform
    assert info.companion_proxy is True
    assert client.info() == info  # the cached connection answers again


def test_wrong_token_is_a_user_error_without_the_token(plexsim: PlexSim) -> None:
    bad = "wrong-token-" + "x" * 12
    plex = PlexClient(plexsim.url, bad)
    try:
        with pytest.raises(UserError, match="rejected the token") as caught:
            plex.info()
        assert not isinstance(caught.value, Unavailable)
        assert bad not in str(caught.value)
        assert "\n" not in caught.value.message
    finally:
        plex.close()


def test_unreachable_port_is_unavailable() -> None:
    plex = PlexClient(f"http://127.0.0.1:{free_port()}", "tok-12345", timeout=2)
    try:
        with pytest.raises(Unavailable, match="does not answer: connection refused"):
            plex.info()
        with pytest.raises(Unavailable):
            plex.sections()
    finally:
        plex.close()


def test_busy_server_is_unavailable_then_recovers(plexsim: PlexSim, client: PlexClient) -> None:
    client.info()
    plexsim.fail_next(1, status=503)
    with pytest.raises(Unavailable, match=r"starting or busy \(503\)"):
        client.sections()
    assert client.sections()


def test_busy_at_connect_is_unavailable(plexsim: PlexSim, client: PlexClient) -> None:
    plexsim.fail_next(1, status=503)
    with pytest.raises(Unavailable, match="starting or busy"):
        client.info()
    assert client.info().machine_id == plexsim.machine_id


def test_malformed_xml_is_unavailable(plexsim: PlexSim, client: PlexClient) -> None:
    client.info()
    plexsim.malformed_next(1)
    with pytest.raises(Unavailable, match="malformed XML"):
        client.sessions()
    assert client.sessions() == []


def test_snapshot_never_raises(plexsim: PlexSim, client: PlexClient) -> None:
    snap = client.snapshot(NOW)
    assert snap.info is not None
    assert snap.error == ""
    assert snap.taken_at == NOW
    assert snap.sessions == ()
    plexsim.stop()
    down = client.snapshot(NOW)
    assert down.info is None
    assert "does not answer" in down.error
    assert "\n" not in down.error


def test_snapshot_of_a_busy_server(plexsim: PlexSim, client: PlexClient) -> None:
    plexsim.fail_next(5, status=503)
    snap = client.snapshot(NOW)
    assert snap.info is None
    assert "starting or busy" in snap.error


# ------------------------------------------------------------------------- library


def test_sections_and_agents(client: PlexClient) -> None:
    sections = {s.title: s for s in client.sections()}
    assert sections["TV Shows"].type == "show"
    assert sections["TV Shows"].locations == ("/srv/tv",)
    assert sections["Movies"].type == "movie"
    assert sections["Movies"].locations == ("/srv/movies",)
    agents = client.agents(2)
    ids = {a.identifier for a in agents}
    assert "tv.plex.agents.nfo.series" in ids
    assert all(2 in a.media_types for a in agents)
    assert all(a.title for a in agents)


def test_create_section(client: PlexClient) -> None:
    made = client.create_section(
        "Anime", "/srv/anime", agent="tv.plex.agents.nfo.series", scanner="Plex TV Series"
    )
    assert made.title == "Anime"
    assert made.locations == ("/srv/anime",)
    assert made.agent == "tv.plex.agents.nfo.series"
    assert made.scanner == "Plex TV Series"
    assert made in client.sections()


def test_refresh_and_empty_trash(plexsim: PlexSim, client: PlexClient) -> None:
    section = tv_section(client)
    client.refresh(section)
    client.refresh(section, "/srv/tv/Night Shift")
    assert plexsim.refresh_calls[-2:] == [(section, None), (section, "/srv/tv/Night Shift")]
    client.empty_trash(section)
    assert plexsim.empty_trash_calls == [section]


def test_unknown_item_is_not_found(client: PlexClient) -> None:
    with pytest.raises(NotFound):
        client.delete_item("999999")


def test_episodes_by_files_with_watchers(plexsim: PlexSim, client: PlexClient) -> None:
    seeded = seed_show(plexsim, client)
    e1, e2, e3 = seeded
    key1, key2, _ = seeded.values()
    before = client.episodes_by_files([e1, e2, "/srv/tv/nope.mkv"])
    assert set(before) == {e1, e2}
    assert before[e1].rating_key == key1
    assert before[e1].view_count == 0
    assert before[e1].watched_by == ()
    plexsim.mark_watched(key1, account_id=1, viewed_at=NOW - timedelta(days=1))
    plexsim.mark_watched(key1, account_id=2, viewed_at=NOW)
    plexsim.mark_watched(key2, account_id=2, viewed_at=NOW)

    found = client.episodes_by_files([e1, e2, e3])
    assert found[e1].file == e1
    assert found[e1].title == "Harbor : Part 1"
    assert found[e1].view_count >= 1
    assert found[e1].last_viewed_at is not None
    assert found[e1].watched_by == ("alice", "owner")
    assert found[e2].watched_by == ("alice",)
    assert found[e3].view_count == 0
    assert found[e3].watched_by == ()
    assert client.episodes_by_files([]) == {}

    history = client.history(rating_key=key1)
    assert {(r.user, r.account_id) for r in history} == {("owner", 1), ("alice", 2)}
    assert all(r.rating_key == key1 for r in history)
    recent = client.history(mindate=NOW - timedelta(hours=1))
    assert {r.rating_key for r in recent} >= {key1, key2}
    assert len(client.history(maxresults=1)) == 1


def test_seeded_episodes_over_several_pages(
    plexsim: PlexSim, client: PlexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plex_module, "PAGE_SIZE", 2)
    seeded = [
        f"/srv/tv/Night Shift/Season 01/Night Shift - S01E{n:02d} - {title}.mkv"
        for n, title in enumerate(EPISODES, start=1)
    ]
    found = client.episodes_by_files(seeded)
    assert sorted(found) == sorted(seeded)
    assert found[seeded[0]].title == f"Night Shift : {EPISODES[0]}"
    pages = [
        path
        for _, path in plexsim.requests
        if path.startswith("/library/sections/") and path.endswith("/all")
    ]
    assert len(pages) == 2  # three episodes, two per page


def test_without_tls_verification(plexsim: PlexSim) -> None:
    plex = PlexClient(plexsim.url, plexsim.token, verify_tls=False)
    try:
        assert plex.info().machine_id == plexsim.machine_id
    finally:
        plex.close()


def test_delete_item(plexsim: PlexSim, client: PlexClient) -> None:
    seeded = seed_show(plexsim, client)
    file, key = next(iter(seeded.items()))
    client.delete_item(key)
    assert key in plexsim.deleted
    assert client.episodes_by_files([file]) == {}


# ------------------------------------------------------------------------- playback


def test_sessions_mapping(plexsim: PlexSim, client: PlexClient) -> None:
    key = seed_show(plexsim, client)["/srv/tv/Harbor/Season 01/Harbor - S01E01 - Part 1.mkv"]
    plexsim.add_client("player-9", "Bedroom TV", address="127.0.0.1", port=None)
    session_key = plexsim.start_session(key, "player-9", user="alice", view_offset=60_000, notify=False)
    [session] = client.sessions()
    assert session.session_key == session_key
    assert session.client_id == "player-9"
    assert session.state is PlayerState.PLAYING
    assert session.user == "alice"
    assert session.device_title == "Bedroom TV"
    assert session.transcode_decision == "direct play"
    now = session.now
    assert now.rating_key == key
    assert now.title == "Harbor : Part 1"
    assert now.item_title == "Part 1"
    assert now.media_type == "episode"
    assert now.grandparent_title == "Harbor"
    assert now.offset_ms == 60_000
    assert now.duration_ms == 1_800_000
    assert now.percent_complete == 3
    assert now.resolution == "1080p"
    assert now.thumb.startswith("/library/metadata/")
    assert plexsim.token not in repr(session)

    plexsim.update_session(session_key, state="paused", transcode=True, notify=False)
    [paused] = client.sessions()
    assert paused.state is PlayerState.PAUSED
    assert paused.transcode_decision == "transcode"
    assert client.transcode_count() == 1
    snap = client.snapshot(NOW)
    assert snap.transcode_sessions == 1
    assert len(snap.sessions) == 1
    plexsim.stop_session(session_key, notify=False)
    assert client.sessions() == []
    assert client.transcode_count() == 0


def test_clients_and_can_play(plexsim: PlexSim, client: PlexClient) -> None:
    assert client.clients() == []
    plexsim.add_client("player-1", "Living Room TV", port=1234)
    plexsim.add_client("speaker", "Kitchen", capabilities="timeline,mirror")
    clients = {c.machine_id: c for c in client.clients()}
    assert clients["player-1"].title == "Living Room TV"
    assert clients["player-1"].port == 1234
    assert clients["player-1"].can_play
    assert not clients["speaker"].can_play
    plexsim.remove_client("speaker")
    assert [c.machine_id for c in client.clients()] == ["player-1"]


def test_command_direct(plexsim: PlexSim, fake_player: FakePlayer, client: PlexClient) -> None:
    plexsim.add_client(fake_player.machine_id, "Living Room TV", port=fake_player.port)
    assert client.command(fake_player.machine_id, "pause") == "direct"
    assert client.command(fake_player.machine_id, "seek", 90_000) == "direct"
    assert client.command(fake_player.machine_id, "volume", 40) == "direct"
    paths = [c.path for c in fake_player.commands]
    assert paths[-3:] == [
        "/player/playback/pause",
        "/player/playback/seekTo",
        "/player/playback/setParameters",
    ]
    assert fake_player.commands[-2].params["offset"] == "90000"
    assert fake_player.commands[-1].params["volume"] == "40"
    assert plexsim.proxy_commands == []


def test_command_falls_back_to_the_proxy(
    plexsim: PlexSim, fake_player: FakePlayer, client: PlexClient
) -> None:
    pid = fake_player.machine_id
    plexsim.add_client(pid, "Living Room TV", port=fake_player.port)
    fake_player.fail_status = 500
    assert client.command(pid, "play") == "proxy"
    [proxied] = plexsim.proxy_commands
    assert proxied.path == "/player/playback/play"
    assert proxied.target == pid


def test_command_without_port_goes_through_the_proxy(plexsim: PlexSim, client: PlexClient) -> None:
    plexsim.add_client("no-port", "Phone", port=None)
    assert client.command("no-port", "stop") == "proxy"
    assert plexsim.proxy_commands[-1].path == "/player/playback/stop"
    assert plexsim.proxy_commands[-1].target == "no-port"


def test_command_errors(plexsim: PlexSim, client: PlexClient) -> None:
    plexsim.add_client("speaker", "Kitchen", capabilities="timeline,mirror")
    with pytest.raises(UserError, match="Kitchen does not accept playback commands"):
        client.command("speaker", "play")
    with pytest.raises(NotFound, match="Kitchen"):
        client.command("ghost", "play")
    with pytest.raises(UserError, match="skip_next"):
        client.command("speaker", "dance")
    with pytest.raises(UserError, match="needs a value"):
        client.command("speaker", "seek")


def test_image(plexsim: PlexSim, client: PlexClient) -> None:
    key = next(iter(seed_show(plexsim, client).values()))
    path = f"/library/metadata/{key}/thumb/1"
    data = client.image(path)
    assert data[:3] == b"\xff\xd8\xff"
    small = client.image(path, width=120, height=80)
    assert small[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(small)) as img:
        assert img.size == (120, 80)


def test_live_tv(client: PlexClient) -> None:
    [dvr] = client.dvrs()
    assert dvr.lineup.startswith("lineup://")
    assert dvr.devices
    assert dvr.devices[0].mappings
    channels = client.lineup_channels(dvr.lineup)
    numbers = {c.number for c in channels}
    assert "5.1" in numbers
    assert all(c.title for c in channels)


# ------------------------------------------------------------------------- websocket


async def _next(stream: AsyncGenerator[Notification, None]) -> Notification:
    return await asyncio.wait_for(anext(stream), timeout=5)


def test_notifications_stream(plexsim: PlexSim) -> None:
    async def scenario() -> list[Notification]:
        stream = notifications(plexsim.url, plexsim.token)
        got = []
        try:
            # The stream announces itself first, so callers know the websocket is live.
            assert await _next(stream) == Notification("connected", ())
            await asyncio.to_thread(plexsim.wait_websockets, 1)
            plexsim.push(
                {
                    "NotificationContainer": {
                        "type": "playing",
                        "size": 1,
                        "PlaySessionStateNotification": [
                            {"sessionKey": "1", "clientIdentifier": "p", "ratingKey": "3", "state": "playing"}
                        ],
                    }
                }
            )
            got.append(await _next(stream))
            plexsim.push("this is not json")
            got.append(await _next(stream))
            plexsim.push({"something": "else"})
            got.append(await _next(stream))
            plexsim.push({"NotificationContainer": {"type": "timeline", "TimelineEntry": [{"state": 5}]}})
            got.append(await _next(stream))
        finally:
            await stream.aclose()
        return got

    playing, garbage, foreign, timeline = asyncio.run(scenario())
    assert playing.type == "playing"
    assert playing.items[0]["ratingKey"] == "3"
    assert garbage.type == "invalid"
    assert "JSON" in garbage.error
    assert foreign.type == "invalid"
    assert "NotificationContainer" in foreign.error
    assert timeline == Notification("timeline", ({"state": 5},))


def test_notifications_drop_raises_unavailable(plexsim: PlexSim) -> None:
    async def scenario() -> None:
        stream = notifications(plexsim.url, plexsim.token)
        try:
            assert (await _next(stream)).type == "connected"
            await asyncio.to_thread(plexsim.wait_websockets, 1)
            plexsim.drop_websockets()
            await _next(stream)
        finally:
            await stream.aclose()

    with pytest.raises(Unavailable, match="closed the notification websocket"):
        asyncio.run(scenario())


def test_notifications_wrong_token_and_disabled(plexsim: PlexSim) -> None:
    async def first(token: str) -> Notification:
        stream = notifications(plexsim.url, token, open_timeout=3)
        try:
            return await _next(stream)
        finally:
            await stream.aclose()

    with pytest.raises(UserError, match="rejected the token") as caught:
        asyncio.run(first("wrong-token-abcdef"))
    assert not isinstance(caught.value, Unavailable)
    assert "wrong-token-abcdef" not in str(caught.value)
    plexsim.websocket_enabled = False
    with pytest.raises(Unavailable, match="503"):
        asyncio.run(first(plexsim.token))
    with pytest.raises(Unavailable, match="connection refused"):
        asyncio.run(notifications_to_dead_port())


async def notifications_to_dead_port() -> None:
    """Open a stream to a port nothing listens on."""
    stream = notifications(f"http://127.0.0.1:{free_port()}", "tok-12345", open_timeout=3)
    try:
        await _next(stream)
    finally:
        await stream.aclose()


# ------------------------------------------------------------------------- the token stays secret


def test_token_never_logged(
    plexsim: PlexSim, fake_player: FakePlayer, client: PlexClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("websockets", "websockets.client", "plexapi", "urllib3", "antenna"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    client.info()
    client.sections()
    client.sessions()
    plexsim.add_client(fake_player.machine_id, "Living Room TV", port=fake_player.port)
    client.command(fake_player.machine_id, "pause")
    key = next(iter(seed_show(plexsim, client).values()))
    client.image(f"/library/metadata/{key}/thumb/1", width=50, height=50)
    plexsim.fail_next(1, status=503)
    client.snapshot(NOW)

    async def ws() -> None:
        stream = notifications(plexsim.url, plexsim.token)
        try:
            assert (await _next(stream)).type == "connected"
            await asyncio.to_thread(plexsim.wait_websockets, 1)
            plexsim.push({"NotificationContainer": {"type": "status", "StatusNotification": [{}]}})
            assert (await _next(stream)).type == "status"
        finally:
            await stream.aclose()

    asyncio.run(ws())
    assert any(r.name.startswith("websockets") for r in caplog.records)
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "X-Plex-Token" in text or "GET" in text
    assert plexsim.token not in text


# ------------------------------------------------------------------------- TLS


class _RootHandler(BaseHTTPRequestHandler):
    """Answer GET / like a Plex server, for the TLS tests."""

    def do_GET(self) -> None:
        body = b'<MediaContainer friendlyName="tls" machineIdentifier="tls-1" version="1" platform="Linux"/>'
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[str]:
    """A self-signed HTTPS server on loopback answering GET /."""
    with self_signed_https(tmp_path, _RootHandler) as url:
        yield url


def test_self_signed_certificate(https_url: str) -> None:
    strict = PlexClient(https_url, "tok-12345", timeout=5)
    try:
        with pytest.raises(UserError, match="TLS check failed") as caught:
            strict.info()
        assert not isinstance(caught.value, Unavailable)
        assert "certificate verify failed" in caught.value.message
        assert "\n" not in caught.value.message
    finally:
        strict.close()
    # No InsecureRequestWarning either: pytest turns warnings into errors.
    relaxed = PlexClient(https_url, "tok-12345", verify_tls=False, timeout=5)
    try:
        assert relaxed.info().machine_id == "tls-1"
    finally:
        relaxed.close()
