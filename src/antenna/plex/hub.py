"""The live side of Plex inside `antenna serve`: one monitor per server, fanning out states and events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from antenna.clients.plex_ws import Notification, notifications
from antenna.db.repos.plex import PlexRepository
from antenna.errors import NotFound, UserError
from antenna.jobs.bus import Event, EventBus
from antenna.plex import plan
from antenna.plex.ha import slug
from antenna.plex.models import (
    ANTENNA_SERVER,
    FORWARDED_TOPICS,
    EventType,
    MqttConfig,
    PlexEvent,
    ServerConfig,
    ServerState,
    WebhookConfig,
)
from antenna.plex.monitor import ServerMonitor
from antenna.plex.mqtt_bridge import MqttBridge
from antenna.plex.outputs import PlexOutputs, webhook_config
from antenna.plex.service import PlexService
from antenna.plex.webhooks import Delivery, WebhookDispatcher

log = logging.getLogger(__name__)
RELOAD_SECONDS = 15.0
PRUNE_EVERY = 240  # reload rounds between history prunes: once an hour
STATE_TOPIC = "plex.state"


def ws_notifications(config: ServerConfig) -> AsyncIterator[Notification]:
    """Open the server's notification websocket."""
    return notifications(config.url, config.token, verify_tls=config.verify_tls)


class PlexHub:
    """Runs a monitor per server; stores events and hands them to the bus, webhooks and MQTT."""

    def __init__(
        self,
        service: PlexService,
        repo: PlexRepository,
        bus: EventBus,
        *,
        clock: Callable[[], datetime],
        poll_seconds: float,
        base_url: str,
        retention_days: int = 30,
        notification_stream: Callable[[ServerConfig], AsyncIterator[Notification]] = ws_notifications,
        webhook_delays: Sequence[float] = (1, 2, 4, 8, 16),
    ) -> None:
        self.service = service
        self.repo = repo
        self.outputs = PlexOutputs(repo)
        self.bus = bus
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._stream = notification_stream
        self._retention = timedelta(days=retention_days)
        self.monitors: dict[int, ServerMonitor] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._fingerprint: object = None
        self._watcher: asyncio.Task[None] | None = None
        self._published: dict[int, ServerState] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._pending: list[PlexEvent] = []
        self._flush: asyncio.Task[None] | None = None
        self.dispatcher = WebhookDispatcher(delays=webhook_delays, on_result=self._delivered)
        self.mqtt = MqttBridge(base_url=base_url, command=self._mqtt_command)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unlisten: Callable[[], None] | None = None

    # lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start monitoring every enabled server, the webhook dispatcher and the MQTT bridge."""
        self._loop = asyncio.get_running_loop()
        await self.dispatcher.start()
        self._unlisten = self.bus.listen(self._forward)
        await self.reload()
        self._watcher = asyncio.create_task(self._watch_config(), name="plex-config-watch")

    async def stop(self) -> None:
        """Stop everything; pending events are stored first."""
        if self._unlisten is not None:
            self._unlisten()
        if self._watcher:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        for server_id in list(self._tasks):
            await self._stop_monitor(server_id)
        await self._store_pending()
        await self.dispatcher.stop()
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.to_thread(self.mqtt.stop)
        await asyncio.to_thread(self.service.close)

    async def reload(self) -> None:
        """Match monitors, webhooks and MQTT to what is stored now."""
        servers, hooks, mqtt_row = await asyncio.to_thread(self._load)
        self._fingerprint = (servers, hooks, mqtt_row)
        wanted = {s.id: s for s in servers if s.enabled}
        for server_id in list(self._tasks):
            monitor = self.monitors[server_id]
            if server_id not in wanted or wanted[server_id] != monitor.config:
                await self._stop_monitor(server_id)
        for server_id, config in wanted.items():
            if server_id not in self._tasks:
                self._start_monitor(config)
        self.dispatcher.set_hooks(hooks)
        await asyncio.to_thread(self.mqtt.configure, mqtt_row)
        for monitor in self.monitors.values():
            if monitor.state is not None:
                self.mqtt.on_state(monitor.state, None)

    def _load(self) -> tuple[tuple[ServerConfig, ...], tuple[WebhookConfig, ...], MqttConfig]:
        servers = tuple(self.service.servers())
        hooks = tuple(webhook_config(row) for row in self.repo.webhooks())
        return servers, hooks, self.outputs.mqtt()

    async def _watch_config(self) -> None:
        # Edits made by the CLI in another process reach us here.
        rounds = 0
        while True:
            await asyncio.sleep(RELOAD_SECONDS)
            rounds += 1
            try:
                if await asyncio.to_thread(self._load) != self._fingerprint:
                    await self.reload()
                if rounds % PRUNE_EVERY != 1:
                    continue
                removed = await asyncio.to_thread(self.repo.prune_events, self._clock() - self._retention)
                if removed:
                    log.info("dropped %d Plex events older than %s", removed, self._retention)
            except Exception:  # the watcher must survive a database hiccup
                log.exception("reloading Plex settings failed")

    def _start_monitor(self, config: ServerConfig) -> None:
        monitor = ServerMonitor(
            config,
            self.service.client(config),
            self._stream,
            self._on_update,
            clock=self._clock,
            poll_seconds=self._poll_seconds,
        )
        self.monitors[config.id] = monitor
        self._tasks[config.id] = asyncio.create_task(monitor.run(), name=f"plex-monitor-{config.id}")

    async def _stop_monitor(self, server_id: int) -> None:
        task = self._tasks.pop(server_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self.monitors.pop(server_id, None)

    # state ---------------------------------------------------------------------------------------
    def states(self) -> list[ServerState]:
        """Return the live state of every monitored server."""
        return [m.state for m in self.monitors.values() if m.state is not None]

    def state(self, server_id: int) -> ServerState | None:
        """Return one server's live state (None before the first poll)."""
        monitor = self.monitors.get(server_id)
        return monitor.state if monitor else None

    def monitor(self, ref: str | int | None) -> ServerMonitor:
        """Return the monitor of a server by id or name (the only one when ref is empty)."""
        config = self.service.server(ref)
        monitor = self.monitors.get(config.id)
        if monitor is None:
            raise NotFound(f"{config.name} is not being monitored.", "Enable the server first.")
        return monitor

    def _on_update(self, state: ServerState, events: list[PlexEvent]) -> None:
        previous = self._published.get(state.server_id)
        self._published[state.server_id] = state
        if self.bus.interested(STATE_TOPIC):  # a full state is ~100 dicts with 50 sessions: only when watched
            self.bus.publish(STATE_TOPIC, state.to_dict())
        self.mqtt.on_state(state, previous)
        for event in events:
            self.publish_event(event)

    def _forward(self, bus_event: Event) -> None:
        """Turn another capability's bus event (podcasts) into an event for webhooks, MQTT and the history."""
        kind = FORWARDED_TOPICS.get(bus_event.topic)
        loop = self._loop
        if kind is None or loop is None or loop.is_closed():
            return
        data = dict(bus_event.data)
        title = " : ".join(str(data[k]) for k in ("podcast", "title") if data.get(k))
        event = PlexEvent(kind, 0, ANTENNA_SERVER, self._clock(), title=title, data=data)
        loop.call_soon_threadsafe(self.publish_event, event)

    def publish_event(self, event: PlexEvent) -> None:
        """Send one event to the bus, the webhooks and MQTT, and queue it for storage."""
        self.bus.publish(event.topic, event.to_payload())
        self.dispatcher.submit(event)
        self.mqtt.on_event(event)
        self._pending.append(event)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._store_soon())

    async def _store_soon(self) -> None:
        await asyncio.sleep(0.2)  # one insert per burst, not per event
        await self._store_pending()

    async def _store_pending(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        rows = [
            {
                "server_id": e.server_id,
                "server_name": e.server_name,
                "type": e.type.value,
                "at": e.at,
                "client_id": e.client_id,
                "slot": e.slot,
                "user": e.user,
                "title": e.title,
                "data": e.data,
            }
            for e in pending
        ]
        try:
            await asyncio.to_thread(self.repo.add_events, rows)
        except Exception:  # losing history must not stop live delivery
            log.exception("storing %d Plex events failed", len(rows))

    def _delivered(self, delivery: Delivery) -> None:
        status = f"{'ok' if delivery.ok else 'failed'} {delivery.status or ''} {delivery.error}".strip()
        self.bus.publish("plex.webhook", {"hook_id": delivery.hook_id, "ok": delivery.ok, "status": status})
        # A database write must not block the loop that runs every monitor.
        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self._record_delivery, delivery.hook_id, status)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _record_delivery(self, hook_id: int, status: str) -> None:
        with contextlib.suppress(NotFound):  # the hook was deleted meanwhile
            self.repo.update_webhook(
                hook_id, {"last_status": status[:200], "last_delivery_at": self._clock()}
            )

    # actions -------------------------------------------------------------------------------------
    async def send_test_event(self) -> PlexEvent:
        """Publish a test event through every output."""
        event = PlexEvent(
            type=EventType.TEST,
            server_id=0,
            server_name="antenna",
            at=self._clock(),
            title="Test event from Antenna",
            data={"message": "If you can read this, delivery works."},
        )
        self.publish_event(event)
        return event

    async def command(
        self, ref: str | int | None, client_id: str, action: str, arg: int | None = None
    ) -> str:
        """Send a playback command and poll the server soon after so the page catches up."""
        route = await asyncio.to_thread(self.service.command, client_id, action, arg, ref=ref)
        with contextlib.suppress(UserError):
            self.monitor(ref).poke()
        return route

    def _mqtt_command(self, server_slug: str, client_slug: str, action: str) -> None:
        # Called from the MQTT thread: hop onto our loop.
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._run_mqtt_command(server_slug, client_slug, action), self._loop)

    async def _run_mqtt_command(self, server_slug: str, client_slug: str, action: str) -> None:
        for monitor in self.monitors.values():
            if slug(monitor.config.name) != server_slug or monitor.state is None:
                continue
            for client in monitor.state.clients:
                if slug(client.machine_id) == client_slug:
                    try:
                        await self.command(monitor.config.id, client.machine_id, action)
                    except UserError as exc:
                        log.warning("MQTT command %s to %s failed: %s", action, client.device_title, exc)
                    return
        log.warning("MQTT command for unknown player %s/%s ignored", server_slug, client_slug)

    async def art(
        self,
        server_id: int,
        *,
        client_id: str = "",
        slot: int = 0,
        kind: str = "poster",
        width: int = 0,
        height: int = 0,
    ) -> bytes | None:
        """Return the now-playing image of a client or slot, or None when nothing plays there."""
        state = self.state(server_id)
        if state is None:
            return None
        views = state.clients if client_id else state.slots
        view = (
            next((v for v in views if v.machine_id == client_id), None)
            if client_id
            else (views[slot - 1] if 0 < slot <= len(views) else None)
        )
        path = plan.art_path(view.now if view else None, kind)
        if not path:
            return None
        return await asyncio.to_thread(
            self.service.image, path, ref=server_id, width=width or None, height=height or None
        )

    async def ingest_plex_webhook(self, payload: dict[str, Any]) -> str:
        """Treat a Plex webhook as a hint: poll that server now; `library.new` is recently added."""
        server = payload.get("Server")
        metadata = payload.get("Metadata")
        uuid = str(server.get("uuid", "")) if isinstance(server, dict) else ""
        metadata = metadata if isinstance(metadata, dict) else {}
        event = str(payload.get("event", ""))
        for monitor in self.monitors.values():
            if uuid and uuid in (
                monitor.config.machine_id,
                monitor.state.machine_id if monitor.state else "",
            ):
                monitor.poke()
                if event == "library.new":
                    self.publish_event(
                        PlexEvent(
                            type=EventType.RECENTLY_ADDED,
                            server_id=monitor.config.id,
                            server_name=monitor.config.name,
                            at=self._clock(),
                            title=str(metadata.get("title", "")),
                            data={"rating_key": str(metadata.get("ratingKey", "")), "source": "plex webhook"},
                        )
                    )
                return monitor.config.name
        raise NotFound(f"The webhook came from a server Antenna does not monitor ({uuid or 'no uuid'}).")
