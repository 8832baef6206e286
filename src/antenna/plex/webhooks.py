"""Deliver Plex events to outgoing webhooks: signed JSON POSTs, retried with backoff, in order per hook."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from antenna.clients.webhook import post_json
from antenna.errors import Unavailable
from antenna.plex.models import PlexEvent, WebhookConfig
from antenna.redact import redact

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Antenna-Signature"
EVENT_HEADER = "X-Antenna-Event"
USER_AGENT = "Antenna"
QUEUE_SIZE = 1000
RETRY_STATUSES = frozenset({408, 429})

Post = Callable[[str, bytes, Mapping[str, str]], Awaitable[int]]


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def encode(event: PlexEvent) -> bytes:
    """Return the JSON body sent for an event."""
    return json.dumps(event.to_payload(), separators=(",", ":"), default=str).encode("utf-8")


def headers_for(hook: WebhookConfig, event: PlexEvent, body: bytes) -> dict[str, str]:
    """Return the request headers, signed when the hook has a secret."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_HEADER: event.type.value}
    if hook.secret:
        headers[SIGNATURE_HEADER] = sign(hook.secret, body)
    return headers


def _retryable(status: int) -> bool:
    return status >= 500 or status in RETRY_STATUSES


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of sending one event to one hook."""

    hook_id: int
    event_type: str
    ok: bool
    status: int | None
    attempts: int
    error: str


class WebhookDispatcher:
    """Fan events out to hooks; one worker task per hook keeps its deliveries in order and off the others."""

    def __init__(
        self,
        *,
        post: Post = post_json,
        delays: Sequence[float] = (1, 2, 4, 8, 16),
        on_result: Callable[[Delivery], None] | None = None,
    ) -> None:
        self._post = post
        self._delays = tuple(delays)
        self._on_result = on_result
        self._lock = threading.Lock()
        self._hooks: dict[int, WebhookConfig] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: dict[int, asyncio.Queue[PlexEvent]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    def set_hooks(self, hooks: Sequence[WebhookConfig]) -> None:
        """Replace the hooks; queued events of a removed or disabled hook are dropped."""
        with self._lock:
            self._hooks = {hook.id: hook for hook in hooks}

    async def start(self) -> None:
        """Bind to the running loop; workers start on the first event of each hook."""
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Cancel every worker; undelivered events are dropped."""
        self._loop = None
        workers = list(self._workers.values())
        self._workers.clear()
        self._queues.clear()
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def submit(self, event: PlexEvent) -> None:
        """Queue an event for every hook that wants it; callable from any thread, never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed():
            log.debug("webhook dispatcher is not running; %s event not delivered", event.type.value)
            return
        with self._lock:
            targets = [hook.id for hook in self._hooks.values() if hook.wants(event.type.value)]
        if not targets:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(targets, event)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed while we were submitting
                loop.call_soon_threadsafe(self._enqueue, targets, event)

    def _enqueue(self, hook_ids: list[int], event: PlexEvent) -> None:
        if self._loop is None:
            return
        for hook_id in hook_ids:
            queue = self._queues.get(hook_id)
            if queue is None:
                queue = self._queues[hook_id] = asyncio.Queue(maxsize=QUEUE_SIZE)
                self._workers[hook_id] = self._loop.create_task(self._work(hook_id, queue))
            if queue.full():
                # a receiver that is down for long must not grow memory: the oldest event goes
                dropped = queue.get_nowait()
                log.warning("webhook %d is backed up; dropped a %s event", hook_id, dropped.type.value)
            queue.put_nowait(event)

    async def _work(self, hook_id: int, queue: asyncio.Queue[PlexEvent]) -> None:
        while True:
            event = await queue.get()
            with self._lock:
                hook = self._hooks.get(hook_id)
            if hook is None or not hook.wants(event.type.value):
                continue
            try:
                result = await self.deliver(hook, event)
            except Exception:  # one broken delivery must not end this hook's worker
                log.exception("webhook %r failed unexpectedly", hook.name)
                continue
            self._report(result)

    def _report(self, result: Delivery) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(result)
        except Exception:  # a failing listener must not end the worker
            log.exception("webhook result listener failed")

    async def deliver(self, hook: WebhookConfig, event: PlexEvent) -> Delivery:
        """Send one event to one hook, retrying 5xx, 408, 429 and unreachable receivers after each delay."""
        body = encode(event)
        headers = headers_for(hook, event, body)
        shown = redact(hook.url, [hook.secret])
        attempts = 0
        status: int | None = None
        error = ""
        while True:
            attempts += 1
            try:
                status = await self._post(hook.url, body, headers)
            except Unavailable as exc:
                status, retry = None, True
                error = redact(str(exc), [hook.secret])
            else:
                if 200 <= status < 300:
                    log.debug("webhook %r took a %s event (HTTP %d)", hook.name, event.type.value, status)
                    return Delivery(hook.id, event.type.value, True, status, attempts, "")
                retry = _retryable(status)
                error = f"webhook {shown} answered HTTP {status}"
            if not retry or attempts > len(self._delays):
                break
            await asyncio.sleep(self._delays[attempts - 1])
        log.warning(
            "webhook %r gave up on a %s event after %d attempt(s): %s",
            hook.name,
            event.type.value,
            attempts,
            error,
        )
        return Delivery(hook.id, event.type.value, False, status, attempts, error)
