"""Pure Plex decisions: live state, events between states, agents, path maps, watched policy, channel maps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.plex import plan
from antenna.plex.models import (
    Agent,
    Client,
    EpisodeWatch,
    EventType,
    LineupChannel,
    NowPlaying,
    PathMap,
    PlayerState,
    ServerInfo,
    ServerState,
    Session,
    Snapshot,
    WatchedPolicy,
)

T0 = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
INFO = ServerInfo(name="Den", version="1.43.1", platform="Linux", machine_id="pms1")


def now_playing(offset: int = 0, duration: int = 1_000_000, key: str = "10") -> NowPlaying:
    return NowPlaying(
        rating_key=key,
        title="Night Shift : Pilot",
        item_title="Pilot",
        media_type="episode",
        grandparent_title="Night Shift",
        thumb="/library/metadata/10/thumb/1",
        grandparent_thumb="/library/metadata/1/thumb/1",
        duration_ms=duration,
        offset_ms=offset,
    )


def session(
    key: str = "1", client: str = "tv", state: PlayerState = PlayerState.PLAYING, **kw: object
) -> Session:
    values: dict[str, object] = {
        "session_key": key,
        "client_id": client,
        "state": state,
        "user": "alice",
        "device_title": f"Player {client}",
        "product": "Plex for Android (TV)",
        "platform": "Android",
        "address": "10.0.0.5",
        "now": now_playing(),
    }
    values.update(kw)
    return Session(**values)  # type: ignore[arg-type]


def snap(
    *sessions: Session, clients: tuple[Client, ...] = (), at: datetime = T0, up: bool = True
) -> Snapshot:
    return Snapshot(
        taken_at=at,
        info=INFO if up else None,
        sessions=sessions,
        clients=clients,
        error="" if up else "Plex at http://x does not answer",
    )


def state_of(
    snapshot: Snapshot, previous: ServerState | None = None, order: tuple[str, ...] = ()
) -> ServerState:
    return plan.build_state(1, "Den", snapshot, previous, slot_order=order)


def kinds(previous: ServerState | None, current: ServerState) -> list[str]:
    return [e.type.value for e in plan.derive_events(previous, current, T0)]


TV = Client(
    "tv", "Living Room", "Plex for Android (TV)", "Android", "10.0.0.5", 32500, ("timeline", "playback")
)


def test_first_poll_gives_state_but_no_events() -> None:
    state = state_of(snap(session(), clients=(TV,)))
    assert state.connection == "connected"
    assert state.active_sessions == 1
    assert state.connected_clients == 1
    assert state.clients[0].state == PlayerState.PLAYING
    assert state.clients[0].can_play
    assert state.slots[0].now is not None
    assert state.slots[0].now.title == "Night Shift : Pilot"
    assert kinds(None, state) == []


def test_play_pause_resume_buffer_stop_sequence() -> None:
    idle = state_of(snap(clients=(TV,)))
    playing = state_of(snap(session(), clients=(TV,)), idle)
    assert kinds(idle, playing) == ["play"]
    paused = state_of(snap(session(state=PlayerState.PAUSED), clients=(TV,)), playing)
    assert kinds(playing, paused) == ["pause"]
    resumed = state_of(snap(session(), clients=(TV,)), paused)
    assert kinds(paused, resumed) == ["resume"]
    buffering = state_of(snap(session(state=PlayerState.BUFFERING), clients=(TV,)), resumed)
    assert kinds(resumed, buffering) == ["buffer"]
    stopped = state_of(snap(clients=(TV,)), buffering)
    assert kinds(buffering, stopped) == ["stop"]
    assert stopped.clients[0].state == PlayerState.STOPPED


def test_watched_fires_once_when_crossing_ninety_percent() -> None:
    a = state_of(snap(session(now=now_playing(offset=850_000))))
    b = state_of(snap(session(now=now_playing(offset=905_000))), a)
    c = state_of(snap(session(now=now_playing(offset=950_000))), b)
    assert kinds(a, b) == ["watched"]
    assert kinds(b, c) == []


def test_transcode_decision_change() -> None:
    a = state_of(snap(session()))
    b = state_of(snap(session(transcode_decision="transcode")), a)
    events = plan.derive_events(a, b, T0)
    assert [e.type for e in events] == [EventType.TRANSCODE_CHANGED]
    assert events[0].data["previous_decision"] == "direct play"


def test_server_down_ends_sessions_as_unreachable_and_comes_back_up() -> None:
    a = state_of(snap(session(), clients=(TV,)))
    down = state_of(snap(up=False, at=T0 + timedelta(seconds=20)), a)
    assert down.connection == "disconnected"
    assert down.error
    assert down.clients[0].state == PlayerState.DISCONNECTED
    events = plan.derive_events(a, down, T0)
    assert [e.type.value for e in events] == ["server_down", "stop"]
    assert events[1].data["reason"] == "server unreachable"
    up = state_of(snap(clients=(TV,)), down)
    assert kinds(down, up) == ["server_up", "client_connected"]


def test_wrong_token_is_unauthorized_not_down() -> None:
    state = state_of(
        Snapshot(taken_at=T0, info=None, error="Plex at x rejected the token (401 Unauthorized)")
    )
    assert state.connection == "unauthorized"


def test_clients_connect_and_disconnect() -> None:
    a = state_of(snap())
    b = state_of(snap(clients=(TV,)), a)
    c = state_of(snap(), b)
    assert kinds(a, b) == ["client_connected"]
    assert kinds(b, c) == ["client_disconnected"]
    assert c.clients[0].state == PlayerState.DISCONNECTED
    assert c.connected_clients == 0


def test_slots_keep_first_seen_order() -> None:
    first = session("7", client="a")
    second = session("3", client="b")
    order = plan.next_slot_order((), [first])
    order = plan.next_slot_order(order, [second, first])
    state = state_of(snap(second, first), order=order)
    assert [s.session_key for s in state.slots] == ["7", "3"]
    order = plan.next_slot_order(order, [second])
    assert order == ("3",)


def test_apply_notification_updates_offset_and_state_or_asks_for_a_poll() -> None:
    base = snap(session())
    moved = plan.apply_notification(base, [{"sessionKey": "1", "state": "paused", "viewOffset": 5000}], T0)
    assert moved is not None
    assert moved.sessions[0].state == PlayerState.PAUSED
    assert moved.sessions[0].now.offset_ms == 5000
    stopped = plan.apply_notification(base, [{"sessionKey": "1", "state": "stopped"}], T0)
    assert stopped is not None
    assert stopped.sessions == ()
    assert plan.apply_notification(base, [{"sessionKey": "99", "state": "playing"}], T0) is None


def test_recently_added_only_processed_items() -> None:
    items = [
        {"itemID": "5", "sectionID": "1", "type": 4, "state": 5, "title": "Pilot"},
        {"itemID": "6", "sectionID": "1", "type": 4, "state": 5, "metadataState": "queued"},
        {"itemID": "7", "sectionID": "1", "type": 4, "state": 0},
        {"itemID": "8", "sectionID": "1", "type": 3, "state": 5},
    ]
    assert plan.recently_added(items) == [("5", "1", "Pilot")]


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        (
            ["tv.plex.agents.series", "tv.plex.agents.nfo.series", "com.plexapp.agents.none"],
            "tv.plex.agents.nfo.series",
        ),
        (
            ["tv.plex.agents.series", "com.plexapp.agents.none", "tv.plex.agents.none"],
            "com.plexapp.agents.none",
        ),
        (["tv.plex.agents.series", "tv.plex.agents.none"], "tv.plex.agents.none"),
        (["tv.plex.agents.series"], None),
    ],
)
def test_pick_show_agent(offered: list[str], expected: str | None) -> None:
    choice = plan.pick_show_agent([Agent(a, a) for a in offered])
    assert (choice[0] if choice else None) == expected


def test_map_path_longest_prefix_both_ways() -> None:
    maps = (PathMap("/srv/media", "/data"), PathMap("/srv/media/tv", "/tv"), PathMap("/mnt/win", "D:\\Media"))
    assert plan.map_path("/srv/media/tv/Show/e1.mkv", maps, to_server=True) == "/tv/Show/e1.mkv"
    assert plan.map_path("/srv/media/movies/m.mkv", maps, to_server=True) == "/data/movies/m.mkv"
    assert plan.map_path("/srv/mediax/a", maps, to_server=True) == "/srv/mediax/a"
    assert plan.map_path("/mnt/win/TV/a.mkv", maps, to_server=True) == "D:\\Media\\TV\\a.mkv"
    assert plan.map_path("D:\\Media\\TV\\a.mkv", maps, to_server=False) == "/mnt/win/TV/a.mkv"
    assert plan.map_path("/tv/Show", maps, to_server=False) == "/srv/media/tv/Show"


@given(st.lists(st.text(alphabet="abc_-. ", min_size=1, max_size=6), min_size=1, max_size=4))
def test_map_path_round_trips(parts: list[str]) -> None:
    parts = [p.strip() or "x" for p in parts]
    maps = (PathMap("/srv/media", "/data/media"),)
    local = "/srv/media/" + "/".join(parts)
    server = plan.map_path(local, maps, to_server=True)
    assert server.startswith("/data/media/")
    assert plan.map_path(server, maps, to_server=False) == local


def _episode(view_count: int, *watched_by: str) -> EpisodeWatch:
    return EpisodeWatch("1", "Pilot", "/tv/a.mkv", view_count, 0, None, watched_by=watched_by)


def test_watched_policies() -> None:
    owner_only = _episode(1)
    alice_only = _episode(0, "alice")
    both = _episode(1, "owner", "alice")
    assert plan.is_watched(owner_only, WatchedPolicy.OWNER, (), "owner")
    assert not plan.is_watched(alice_only, WatchedPolicy.OWNER, (), "owner")
    assert plan.is_watched(alice_only, WatchedPolicy.ANY, (), "owner")
    assert not plan.is_watched(_episode(0), WatchedPolicy.ANY, (), "owner")
    assert plan.is_watched(both, WatchedPolicy.ALL_OF, ("Alice", "owner"), "owner")
    assert not plan.is_watched(alice_only, WatchedPolicy.ALL_OF, ("alice", "bob"), "owner")
    assert not plan.is_watched(both, WatchedPolicy.ALL_OF, (), "owner")


def test_best_channel_map() -> None:
    channels = [
        LineupChannel("k1", "i1", "101", "News One"),
        LineupChannel("k2", "i2", "5.1", "Local Five"),
        LineupChannel("k3", "i3", "7.1", "Seven A"),
        LineupChannel("k4", "i4", "7.2", "Seven B"),
    ]
    found = plan.best_channel_map(["101", "5", "7", "999"], channels)
    assert found["101"] is not None
    assert found["101"].key == "k1"
    assert found["5"] is not None
    assert found["5"].key == "k2"
    assert found["7"] is None
    assert found["999"] is None


def test_art_path_prefers_show_poster_for_episodes() -> None:
    now = now_playing()
    assert plan.art_path(now) == "/library/metadata/1/thumb/1"
    assert plan.art_path(now, "thumb") == "/library/metadata/10/thumb/1"
    assert (
        plan.art_path(replace(now, grandparent_art=""), "grandparent_art") == "/library/metadata/10/thumb/1"
    )
    assert plan.art_path(None) == ""
    with pytest.raises(ValueError, match="unknown art kind"):
        plan.art_path(now, "banner")


def test_percent_complete_bounds() -> None:
    assert now_playing(offset=500, duration=1000).percent_complete == 50
    assert now_playing(offset=5000, duration=1000).percent_complete == 100
    assert replace(now_playing(), duration_ms=None).percent_complete == 0
