"""A thin paho-mqtt wrapper: background connect with backoff, last will, queued publishes, resubscribes."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
RECONNECT_MIN = 1
RECONNECT_MAX = 30
KEEPALIVE = 30
STOP_FLUSH_SECONDS = 2.0


def describe_connect_error(host: str, port: int, exc: BaseException | None) -> str:
    """Return a one-line explanation of why a TCP/TLS connection to the broker failed."""
    where = f"MQTT broker {host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"{where}: cannot resolve host {host!r}; retrying"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection; retrying"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer in time; retrying"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS handshake failed ({exc.reason or exc.__class__.__name__}); retrying"
    if isinstance(exc, OSError):
        return f"{where} is unreachable ({exc.strerror or exc.__class__.__name__}); retrying"
    return f"{where} could not be reached; retrying"


class MqttPublisher:
    """Publish to (and listen on) one MQTT broker; never blocks or raises when the broker is down."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str = "",
        password: str = "",
        tls: bool = False,
        will_topic: str = "",
        will_payload: str = "offline",
        online_payload: str = "online",
        on_status: Callable[[bool, str], None] | None = None,
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._will_topic = will_topic
        self._will_payload = will_payload
        self._online_payload = online_payload
        self._on_status = on_status
        self._on_message = on_message
        self._lock = threading.Lock()
        self._subscriptions: set[str] = set()
        self._connected = False
        self._status: tuple[bool, str] | None = None
        self._last_error = ""
        self._started = False
        self._stopping = False
        self._pending = 0

        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            reconnect_on_failure=True,
        )
        if username:
            client.username_pw_set(username, password or None)
        if tls:
            client.tls_set()
        if will_topic:
            client.will_set(will_topic, will_payload, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN, RECONNECT_MAX)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._handle_connect
        client.on_connect_fail = self._handle_connect_fail
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        self._client = client

    @property
    def connected(self) -> bool:
        """Return True while a broker session is up."""
        return self._connected

    @property
    def last_error(self) -> str:
        """Return the latest connection problem, or "" after a successful connect."""
        return self._last_error

    @property
    def queued(self) -> int:
        """Return how many QoS>0 publishes the broker has not acknowledged yet (best effort)."""
        with self._lock:
            return max(0, self._pending)

    @property
    def client(self) -> paho.Client:
        """Return the underlying paho client (tests use it to simulate an abrupt disconnect)."""
        return self._client

    def start(self) -> None:
        """Connect in the background; paho retries with backoff until stop()."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stopping = False
        try:
            self._client.connect_async(self._host, self._port, keepalive=KEEPALIVE)
        except ValueError as exc:  # an empty host or a bad port: a settings problem, not a crash
            problem = "no MQTT broker host is set" if not self._host else f"{exc}".rstrip(".")
            self._set_status(
                False, f"MQTT broker {self._host}:{self._port} cannot be used: {problem}", error=True
            )
            with self._lock:
                self._started = False
            return
        self._set_status(False, f"connecting to MQTT broker {self._host}:{self._port}")
        self._client.loop_start()

    def stop(self) -> None:
        """Publish the offline payload, disconnect and join the network thread; safe to call twice."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._stopping = True
        if self._connected and self._will_topic:
            info = self._publish(self._will_topic, self._will_payload, retain=True, qos=1)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                try:
                    info.wait_for_publish(STOP_FLUSH_SECONDS)
                except (RuntimeError, ValueError):
                    log.debug("offline status was not confirmed before disconnect")
        self._client.disconnect()
        self._client.loop_stop()
        self._connected = False
        self._set_status(False, f"disconnected from MQTT broker {self._host}:{self._port}")

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 1) -> None:
        """Queue a message; QoS 1/2 messages published while disconnected are sent once connected."""
        info = self._publish(topic, payload, retain=retain, qos=qos)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            log.warning("MQTT queue is full (%d messages); dropped a message for %s", MAX_QUEUED, topic)

    def _publish(self, topic: str, payload: str | bytes, *, retain: bool, qos: int) -> paho.MQTTMessageInfo:
        # count before handing over: paho may acknowledge in its thread before publish() returns
        if qos > 0:
            with self._lock:
                self._pending += 1
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0 and info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            with self._lock:
                self._pending -= 1
        return info

    def subscribe(self, topic: str) -> None:
        """Subscribe now when connected and again on every reconnect."""
        with self._lock:
            self._subscriptions.add(topic)
        if self._connected:
            self._client.subscribe(topic, qos=1)

    # paho callbacks, run in the network thread

    def _handle_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            self._connected = False
            self._set_status(
                False,
                f"MQTT broker {self._host}:{self._port} rejected the login ({reason}); retrying",
                error=True,
            )
            return
        self._connected = True
        if self._will_topic:
            self._publish(self._will_topic, self._online_payload, retain=True, qos=1)
        with self._lock:
            topics = sorted(self._subscriptions)
        for topic in topics:
            client.subscribe(topic, qos=1)
        self._set_status(True, f"connected to MQTT broker {self._host}:{self._port}")

    def _handle_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        # paho calls this from inside its `except OSError`, so the exception being handled is the cause
        self._connected = False
        self._set_status(False, describe_connect_error(self._host, self._port, sys.exc_info()[1]), error=True)

    def _handle_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        was_connected = self._connected
        self._connected = False
        if self._stopping or not was_connected:
            return
        self._set_status(
            False,
            f"lost the connection to MQTT broker {self._host}:{self._port} ({reason}); retrying",
            error=True,
        )

    def _handle_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        with self._lock:
            self._pending -= 1

    def _handle_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(message.topic, bytes(message.payload))
        except Exception:  # a failing handler must not kill paho's network thread
            log.exception("MQTT message handler failed for %s", message.topic)

    def _set_status(self, connected: bool, message: str, *, error: bool = False) -> None:
        with self._lock:
            if self._status == (connected, message):
                return
            self._status = (connected, message)
        if error:
            self._last_error = message
            log.warning("%s", message)
        else:
            if connected:
                self._last_error = ""
            log.info("%s", message)
        if self._on_status is not None:
            try:
                self._on_status(connected, message)
            except Exception:  # a failing status listener must not kill paho's network thread
                log.exception("MQTT status listener failed")
