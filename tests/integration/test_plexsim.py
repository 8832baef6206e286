"""PlexSim fidelity: python-plexapi drives every endpoint of the fake Plex server and fake player."""

from __future__ import annotations

import io
import json
import threading
from typing import Any
from xml.etree.ElementTree import ParseError

import httpx
import pytest
import websockets.sync.client as ws_client
from PIL import Image
from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.server import PlexServer
from websockets.exceptions import InvalidStatus

from tests.plexsim import Command, FakePlayer, PlexSim

EP1 = "3"  # Night Shift S01E01 in the seeded sim (show 1, season 2, episodes 3-5, movie 6)
MOVIE = "6"


@pytest.fixture
def plex(plexsim: PlexSim) -> PlexServer:
    """A plexapi server bound to the fake."""
    return PlexServer(plexsim.url, plexsim.token, timeout=5)


def test_server_attributes_and_identity(plexsim: PlexSim, plex: PlexServer) -> None:
    assert plex.friendlyName == "Plexsim"
    assert plex.version == "1.43.1.10611-1e34174b1"
    assert plex.machineIdentifier == "plexsim-0001"
    assert plex.platform == "Linux"
    assert plex.companionProxy
    assert plex.allowMediaDeletion
    assert plex.myPlex
    assert plex.transcoderActiveVideoSessions == 0
    plexsim.add_client("tv-1", "Bedroom")
    plexsim.start_session(EP1, "tv-1", transcode=True, notify=False)
    assert PlexServer(plexsim.url, plexsim.token).transcoderActiveVideoSessions == 1
    assert plex.identity().machineIdentifier == "plexsim-0001"


def test_token_is_required_everywhere(plexsim: PlexSim) -> None:
    with pytest.raises(Unauthorized):
        PlexServer(plexsim.url, "wrong-token")
    response = httpx.get(f"{plexsim.url}/library/sections")
    assert response.status_code == 401
    assert "<h1>401 Unauthorized</h1>" in response.text
    ok = httpx.get(f"{plexsim.url}/library/sections", params={"X-Plex-Token": plexsim.token})
    assert ok.status_code == 200
    assert ok.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="2"')
    with pytest.raises(InvalidStatus) as denied:
        ws_client.connect(plexsim.url.replace("http", "ws") + "/:/websockets/notifications")
    assert denied.value.response.status_code == 401


def test_library_sections_and_add(plexsim: PlexSim, plex: PlexServer) -> None:
    sections = plex.library.sections()
    assert [(s.key, s.title, s.type) for s in sections] == [(1, "TV Shows", "show"), (2, "Movies", "movie")]
    assert sections[0].locations == ["/srv/tv"]
    assert plex.isBrowsable("/srv/anime")
    plex.library.add("Anime", "show", "tv.plex.agents.nfo.series", "Plex TV Series", "/srv/anime")
    assert ("GET", "/services/browse/" + "L3Nydg==") in plexsim.requests
    assert ("POST", "/library/sections") in plexsim.requests
    anime = PlexServer(plexsim.url, plexsim.token).library.section("Anime")
    assert (anime.agent, anime.scanner, anime.locations) == (
        "tv.plex.agents.nfo.series",
        "Plex TV Series",
        ["/srv/anime"],
    )
    with pytest.raises(BadRequest, match="does not exist"):
        plex.library.add("Nope", "show", "tv.plex.agents.none", "Plex TV Series", "/nowhere/at/all")
    bad = httpx.post(f"{plexsim.url}/library/sections", params={"name": "x", "X-Plex-Token": plexsim.token})
    assert bad.status_code == 400


def test_browse_lists_folders_and_files(plexsim: PlexSim, plex: PlexServer) -> None:
    top = {p.path for p in plex.browse()}
    assert {"/srv", "/media", "/data"} <= top
    season = "/srv/tv/Night Shift/Season 01"
    listing = plex.browse(season)
    assert next(f.title for f in listing) == "Night Shift - S01E01 - Pilot.mkv"
    assert plex.isBrowsable(season)
    assert not plex.isBrowsable("/etc/passwd")


def test_refresh_empty_trash_recorded(plexsim: PlexSim, plex: PlexServer) -> None:
    tv = plex.library.section("TV Shows")
    tv.update(path="/srv/tv/Night Shift")
    tv.update()
    tv.cancelUpdate()
    tv.emptyTrash()
    assert plexsim.refresh_calls == [("1", "/srv/tv/Night Shift"), ("1", None)]
    assert ("DELETE", "/library/sections/1/refresh") in plexsim.requests
    assert plexsim.empty_trash_calls == ["1"]


def test_shows_episodes_watched_and_paging(plexsim: PlexSim, plex: PlexServer) -> None:
    tv = plex.library.section("TV Shows")
    show = tv.all()[0]
    assert (show.title, show.year, show.leafCount, show.viewedLeafCount) == ("Night Shift", 2021, 3, 0)
    episodes = show.episodes()
    assert [(e.seasonNumber, e.index, e.title) for e in episodes] == [
        (1, 1, "Pilot"),
        (1, 2, "Graveyard"),
        (1, 3, "Daybreak"),
    ]
    first = episodes[0]
    assert first.media[0].parts[0].file == "/srv/tv/Night Shift/Season 01/Night Shift - S01E01 - Pilot.mkv"
    assert first.media[0].videoResolution == "1080"
    assert (first.grandparentTitle, first.parentRatingKey, first.duration) == ("Night Shift", 2, 1_800_000)
    assert first.contentRating == "TV-PG"
    assert first.rating == 7.5
    assert first.librarySectionID == 1
    assert show.watched() == []
    plexsim.mark_watched(EP1)
    plexsim.mark_watched("4", account_id=2)  # alice: history only
    assert [e.ratingKey for e in show.watched()] == [3]
    assert plex.fetchItem(3).viewCount == 1
    assert plex.fetchItem(4).viewCount == 0
    plexsim.set_view_offset("5", 60_000)
    assert plex.fetchItem(5).viewOffset == 60_000
    before = len(plexsim.requests)
    paged = tv.search(libtype="episode", container_size=1)
    assert [e.ratingKey for e in paged] == [5, 4, 3]  # title order: Daybreak, Graveyard, Pilot
    assert len(plexsim.requests) - before == 3
    season = show.seasons()[0]
    assert (season.index, season.leafCount, [e.index for e in season.episodes()]) == (1, 3, [1, 2, 3])
    movies = plex.library.section("Movies").all()
    assert [(m.title, m.year, m.media[0].parts[0].file) for m in movies] == [
        ("Arrival Day", 2019, "/srv/movies/Arrival Day (2019)/Arrival Day (2019).mkv")
    ]


def test_scrobble_unscrobble_and_delete(plexsim: PlexSim, plex: PlexServer) -> None:
    episode = plex.fetchItem(3)
    episode.markPlayed()
    assert plex.fetchItem(3).viewCount == 1
    assert plexsim.scrobbles == [EP1]
    episode.markUnplayed()
    assert not plex.fetchItem(3).viewCount
    episode.delete()
    assert plexsim.deleted == [EP1]
    with pytest.raises(NotFound):
        plex.fetchItem(3)
    assert len(plex.library.section("TV Shows").all()[0].episodes()) == 2


def test_history_and_accounts(plexsim: PlexSim, plex: PlexServer) -> None:
    from datetime import datetime, timedelta

    now = datetime.now().replace(microsecond=0)
    plexsim.mark_watched(EP1, viewed_at=now - timedelta(days=2))
    plexsim.mark_watched("4", account_id=2, viewed_at=now - timedelta(days=1))
    plexsim.mark_watched(MOVIE, viewed_at=now)
    history = plex.history()
    assert [(h.ratingKey, h.accountID, h.type) for h in history] == [
        (6, 1, "movie"),
        (4, 2, "episode"),
        (3, 1, "episode"),
    ]
    assert history[1].grandparentTitle == "Night Shift"
    assert history[1].viewedAt == now - timedelta(days=1)
    assert [h.ratingKey for h in plex.history(accountID=2)] == [4]
    assert [h.ratingKey for h in plex.history(ratingKey=3)] == [3]
    assert [h.ratingKey for h in plex.history(librarySectionID=2)] == [6]
    assert [h.ratingKey for h in plex.history(mindate=now - timedelta(hours=36))] == [6, 4]
    assert len(plex.history(maxresults=2)) == 2
    assert [(a.id, a.name) for a in plex.systemAccounts()] == [(1, "owner"), (2, "alice")]


def test_sessions_and_transcode_sessions(plexsim: PlexSim, plex: PlexServer) -> None:
    assert plex.sessions() == []
    plexsim.add_client("tv-1", "Living Room TV", port=40000)
    plexsim.add_client("phone", "Alice Phone", product="Plex for iOS", platform="iOS")
    direct = plexsim.start_session(EP1, "tv-1", view_offset=120_000, notify=False)
    plexsim.start_session(MOVIE, "phone", user="alice", state="paused", transcode=True, notify=False)
    sessions = plex.sessions()
    assert [s.ratingKey for s in sessions] == [3, 6]
    episode, movie = sessions
    assert episode.usernames == ["owner"]
    assert movie.usernames == ["alice"]
    assert (episode.player.title, episode.player.state, episode.player.machineIdentifier) == (
        "Living Room TV",
        "playing",
        "tv-1",
    )
    assert (episode.viewOffset, episode.duration, episode.sessionKey) == (120_000, 1_800_000, int(direct))
    assert episode.session.location == "lan"
    assert episode.transcodeSession is None
    assert movie.player.state == "paused"
    assert movie.transcodeSession.videoDecision == "transcode"
    assert [t.videoDecision for t in plex.transcodeSessions()] == ["transcode"]
    plexsim.update_session(direct, state="paused", view_offset=130_000, notify=False)
    assert plex.sessions()[0].player.state == "paused"
    assert plex.sessions()[0].viewOffset == 130000
    plexsim.stop_session(direct, notify=False)  # dropped stop at 7%: no scrobble, resume point kept
    assert [s.ratingKey for s in plex.sessions()] == [6]
    assert plexsim.scrobbles == []
    assert plex.fetchItem(3).viewOffset == 130_000
    late = plexsim.start_session("4", "tv-1", view_offset=1_700_000, notify=False)
    plexsim.stop_session(late, notify=False)
    assert plexsim.scrobbles == ["4"]
    assert plex.fetchItem(4).viewCount == 1


def test_clients_direct_and_proxied_commands(
    plexsim: PlexSim, plex: PlexServer, fake_player: FakePlayer
) -> None:
    plexsim.add_client(fake_player.machine_id, fake_player.title, port=fake_player.port)
    plexsim.add_client("no-port", "Old Roku", product="Plex for Roku", platform="Roku")
    clients = plex.clients()
    assert [(c.title, c.machineIdentifier) for c in clients] == [
        ("Living Room TV", "player-1"),
        ("Old Roku", "no-port"),
    ]
    assert clients[1]._baseurl.endswith(":32500")
    client = plex.client("Living Room TV")
    assert "playback" in client.protocolCapabilities
    client.pause()
    assert fake_player.commands[-1].path == "/player/playback/pause"
    assert fake_player.commands[-1].params["type"] == "video"
    assert fake_player.commands[-1].target == "player-1"
    assert not client.isPlayingMedia()
    client.proxyThroughServer()
    client.play()
    assert plexsim.proxy_commands[-1] == Command(
        "/player/playback/play", {"type": "video", "commandID": "3"}, "player-1"
    )
    plexsim.start_session(EP1, "player-1", state="paused", view_offset=5000, notify=False)
    client._timeline_cache_timestamp = 0
    timeline = client.timeline
    assert timeline is not None
    assert (timeline.state, timeline.time, timeline.duration) == ("paused", 5000, 1800000)
    assert client.isPlayingMedia()
    assert not client.isPlayingMedia(includePaused=False)
    assert plexsim.proxy_commands[-1].path == "/player/timeline/poll"
    missing = httpx.get(f"{plexsim.url}/player/playback/stop", params={"X-Plex-Token": plexsim.token})
    assert missing.status_code == 400
    fake_player.fail_status = 500
    client.proxyThroughServer(False)
    with pytest.raises(BadRequest):
        client.stop()
    plexsim.remove_client("no-port")
    assert len(plex.clients()) == 1


def test_fake_player_resources_and_token() -> None:
    with FakePlayer("p9", "Den", token="tok") as player:
        resources = httpx.get(f"{player.url}/resources", headers={"X-Plex-Token": "tok"})
        assert 'machineIdentifier="p9"' in resources.text
        assert "protocolCapabilities" in resources.text
        assert httpx.get(f"{player.url}/resources").status_code == 401
        poll = httpx.get(
            f"{player.url}/player/timeline/poll", params={"X-Plex-Token": "tok", "commandID": "4"}
        )
        assert poll.text.count("<Timeline ") == 3
        assert 'state="stopped"' in poll.text


def test_agents(plexsim: PlexSim, plex: PlexServer) -> None:
    shows = {a.identifier: a for a in plex.agents("show")}
    assert {
        "tv.plex.agents.series",
        "tv.plex.agents.none",
        "com.plexapp.agents.none",
        "tv.plex.agents.nfo.series",
    } <= set(shows)
    assert shows["tv.plex.agents.series"].name == "Plex Series"
    assert shows["tv.plex.agents.nfo.series"].languageCodes == ["en"]
    every = {a.identifier: a for a in plex.agents()}
    assert [m.mediaType for m in every["com.plexapp.agents.none"].mediaTypes] == [2, 1]
    assert "tv.plex.agents.movie" in {a.identifier for a in plex.agents("movie")}
    with PlexSim(nfo_agent=False) as bare:
        ids = {a.identifier for a in PlexServer(bare.url, bare.token).agents("show")}
    assert "tv.plex.agents.nfo.series" not in ids


def test_live_tv(plexsim: PlexSim, plex: PlexServer) -> None:
    dvr = plex.query("/livetv/dvrs")[0]
    assert dvr.tag == "Dvr"
    assert dvr.attrib["lineupTitle"] == "Antenna XMLTV"
    device = dvr.find("Device")
    assert device is not None
    assert device.attrib["make"] == "Silicondust"
    assert [m.attrib["deviceIdentifier"] for m in device.findall("ChannelMapping")] == ["101", "102", "5.1"]
    plexsim.lineup_channels = [{"identifier": "7", "channelVcn": "7", "callSign": "SEVEN", "title": "Seven"}]
    lineup = plex.query(f"/livetv/epg/lineupchannels?lineup={dvr.attrib['lineup']}")
    assert [c.attrib["title"] for c in lineup.iter("Channel")] == ["Seven"]


def test_artwork_and_transcoded_images(plexsim: PlexSim, plex: PlexServer) -> None:
    episode = plex.fetchItem(3)
    thumb = httpx.get(plex.url(episode.thumb, includeToken=True))
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (300, 450)
    url = plex.transcodeImage(episode.thumbUrl, height=120, width=200)
    image = Image.open(io.BytesIO(httpx.get(url).content))
    assert (image.format, image.size) == ("JPEG", (200, 120))
    assert ("GET", "/photo/:/transcode") in plexsim.requests


def test_alert_listener_receives_notifications(plexsim: PlexSim, plex: PlexServer) -> None:
    received: list[dict[str, Any]] = []
    got_all = threading.Event()

    def on_message(data: dict[str, Any]) -> None:
        received.append(data)
        if len(received) == 4:
            got_all.set()

    listener = plex.startAlertListener(callback=on_message)
    try:
        plexsim.wait_websockets(1)
        plexsim.add_client("tv-1", "Living Room TV")
        key = plexsim.start_session(EP1, "tv-1", view_offset=1234)
        plexsim.push_timeline("9", "1", state=0, title="New Episode")
        plexsim.push_reachability(False)
        plexsim.push_statechange("tv-1", "disconnected")
        assert got_all.wait(5)
    finally:
        # Closing from the server side first: websocket-client's own close() races its reader thread,
        # which can then block in select() forever (seen ~1 in 3 runs).
        plexsim.drop_websockets()
        listener.join(5)
        listener.stop()
    assert not listener.is_alive()
    playing = received[0]["PlaySessionStateNotification"][0]
    assert received[0]["type"] == "playing"
    assert (playing["sessionKey"], playing["ratingKey"], playing["state"], playing["viewOffset"]) == (
        key,
        EP1,
        "playing",
        1234,
    )
    assert playing["clientIdentifier"] == "tv-1"
    assert playing["key"] == "/library/metadata/3"
    assert received[1]["TimelineEntry"][0]["metadataState"] == "created"
    assert received[2]["ReachabilityNotification"] == [{"reachability": False}]
    assert received[3]["type"] == "update.statechange"
    assert received[3]["StatusNotification"][0]["clientIdentifier"] == "tv-1"


def test_websocket_drop_disable_and_raw_push(plexsim: PlexSim) -> None:
    url = plexsim.url.replace("http", "ws") + f"/:/websockets/notifications?X-Plex-Token={plexsim.token}"
    with ws_client.connect(url) as ws:
        plexsim.wait_websockets(1)
        plexsim.push({"hello": 1})
        assert json.loads(ws.recv(timeout=5)) == {"hello": 1}
        key = plexsim.start_session(EP1, "tv-1")
        plexsim.stop_session(key)
        assert (
            json.loads(ws.recv(timeout=5))["NotificationContainer"]["PlaySessionStateNotification"][0][
                "state"
            ]
            == "playing"
        )
        stopped = json.loads(ws.recv(timeout=5))["NotificationContainer"]["PlaySessionStateNotification"][0]
        assert stopped["state"] == "stopped"
        plexsim.drop_websockets()
        with pytest.raises(Exception, match=r"1001|closed|Close"):
            ws.recv(timeout=5)
    assert plexsim.websocket_count() == 0
    with ws_client.connect(url, additional_headers={"X-Plex-Token": plexsim.token}):
        plexsim.wait_websockets(1)
    plexsim.websocket_enabled = False
    with pytest.raises(InvalidStatus) as refused:
        ws_client.connect(url)
    assert refused.value.response.status_code == 503
    with pytest.raises(TimeoutError):
        plexsim.wait_websockets(1, timeout=0.05)


def test_fail_next_and_malformed_next(plexsim: PlexSim, plex: PlexServer) -> None:
    plexsim.fail_next(2)
    with pytest.raises(BadRequest, match="503"):
        plex.sessions()
    with pytest.raises(BadRequest, match="503"):
        plex.sessions()
    assert plex.sessions() == []
    plexsim.malformed_next(1)
    with pytest.raises(ParseError):
        plex.query("/library/sections")
    assert len(plex.query("/library/sections")) == 2
