"""Server-sent events: live job progress for the pages (HTML fragments) and the API (JSON)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from antenna.jobs.bus import Event, Subscription
from antenna.web.deps import ContainerDep, require_api_key, require_login
from antenna.web.templating import templates

router = APIRouter()
KEEPALIVE_SECONDS = 15.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def format_sse(event: str, data: str) -> str:
    """Return one SSE message; every line of data gets its own data: field."""
    lines = "".join(f"data: {line}\n" for line in (data.splitlines() or [""]))
    return f"event: {event}\n{lines}\n"


async def batches(request: Request, subscription: Subscription) -> AsyncIterator[list[Event]]:
    # Coalesce bursts: a job reporting thousands of steps a second sends only its latest state.
    try:
        while not await request.is_disconnected():
            first = await subscription.get(KEEPALIVE_SECONDS)
            if first is None:
                yield []
                continue
            batch = [first]
            while (more := await subscription.get(0)) is not None:
                batch.append(more)
            yield batch
    finally:
        subscription.close()


def latest_by_id(batch: list[Event]) -> list[Event]:
    latest: dict[object, Event] = {}
    for event in batch:
        latest[event.data.get("id", id(event))] = event
    return list(latest.values())


@router.get("/events", include_in_schema=False, dependencies=[Depends(require_login)])
async def page_events(request: Request, container: ContainerDep) -> StreamingResponse:
    """Stream job rows as HTML fragments for HTMX's SSE extension."""
    subscription = container.bus.subscribe("job")

    async def stream() -> AsyncIterator[str]:
        yield ": connected\n\n"
        async for batch in batches(request, subscription):
            if not batch:
                yield ": keepalive\n\n"
                continue
            changed = False
            for event in latest_by_id(batch):
                job = event.data
                html = templates.get_template("partials/job_progress.html").render(job=job)
                yield format_sse(f"job-{job['id']}", html)
                changed = changed or job["status"] != "running"
            if changed:
                yield format_sse("jobs-changed", "1")

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/api/events", tags=["events"], dependencies=[Depends(require_api_key)])
async def api_events(request: Request, container: ContainerDep, topic: str = "") -> StreamingResponse:
    """Stream every event (or those whose topic starts with `topic`) as JSON server-sent events."""
    subscription = container.bus.subscribe(*([topic] if topic else []))

    async def stream() -> AsyncIterator[str]:
        yield ": connected\n\n"
        async for batch in batches(request, subscription):
            if not batch:
                yield ": keepalive\n\n"
            for event in batch:
                payload = {"topic": event.topic, "at": event.at.isoformat(), "data": event.data}
                yield format_sse(event.topic, json.dumps(payload))

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)
