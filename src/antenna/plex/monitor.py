"""Live monitor of one Plex server: websocket first, a reconcile poll always, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from antenna.clients.plex_ws import Notification
from antenna.errors import UserError
from antenna.plex import plan
from antenna.plex.models import EventType, PlexEvent, ServerConfig, ServerState, Snapshot

log = logging.getLogger(__name__)

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
Listener = Callable[[ServerState, list[PlexEvent]], None]


class SnapshotSource(Protocol):
    """Anything that can take a snapshot of a server (PlexClient does)."""

    def snapshot(self, now: datetime) -> Snapshot:
        """Return one poll of the server; never raise for server trouble."""
        ...


NotificationStream = Callable[[ServerConfig], AsyncIterator[Notification]]


class ServerMonitor:
    """Keeps one server's live state and reports every change with the events that explain it."""

    def __init__(
        self,
        config: ServerConfig,
        source: SnapshotSource,
        notifications: NotificationStream,
        listener: Listener,
        *,
        clock: Callable[[], datetime],
        poll_seconds: float = 20.0,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self.config = config
        self._source = source
        self._notifications = notifications
        self._listener = listener
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._backoff = backoff
        self._lock = asyncio.Lock()
        self._poke = asyncio.Event()
        self._snapshot: Snapshot | None = None
        self._slot_order: tuple[str, ...] = ()
        self._added: OrderedDict[str, None] = OrderedDict()
        self.state: ServerState | None = None
        self.websocket = False
        self.websocket_error = ""
        self.bad_messages = 0
        self.polls = 0

    async def run(self) -> None:
        """Watch the server until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._poll_loop())
            group.create_task(self._websocket_loop())

    def poke(self) -> None:
        """Ask for a poll now (from the monitor's loop)."""
        self._poke.set()

    async def refresh(self) -> ServerState:
        """Poll now and return the new state."""
        await self._poll()
        assert self.state is not None
        return self.state

    async def _poll_loop(self) -> None:
        while True:
            self._poke.clear()
            try:
                await self._poll()
            except Exception:  # a bug in one poll must not end monitoring; the next poll may succeed
                log.exception("polling Plex server %s failed", self.config.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._poke.wait()

    async def _poll(self) -> None:
        # The lock is held while the poll is in flight, so a notification that arrives meanwhile is applied
        # on top of the poll's result instead of being overwritten by an older view of the server.
        async with self._lock:
            snapshot = await asyncio.to_thread(self._source.snapshot, self._clock())
            self.polls += 1
            self._apply_locked(snapshot)

    def _apply_locked(self, snapshot: Snapshot) -> None:
        if snapshot.info is not None:
            self._slot_order = plan.next_slot_order(self._slot_order, snapshot.sessions)
            self._snapshot = snapshot
        previous = self.state
        state = plan.build_state(
            self.config.id,
            self.config.name,
            snapshot,
            previous,
            websocket=self.websocket,
            slot_order=self._slot_order,
        )
        events = plan.derive_events(previous, state, self._clock())
        self.state = state
        if previous is not None and previous.connection != state.connection:
            log.info("Plex server %s is %s %s", self.config.name, state.connection, state.error)
        self._listener(state, events)

    async def _websocket_loop(self) -> None:
        failures = 0
        while True:
            try:
                async for notification in self._notifications(self.config):
                    if not self.websocket:
                        self.websocket, self.websocket_error, failures = True, "", 0
                        log.info("Plex server %s: websocket connected", self.config.name)
                        self.poke()  # catch up on whatever happened while we were not listening
                    await self._handle(notification)
                error = "the server closed the notification websocket"
            except UserError as exc:
                error = exc.message
            except Exception as exc:  # the stream failing in any way means: fall back to polling and retry
                log.exception("Plex server %s: websocket reader failed", self.config.name)
                error = f"{type(exc).__name__}: {exc}"
            if self.websocket or error != self.websocket_error:
                log.warning(
                    "Plex server %s: websocket down (%s); polling every %ss",
                    self.config.name,
                    error,
                    self._poll_seconds,
                )
            self.websocket, self.websocket_error = False, error
            if self.state is not None:
                self.state = replace(self.state, websocket=False)
            await asyncio.sleep(self._backoff[min(failures, len(self._backoff) - 1)])
            failures += 1

    async def _handle(self, notification: Notification) -> None:
        if notification.type == "invalid":
            self.bad_messages += 1
            if self.bad_messages == 1 or self.bad_messages % 100 == 0:
                log.warning(
                    "Plex server %s sent %d unreadable notification(s), latest: %s",
                    self.config.name,
                    self.bad_messages,
                    notification.error,
                )
            return
        if notification.type == "playing":
            async with self._lock:
                current = self._snapshot
                updated = (
                    plan.apply_notification(current, notification.items, self._clock()) if current else None
                )
                if updated is not None:
                    self._apply_locked(updated)
                    return
            await self._poll()  # a session we have not seen: fetch its details
            return
        if notification.type == "timeline":
            await self._recently_added(notification)
            return
        if notification.type in {"reachability", "update.statechange", "status", "activity"}:
            self.poke()

    async def _recently_added(self, notification: Notification) -> None:
        events = []
        for item_id, section_id, title in plan.recently_added(notification.items):
            if item_id in self._added:
                continue
            self._added[item_id] = None
            if len(self._added) > 1000:
                self._added.popitem(last=False)
            events.append(
                PlexEvent(
                    type=EventType.RECENTLY_ADDED,
                    server_id=self.config.id,
                    server_name=self.config.name,
                    at=self._clock(),
                    title=title,
                    data={"rating_key": item_id, "section_id": section_id},
                )
            )
        if events and self.state is not None:
            self._listener(self.state, events)
