"""In-process event bus: any thread publishes, asyncio subscribers (SSE, MQTT) and plain callbacks receive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, under a dotted topic such as ``job`` or ``plex.play``."""

    topic: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Subscription:
    """An async stream of events for one subscriber; slow subscribers lose the oldest events, not memory."""

    def __init__(self, bus: EventBus, prefixes: tuple[str, ...], maxsize: int) -> None:
        self._bus = bus
        self._prefixes = prefixes
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        """Return True when the event's topic matches one of the prefixes (or there are none)."""
        return not self._prefixes or event.topic.startswith(self._prefixes)

    def offer(self, event: Event) -> None:
        """Queue an event from any thread."""
        if self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._put(event)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed while we were publishing
                self._loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> Event | None:
        """Return the next event, or None after timeout seconds."""
        if timeout is not None and timeout <= 0:
            return None if self._queue.empty() else self._queue.get_nowait()
        try:
            async with asyncio.timeout(timeout):
                return await self._queue.get()
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        """Stop receiving events."""
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of events to subscribers and listeners."""

    def __init__(self, *, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Callable[[Event], None]] = []

    def publish(self, topic: str, data: dict[str, Any]) -> Event:
        """Send an event to everyone interested; never raises for a failing listener."""
        event = Event(topic, data)
        with self._lock:
            subscriptions = list(self._subscriptions)
            listeners = list(self._listeners)
        for subscription in subscriptions:
            if subscription.wants(event):
                subscription.offer(event)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the publisher (a job, say)
                log.exception("event listener failed for %s", topic)
        return event

    def interested(self, topic: str) -> bool:
        """Return True when someone would receive an event on topic (so building it is worth the work)."""
        probe = Event(topic, {})
        with self._lock:
            return bool(self._listeners) or any(s.wants(probe) for s in self._subscriptions)

    def subscribe(self, *prefixes: str, maxsize: int | None = None) -> Subscription:
        """Return an async subscription to topics starting with any prefix (all topics if none)."""
        subscription = Subscription(self, prefixes, maxsize or self._queue_size)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a subscription."""
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def listen(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call callback for every event, in the publisher's thread; return a function that stops it."""
        with self._lock:
            self._listeners.append(callback)

        def stop() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return stop
