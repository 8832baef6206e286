"""Test doubles for Antenna's outputs: a local webhook receiver and an MQTT listener on the real broker."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

HOST, PORT = "127.0.0.1", 1883
WAIT = 4.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the test HTTP server saw; /flaky fails its first request, /missing is 404, /slow takes 0.4 s."""

    base: str
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    flaky_failures: int = 1

    def paths(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """Run a local HTTP server that records POSTs (see Receiver) until the block ends."""
    state = Receiver(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path.split("?")[0]
            with state.lock:
                state.requests.append(Request(self.path, dict(self.headers.items()), body))
                flaky_seen = sum(1 for r in state.requests if r.path.split("?")[0] == "/flaky")
            if path == "/slow":
                time.sleep(0.4)
            if path == "/flaky" and flaky_seen <= state.flaky_failures:
                status = 500
            elif path == "/missing":
                status = 404
            else:
                status = 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


class Listener:
    """A separate paho client that records what the broker delivers, and clears retained topics it saw."""

    def __init__(self, *topics: str) -> None:
        self.messages: queue.Queue[tuple[str, str, bool]] = queue.Queue()
        self.seen: list[tuple[str, str, bool]] = []
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda c, u, m: self.messages.put(
            (m.topic, m.payload.decode("utf-8", "replace"), bool(m.retain))
        )
        self.client.on_subscribe = lambda c, u, mid, rc, p: self._subscribed.set()
        self._topics = topics

    def __enter__(self) -> Listener:
        self.client.connect(HOST, PORT)
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in self._topics])
        assert self._subscribed.wait(WAIT), "listener could not subscribe"
        return self

    def __exit__(self, *exc: object) -> None:
        retained = {topic for topic, payload, retain in self.seen if payload}
        for topic in retained:  # leave the shared broker as we found it
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(WAIT)
        self.client.disconnect()
        self.client.loop_stop()

    def get(self, match: Callable[[str, str, bool], bool], timeout: float = WAIT) -> tuple[str, str, bool]:
        """Return the first message (in arrival order) that matches, failing after timeout."""
        for message in self.seen:
            if match(*message):
                self.seen.remove(message)
                self.seen.append(message)  # keep it for cleanup, but do not match it twice
                return message
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=max(0.01, remaining))
            except queue.Empty:
                pytest.fail(f"no matching MQTT message within {timeout} s; saw {self.seen!r}")
            self.seen.append(message)
            if match(*message):
                return message

    def expect(self, topic: str, payload: str | None = None, timeout: float = WAIT) -> tuple[str, str, bool]:
        return self.get(lambda t, p, r: t == topic and (payload is None or p == payload), timeout)
