"""The live monitor against plexsim: scripted websocket sequences, missed stops, websocket loss, bad input."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from antenna.clients.plex import PlexClient
from antenna.clients.plex_ws import notifications
from antenna.plex.models import PlexEvent, ServerConfig, ServerState
from antenna.plex.monitor import ServerMonitor
from tests.plexsim import PlexSim

EPISODE = "3"  # Night Shift S01E01 in the seeded plexsim


class Running:
    """A ServerMonitor on its own event loop in a thread, with everything it reported."""

    def __init__(self, sim: PlexSim, *, poll: float, token: str | None = None) -> None:
        self.config = ServerConfig(id=1, name="Sim", url=sim.url, token=token or sim.token)
        self.client = PlexClient(self.config.url, self.config.token, timeout=5)
        self.events: list[PlexEvent] = []
        self.states: list[ServerState] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self.monitor = ServerMonitor(
            self.config,
            self.client,
            lambda c: notifications(c.url, c.token),
            self._listen,
            clock=lambda: datetime.now(UTC),
            poll_seconds=poll,
            backoff=(0.1, 0.2),
        )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._task: asyncio.Task[None] | None = None

    def _listen(self, state: ServerState, events: list[PlexEvent]) -> None:
        with self._lock:
            self.states.append(state)
            self.events.extend(events)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self.monitor.run())
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    def start(self) -> Running:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)
        self.client.close()

    def types(self) -> list[str]:
        with self._lock:
            return [e.type.value for e in self.events]

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; events so far: {self.types()}")

    def wait_events(self, *expected: str, timeout: float = 10.0) -> None:
        """Wait for these events in order; players coming and going are ignored unless expected."""
        with_clients = any(e.startswith("client_") for e in expected)

        def seen() -> list[str]:
            return [t for t in self.types() if with_clients or not t.startswith("client_")]

        self.wait(lambda: seen()[: len(expected)] == list(expected), f"events {expected}", timeout)

    @property
    def state(self) -> ServerState:
        with self._lock:
            return self.states[-1]


@pytest.fixture
def watch(plexsim: PlexSim) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(poll: float = 30.0, token: str | None = None, websocket: bool = True) -> Running:
        running = Running(plexsim, poll=poll, token=token).start()
        started.append(running)
        running.wait(lambda: bool(running.states), "the first poll")
        if websocket:
            running.wait(lambda: running.monitor.websocket, "the websocket")
        return running

    yield start
    for running in started:
        running.stop()


def test_play_pause_buffer_resume_stop_by_websocket(plexsim: PlexSim, watch: Callable[..., Running]) -> None:
    plexsim.add_client("tv-1", "Living Room")
    running = watch()  # a 30 s poll: everything below must come through the websocket
    key = plexsim.start_session(EPISODE, "tv-1", user="alice")
    running.wait_events("play")
    plexsim.update_session(key, state="paused", view_offset=60_000)
    running.wait_events("play", "pause")
    plexsim.update_session(key, state="buffering")
    plexsim.update_session(key, state="playing")
    running.wait_events("play", "pause", "buffer")
    plexsim.update_session(key, state="paused")
    plexsim.update_session(key, state="playing")
    running.wait_events("play", "pause", "buffer", "pause", "resume")
    plexsim.stop_session(key)
    running.wait_events("play", "pause", "buffer", "pause", "resume", "stop")
    play = running.events[0]
    assert play.user == "alice"
    assert play.slot == 1
    assert play.title == "Night Shift : Pilot"
    assert play.client_id == "tv-1"
    assert running.state.active_sessions == 0
    assert running.monitor.polls <= 3  # the first poll, one after connecting, one to fetch the new session


def test_progress_updates_and_watched(plexsim: PlexSim, watch: Callable[..., Running]) -> None:
    running = watch()
    key = plexsim.start_session(EPISODE, "tv-9")
    running.wait_events("play")
    plexsim.update_session(key, view_offset=900_000)
    running.wait(lambda: running.state.slots and running.state.slots[0].now.offset_ms == 900_000, "offset")
    assert running.state.slots[0].now.percent_complete == 50
    plexsim.update_session(key, view_offset=1_700_000)
    running.wait_events("play", "watched")


def test_a_dropped_stop_is_caught_by_the_reconcile_poll(
    plexsim: PlexSim, watch: Callable[..., Running]
) -> None:
    running = watch(poll=0.3)
    key = plexsim.start_session(EPISODE, "tv-1")
    running.wait_events("play")
    plexsim.stop_session(key, notify=False)
    running.wait_events("play", "stop")
    stop = next(e for e in running.events if e.type.value == "stop")
    assert stop.data["reason"] == "stopped"


def test_websocket_loss_falls_back_to_polling_and_recovers(
    plexsim: PlexSim, watch: Callable[..., Running]
) -> None:
    running = watch(poll=0.3)
    plexsim.websocket_enabled = False
    plexsim.drop_websockets()
    running.wait(lambda: not running.monitor.websocket, "the websocket to be noticed down")
    key = plexsim.start_session(EPISODE, "tv-1", notify=False)
    running.wait_events("play")  # seen by polling alone
    plexsim.websocket_enabled = True
    running.wait(lambda: running.monitor.websocket, "the websocket to come back")
    plexsim.update_session(key, state="paused")
    running.wait_events("play", "pause")


def test_garbage_on_the_websocket_is_counted_and_skipped(
    plexsim: PlexSim, watch: Callable[..., Running]
) -> None:
    running = watch()
    plexsim.push("this is not json")
    plexsim.push({"unexpected": True})
    running.wait(lambda: running.monitor.bad_messages == 2, "two bad messages")
    plexsim.start_session(EPISODE, "tv-1")
    running.wait_events("play")
    assert running.monitor.websocket


def test_server_restarting_goes_down_and_up(plexsim: PlexSim, watch: Callable[..., Running]) -> None:
    running = watch(poll=0.2, websocket=False)
    plexsim.fail_next(4, 503)
    running.wait_events("server_down", "server_up")
    assert "starting or busy" in running.events[0].data["reason"]


def test_malformed_xml_is_reported_and_the_monitor_keeps_going(
    plexsim: PlexSim, watch: Callable[..., Running]
) -> None:
    running = watch(poll=0.2, websocket=False)
    plexsim.malformed_next(4)
    running.wait_events("server_down", "server_up")
    assert "malformed XML" in running.events[0].data["reason"]


def test_recently_added_from_timeline(plexsim: PlexSim, watch: Callable[..., Running]) -> None:
    running = watch()
    plexsim.push_timeline("4", "1", state=5, title="Graveyard")
    plexsim.push_timeline("4", "1", state=5, title="Graveyard")  # Plex repeats itself; we do not
    running.wait_events("recently_added")
    time.sleep(0.2)
    assert running.types() == ["recently_added"]
    assert running.events[0].title == "Graveyard"


def test_wrong_token_is_unauthorized_and_never_logged(
    plexsim: PlexSim, watch: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-token-4f2a9c"
    running = watch(poll=0.2, token=secret, websocket=False)
    running.wait(lambda: running.monitor.websocket_error != "", "the websocket refusal")
    assert running.state.connection == "unauthorized"
    assert "rejected the token" in running.monitor.websocket_error
    time.sleep(0.5)
    assert secret not in caplog.text
    assert all(secret not in str(e.to_payload()) for e in running.events)


def test_clients_connect_and_disconnect_on_statechange(
    plexsim: PlexSim, watch: Callable[..., Running]
) -> None:
    running = watch()
    plexsim.add_client("tv-2", "Bedroom")
    plexsim.push_statechange("tv-2", "connected")
    running.wait_events("client_connected")
    plexsim.remove_client("tv-2")
    plexsim.push_statechange("tv-2", "disconnected")
    running.wait_events("client_connected", "client_disconnected")


def test_transcode_decision_change(plexsim: PlexSim, watch: Callable[..., Running]) -> None:
    running = watch(poll=0.3)
    key = plexsim.start_session(EPISODE, "tv-1")
    running.wait_events("play")
    plexsim.update_session(key, transcode=True)  # the notification carries no decision; the poll sees it
    running.wait_events("play", "transcode_changed")
    assert running.state.transcode_video_sessions == 1
