"""MqttPublisher and the HA message builders against the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import json
import os
import queue
import selectors
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from antenna.clients.mqtt import MqttPublisher
from antenna.plex import ha
from antenna.plex.models import MqttConfig, NowPlaying, PlayerState, PlayerView, ServerState
from tests.conftest import port_open, service_missing
from tests.outputs import HOST, PORT, WAIT, Listener, wait_until
from tests.support import free_port

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(autouse=True)
def _broker() -> None:
    if not port_open(HOST, PORT):
        service_missing(f"Mosquitto is not listening on {HOST}:{PORT}")


@pytest.fixture
def cfg() -> MqttConfig:
    tag = uuid.uuid4().hex[:10]
    return MqttConfig(enabled=True, topic_prefix=f"antenna_t/{tag}", discovery_prefix=f"ha_t/{tag}")


@pytest.fixture
def publishers() -> Iterator[list[MqttPublisher]]:
    made: list[MqttPublisher] = []
    yield made
    for publisher in made:
        publisher.stop()


def make(
    publishers: list[MqttPublisher], cfg: MqttConfig, port: int = PORT, **kwargs: object
) -> MqttPublisher:
    publisher = MqttPublisher(
        HOST,
        port,
        client_id=f"antenna-test-{uuid.uuid4().hex[:8]}",
        will_topic=ha.status_topic(cfg),
        **kwargs,  # type: ignore[arg-type]
    )
    publishers.append(publisher)
    return publisher


def state() -> ServerState:
    playing = PlayerView(
        state=PlayerState.PLAYING,
        machine_id="tv-1",
        device_title="Living Room TV",
        product="Plex for LG",
        can_play=True,
        now=NowPlaying(rating_key="9", title="Dune", item_title="Dune", media_type="movie"),
    )
    return ServerState(
        server_id=1,
        name="Home",
        connection="connected",
        updated_at=datetime(2024, 5, 1, tzinfo=UTC),
        clients=(playing,),
        slots=(playing,),
    )


def test_retained_discovery_and_state_reach_a_later_subscriber(
    cfg: MqttConfig, publishers: list[MqttPublisher]
) -> None:
    publisher = make(publishers, cfg)
    publisher.start()
    assert wait_until(lambda: publisher.connected), publisher.last_error
    messages = ha.discovery_messages(cfg, state(), base_url="http://antenna:8080")
    messages += ha.state_messages(cfg, state(), base_url="http://antenna:8080")
    for topic, payload, retain in messages:
        publisher.publish(topic, payload, retain=retain)
    assert wait_until(lambda: publisher.queued == 0)

    # subscribing only now: everything must come back as retained messages
    with Listener(f"{cfg.topic_prefix}/#", f"{cfg.discovery_prefix}/#") as listener:
        for topic, payload, _ in messages:
            _, got, retained = listener.expect(topic)
            assert retained
            if topic.endswith(("/config", "/state")):
                assert json.loads(got) == json.loads(payload)
            else:
                assert got == payload
        image = listener.expect(f"{cfg.discovery_prefix}/image/antenna_home/tv_1_art/config")
        assert json.loads(image[1])["url_topic"] == f"{cfg.topic_prefix}/home/client/tv_1/art_url"
        art = listener.expect(f"{cfg.topic_prefix}/home/client/tv_1/art_url")
        assert art[1] == "http://antenna:8080/plex/art/1/tv-1?v=9"
        _, status, _ = listener.expect(ha.status_topic(cfg))
        assert status == "online"
        publisher.stop()
        listener.expect(ha.status_topic(cfg), "offline")


def test_availability_online_then_offline_after_stop(
    cfg: MqttConfig, publishers: list[MqttPublisher]
) -> None:
    statuses: list[tuple[bool, str]] = []
    with Listener(ha.status_topic(cfg)) as listener:
        publisher = make(publishers, cfg, on_status=lambda ok, msg: statuses.append((ok, msg)))
        publisher.start()
        listener.expect(ha.status_topic(cfg), "online")
        assert publisher.connected
        assert publisher.last_error == ""
        publisher.stop()
        publisher.stop()  # idempotent
        listener.expect(ha.status_topic(cfg), "offline")
        assert not publisher.connected
    assert (True, f"connected to MQTT broker {HOST}:{PORT}") in statuses
    assert statuses[-1][0] is False


def test_last_will_is_published_when_the_process_dies(cfg: MqttConfig) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from antenna.clients.mqtt import MqttPublisher
        def status(ok, msg):
            if ok:
                print("UP", flush=True)
        p = MqttPublisher({HOST!r}, {PORT}, client_id={"will-" + uuid.uuid4().hex[:8]!r},
                          will_topic={ha.status_topic(cfg)!r}, on_status=status)
        p.start()
        time.sleep(30)
        """
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    with Listener(ha.status_topic(cfg)) as listener:
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "UP"
            listener.expect(ha.status_topic(cfg), "online")
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT)
            # no DISCONNECT was sent: the broker publishes the will on the publisher's behalf
            listener.expect(ha.status_topic(cfg), "offline")
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()


def test_lost_connection_publishes_the_will_and_reconnects(
    cfg: MqttConfig, publishers: list[MqttPublisher]
) -> None:
    with Listener(ha.status_topic(cfg)) as listener:
        publisher = make(publishers, cfg)
        publisher.start()
        listener.expect(ha.status_topic(cfg), "online")
        sock = publisher.client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)  # the TCP connection drops without an MQTT DISCONNECT
        listener.expect(ha.status_topic(cfg), "offline")
        listener.expect(ha.status_topic(cfg), "online")  # paho reconnected by itself
        assert wait_until(lambda: publisher.connected)


class Forwarder:
    """A tiny TCP proxy from a local port to the broker, standing in for a broker that comes up late."""

    def __init__(self, port: int) -> None:
        self._server = socket.create_server((HOST, port))
        self._server.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ, None)
        self._sockets: list[socket.socket] = [self._server]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if key.data is None:
                    inbound, _ = self._server.accept()
                    outbound = socket.create_connection((HOST, PORT))
                    self._sockets += [inbound, outbound]
                    self._selector.register(inbound, selectors.EVENT_READ, outbound)
                    self._selector.register(outbound, selectors.EVENT_READ, inbound)
                    continue
                if sock.fileno() < 0:
                    continue  # closed earlier in this batch, with its other end
                try:
                    data = sock.recv(65536)
                    if data:
                        key.data.sendall(data)
                        continue
                except OSError:
                    pass
                for end in (sock, key.data):
                    if end.fileno() >= 0:
                        self._selector.unregister(end)
                        end.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        self._selector.close()
        for sock in self._sockets:
            sock.close()


def test_broker_down_at_start_queues_until_it_comes_up(
    cfg: MqttConfig, publishers: list[MqttPublisher]
) -> None:
    port = free_port()
    statuses: list[tuple[bool, str]] = []
    prefix = cfg.topic_prefix
    with Listener(f"{prefix}/#") as listener:
        publisher = make(publishers, cfg, port=port, on_status=lambda ok, msg: statuses.append((ok, msg)))
        started = time.monotonic()
        publisher.start()
        assert time.monotonic() - started < 0.5, "start() must not block"
        refused = f"MQTT broker {HOST}:{port} refused the connection; retrying"
        assert wait_until(lambda: (False, refused) in statuses)
        assert not publisher.connected
        assert publisher.last_error == refused
        for n in range(3):
            publisher.publish(f"{prefix}/queued/{n}", f"m{n}")
        publisher.publish(f"{prefix}/queued/retained", "kept", retain=True)
        assert publisher.queued == 4

        forwarder = Forwarder(port)
        try:
            for n in range(3):
                listener.expect(f"{prefix}/queued/{n}", f"m{n}")
            listener.expect(f"{prefix}/queued/retained", "kept")
            listener.expect(ha.status_topic(cfg), "online")
            assert wait_until(lambda: publisher.connected)
            assert statuses[-1] == (True, f"connected to MQTT broker {HOST}:{port}")
            assert publisher.last_error == ""
            assert wait_until(lambda: publisher.queued == 0)
            publisher.stop()
        finally:
            forwarder.close()


def test_commands_reach_on_message_after_every_connect(
    cfg: MqttConfig, publishers: list[MqttPublisher]
) -> None:
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    publisher = make(publishers, cfg, on_message=lambda topic, payload: received.put((topic, payload)))
    publisher.subscribe(ha.command_subscription(cfg))  # before start: subscribed once connected
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    topic = ha.command_topic(cfg, "Home", "tv-1")

    sender = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    sender.connect(HOST, PORT)
    sender.loop_start()
    try:
        # the subscription may still be in flight right after connect: resend until it lands
        deadline = time.monotonic() + WAIT
        got: tuple[str, bytes] | None = None
        while got is None and time.monotonic() < deadline:
            sender.publish(topic, b"pause", qos=1).wait_for_publish(WAIT)
            try:
                got = received.get(timeout=0.2)
            except queue.Empty:
                continue
        assert got == (topic, b"pause")
        assert ha.parse_command_topic(cfg, got[0]) == ("home", "tv_1")

        # after a dropped connection the subscription is renewed
        sock = publisher.client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        assert wait_until(lambda: not publisher.connected, 2)
        assert wait_until(lambda: publisher.connected)
        got = None
        deadline = time.monotonic() + WAIT
        while got is None and time.monotonic() < deadline:
            sender.publish(topic, b"play", qos=1).wait_for_publish(WAIT)
            try:
                got = received.get(timeout=0.2)
            except queue.Empty:
                continue
        assert got == (topic, b"play")
    finally:
        sender.disconnect()
        sender.loop_stop()
