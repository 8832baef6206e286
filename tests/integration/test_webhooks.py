"""WebhookDispatcher against a real local HTTP receiver: retries, signatures, filters, ordering."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from antenna.container import Container
from antenna.plex.models import EventType, PlexEvent, WebhookConfig
from antenna.plex.webhooks import SIGNATURE_HEADER, Delivery, WebhookDispatcher, sign
from tests.outputs import Receiver, running_receiver
from tests.support import free_port

FAST = (0.05, 0.05, 0.05)
SECRET = "hook-secret-value"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def event(kind: EventType = EventType.PLAY, title: str = "Dune") -> PlexEvent:
    return PlexEvent(
        kind,
        server_id=3,
        server_name="Home",
        at=datetime(2024, 5, 1, 20, 15, tzinfo=UTC),
        client_id="tv-1",
        slot=1,
        user="ann",
        title=title,
        data={"rating_key": "42", "percent": 12},
    )


def hook(hook_id: int, url: str, **kwargs: object) -> WebhookConfig:
    return WebhookConfig(id=hook_id, name=f"hook {hook_id}", url=url, **kwargs)  # type: ignore[arg-type]


def test_retries_a_500_and_signs_the_body(receiver: Receiver) -> None:
    dispatcher = WebhookDispatcher(delays=FAST)
    sent = event()
    result = asyncio.run(dispatcher.deliver(hook(1, f"{receiver.base}/flaky", secret=SECRET), sent))

    assert result == Delivery(hook_id=1, event_type="play", ok=True, status=204, attempts=2, error="")
    requests = receiver.paths("/flaky")
    assert len(requests) == 2
    for request in requests:
        assert json.loads(request.body) == sent.to_payload()
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == "Antenna"
        assert request.headers["X-Antenna-Event"] == "play"
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers[SIGNATURE_HEADER], expected)
        assert sign(SECRET, request.body) == expected


def test_no_signature_without_a_secret(receiver: Receiver) -> None:
    result = asyncio.run(WebhookDispatcher(delays=FAST).deliver(hook(1, f"{receiver.base}/ok"), event()))
    assert result.ok
    (request,) = receiver.paths("/ok")
    assert SIGNATURE_HEADER not in request.headers


def test_a_404_is_not_retried(receiver: Receiver) -> None:
    result = asyncio.run(WebhookDispatcher(delays=FAST).deliver(hook(2, f"{receiver.base}/missing"), event()))
    assert not result.ok
    assert (result.status, result.attempts) == (404, 1)
    assert "HTTP 404" in result.error
    assert len(receiver.paths("/missing")) == 1


def test_connection_refused_is_retried_then_reported_without_secrets() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=s3cr3t-token"
    result = asyncio.run(WebhookDispatcher(delays=FAST).deliver(hook(4, url, secret=SECRET), event()))
    assert not result.ok
    assert result.status is None
    assert result.attempts == len(FAST) + 1
    assert "cannot be reached" in result.error
    assert "s3cr3t-token" not in result.error
    assert SECRET not in result.error


async def wait_for(results: list[Delivery], count: int, timeout: float = 4.0) -> None:
    deadline = time.monotonic() + timeout
    while len(results) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(results) >= count, results


def test_submit_fans_out_to_hooks_that_want_the_event(receiver: Receiver) -> None:
    results: list[Delivery] = []

    async def main() -> None:
        dispatcher = WebhookDispatcher(delays=FAST, on_result=results.append)
        dispatcher.set_hooks(
            [
                hook(1, f"{receiver.base}/all"),
                hook(2, f"{receiver.base}/stops", events=("stop",)),
                hook(3, f"{receiver.base}/off", enabled=False),
            ]
        )
        await dispatcher.start()
        try:
            dispatcher.submit(event(EventType.PLAY))
            await wait_for(results, 1)
            await asyncio.sleep(0.1)  # give a wrongly targeted delivery the chance to show up
            assert [(r.hook_id, r.event_type) for r in results] == [(1, "play")]
            dispatcher.submit(event(EventType.STOP))
            await wait_for(results, 3)
        finally:
            await dispatcher.stop()

    asyncio.run(main())
    assert sorted((r.hook_id, r.event_type, r.ok) for r in results) == [
        (1, "play", True),
        (1, "stop", True),
        (2, "stop", True),
    ]
    assert [json.loads(r.body)["type"] for r in receiver.paths("/stops")] == ["stop"]
    assert receiver.paths("/off") == []


def test_a_slow_hook_does_not_hold_up_others_and_each_hook_stays_in_order(receiver: Receiver) -> None:
    results: list[Delivery] = []
    titles = [f"item {n}" for n in range(3)]

    async def main() -> None:
        dispatcher = WebhookDispatcher(delays=FAST, on_result=results.append)
        dispatcher.set_hooks([hook(1, f"{receiver.base}/slow"), hook(2, f"{receiver.base}/fast")])
        await dispatcher.start()
        try:
            # submit from another thread, as the Plex monitor does
            def produce() -> None:
                for title in titles:
                    dispatcher.submit(event(title=title))

            await asyncio.to_thread(produce)
            await wait_for(results, 3)
            assert [r.hook_id for r in results] == [2, 2, 2]  # the fast hook finished first
            await wait_for(results, 6, timeout=4.0)
        finally:
            await dispatcher.stop()

    asyncio.run(main())
    assert [json.loads(r.body)["title"] for r in receiver.paths("/slow")] == titles
    assert [json.loads(r.body)["title"] for r in receiver.paths("/fast")] == titles


def test_stop_cancels_pending_deliveries_and_submit_after_stop_is_harmless(receiver: Receiver) -> None:
    results: list[Delivery] = []

    async def main() -> None:
        dispatcher = WebhookDispatcher(delays=(5.0,), on_result=results.append)
        receiver.flaky_failures = 100
        dispatcher.set_hooks([hook(1, f"{receiver.base}/flaky")])
        await dispatcher.start()
        dispatcher.submit(event())
        deadline = time.monotonic() + 2
        while not receiver.paths("/flaky") and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await dispatcher.stop()  # the worker is sleeping 5 s before its retry: stop must not wait for it
        assert time.monotonic() - started < 1
        dispatcher.submit(event())

    asyncio.run(main())
    assert results == []
    assert len(receiver.paths("/flaky")) == 1


def test_podcast_bus_events_reach_webhooks(receiver: Receiver, container: Container) -> None:
    container.plex_outputs.add_webhook("podcasts", f"{receiver.base}/ok", events=["episode_downloaded"])
    hub = container.plex_hub

    async def run() -> None:
        await hub.start()
        try:
            container.bus.publish("podcasts.episode.failed", {"podcast": "Show", "title": "Ep 1"})
            container.bus.publish("podcasts.episode.downloaded", {"podcast": "Show", "title": "Ep 2"})
            for _ in range(100):
                if receiver.paths("/ok"):
                    break
                await asyncio.sleep(0.05)
        finally:
            await hub.stop()

    asyncio.run(run())
    (request,) = receiver.paths("/ok")  # the filter keeps only episode_downloaded
    body = json.loads(request.body)
    assert body["type"] == "episode_downloaded"
    assert body["server"] == "Antenna"
    assert body["title"] == "Show : Ep 2"
    assert body["data"]["title"] == "Ep 2"
