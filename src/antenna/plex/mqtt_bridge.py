"""Publishes Plex state and events to MQTT (with Home Assistant discovery) and takes play/pause/stop back."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from antenna.clients.mqtt import MqttPublisher
from antenna.plex import ha
from antenna.plex.models import MqttConfig, PlayerView, PlexEvent, ServerState

log = logging.getLogger(__name__)
Command = Callable[[str, str, str], None]  # (server slug, client slug, action)


class MqttBridge:
    """One broker connection; retained state is only re-sent when it changed."""

    def __init__(
        self,
        *,
        base_url: str,
        command: Command,
        publisher_factory: Callable[..., MqttPublisher] = MqttPublisher,
    ) -> None:
        self._base_url = base_url
        self._command = command
        self._factory = publisher_factory
        self._lock = threading.Lock()
        self._config = MqttConfig()
        self._publisher: MqttPublisher | None = None
        self._sent: dict[str, str] = {}
        self._views: dict[str, PlayerView] = {}
        self._shapes: dict[int, tuple[object, ...]] = {}
        self.status_message = "MQTT is off."

    def configure(self, config: MqttConfig) -> None:
        """Connect with new settings (or disconnect when disabled); unchanged settings keep the connection."""
        with self._lock:
            if config == self._config and (self._publisher is not None) == config.enabled:
                return
            self._stop_locked()
            self._config = config
            if not config.enabled:
                self.status_message = "MQTT is off."
                return
            publisher = self._factory(
                config.host,
                config.port,
                client_id=f"antenna-{ha.slug(socket.gethostname())}",
                username=config.username,
                password=config.password,
                tls=config.tls,
                will_topic=ha.status_topic(config),
                on_status=self._status,
                on_message=self._message,
            )
            publisher.subscribe(ha.command_subscription(config))
            publisher.start()
            self._publisher = publisher

    def _status(self, connected: bool, message: str) -> None:
        self.status_message = message
        if connected:
            with self._lock:
                self._forget()  # the broker may have lost retained state: send everything again

    def _message(self, topic: str, payload: bytes) -> None:
        target = ha.parse_command_topic(self._config, topic)
        action = payload.decode("utf-8", "replace").strip().lower()
        if target is None or action not in ha.COMMANDS:
            log.warning("ignored MQTT command %r on %s", action[:40], topic)
            return
        self._command(target[0], target[1], action)

    def on_state(self, state: ServerState, previous: ServerState | None) -> None:
        """Publish discovery for new players and every retained state that changed."""
        with self._lock:
            publisher = self._publisher
            if publisher is None:
                return
            # Discovery only changes with the set of players; building it for every progress tick cost most
            # of the CPU with 50 sessions (bench/plex.py).
            shape = (state.name, state.version, tuple(sorted(c.machine_id for c in state.clients)))
            messages = []
            if self._shapes.get(state.server_id) != shape:
                self._shapes[state.server_id] = shape
                messages += ha.discovery_messages(self._config, state, base_url=self._base_url)
            messages += ha.state_messages(
                self._config, state, previous=previous, base_url=self._base_url, changed=self._view_changed
            )
            for topic, payload, retain in ha.only_changed(messages, self._sent):
                publisher.publish(topic, payload, retain=retain)
                if retain:
                    self._sent[topic] = payload

    def _view_changed(self, topic: str, view: PlayerView) -> bool:
        if self._views.get(topic) == view:
            return False
        self._views[topic] = view
        return True

    def on_event(self, event: PlexEvent) -> None:
        """Publish an event on the server's event topic and the player's HA event entity."""
        with self._lock:
            publisher = self._publisher
            if publisher is None:
                return
            for message in (
                ha.event_message(self._config, event),
                ha.client_event_message(self._config, event),
            ):
                if message is not None:
                    publisher.publish(message[0], message[1], retain=message[2])

    def status(self) -> dict[str, Any]:
        """Return what the page shows about the broker connection."""
        publisher = self._publisher
        return {
            "enabled": self._config.enabled,
            "connected": bool(publisher and publisher.connected),
            "message": self.status_message,
            "queued": publisher.queued if publisher else 0,
        }

    def stop(self) -> None:
        """Say offline and disconnect."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self._publisher is not None:
            self._publisher.stop()
            self._publisher = None
        self._forget()

    def _forget(self) -> None:
        self._sent.clear()
        self._views.clear()
        self._shapes.clear()
