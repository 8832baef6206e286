"""Plex page: live server cards, sessions and players over SSE, player controls, and the event history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from antenna.container import Container
from antenna.jobs.bus import Event
from antenna.plex.hub import STATE_TOPIC as STATE
from antenna.plex.outputs import EVENT_TYPES, StoredEvent
from antenna.web.deps import ContainerDep, require_login
from antenna.web.sse import SSE_HEADERS, batches, format_sse, latest_by_id
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
EVENTS_PAGE_SIZE = 50
ACTIONS = {"previous": "Previous", "play": "Play", "pause": "Pause", "stop": "Stop", "next": "Next"}


def server_blocks(container: Container) -> list[dict[str, Any]]:
    """Return each configured server with its live state (None before the first poll or when disabled)."""
    blocks = []
    for config in container.plex.servers():
        state = container.plex_hub.state(config.id) if config.enabled else None
        blocks.append(
            {
                "id": config.id,
                "name": config.name,
                "url": config.url,
                "enabled": config.enabled,
                "state": state.to_dict() if state else None,
            }
        )
    return blocks


def _stored_row(event: StoredEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "server": event.server_name,
        "at": event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        "user": event.user,
        "title": event.title,
        "client_id": event.client_id,
        "slot": event.slot,
    }


def _payload_row(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        at = datetime.fromisoformat(str(payload.get("at", ""))).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        at = ""
    return {
        "type": payload.get("type", ""),
        "server": payload.get("server", ""),
        "at": at,
        "user": payload.get("user", ""),
        "title": payload.get("title", ""),
        "client_id": payload.get("client_id", ""),
        "slot": payload.get("slot"),
        "live": True,
    }


def events_context(
    container: Container, type: str = "", server: str = "", q: str = "", page: int = 1
) -> dict[str, Any]:
    """Return the event history table's context: one page of stored events under the filters."""
    kind = type if type in EVENT_TYPES else ""
    server_id = int(server) if server.isdigit() else None
    types = [kind] if kind else []
    page = max(1, page)
    events, total = container.plex_outputs.events(
        types=types, server_id=server_id, text=q, limit=EVENTS_PAGE_SIZE, offset=(page - 1) * EVENTS_PAGE_SIZE
    )
    pages = max(1, (total + EVENTS_PAGE_SIZE - 1) // EVENTS_PAGE_SIZE)
    if page > pages:  # past the end (events were pruned): show the last page
        page = pages
        events, total = container.plex_outputs.events(
            types=types,
            server_id=server_id,
            text=q,
            limit=EVENTS_PAGE_SIZE,
            offset=(page - 1) * EVENTS_PAGE_SIZE,
        )
    return {
        "events": [_stored_row(e) for e in events],
        "total": total,
        "page": page,
        "pages": pages,
        "type": kind,
        "server": str(server_id) if server_id is not None else "",
        "q": q,
        "event_types": EVENT_TYPES,
        "filtered": bool(kind or server_id is not None or q),
    }


def settings_context(container: Container) -> dict[str, Any]:
    """Return the settings section's context; tokens, secrets and passwords are only said to be set."""
    servers = [
        {
            "id": s.id,
            "name": s.name,
            "url": s.url,
            "verify_tls": s.verify_tls,
            "enabled": s.enabled,
            "machine_id": s.machine_id,
            "path_maps": [f"{m.local} = {m.server}" for m in s.path_maps],
        }
        for s in container.plex.servers()
    ]
    mqtt = container.plex_outputs.mqtt()
    return {
        "servers": servers,
        "webhooks": container.plex_outputs.webhooks(),
        "mqtt": {
            "enabled": mqtt.enabled,
            "host": mqtt.host,
            "port": str(mqtt.port),
            "username": mqtt.username,
            "has_password": bool(mqtt.password),
            "tls": mqtt.tls,
            "topic_prefix": mqtt.topic_prefix,
            "discovery_prefix": mqtt.discovery_prefix,
            "discovery": mqtt.discovery,
        },
        "mqtt_status": container.plex_hub.mqtt.status(),
        "event_types": EVENT_TYPES,
        "errors": {},
        "form": {},
    }


def page_context(container: Container, **overrides: Any) -> dict[str, Any]:
    """Return everything the Plex page shows; overrides carry a failed form's values and errors."""
    blocks = server_blocks(container)
    context: dict[str, Any] = {
        "blocks": blocks,
        "actions": ACTIONS,
        "server_choices": [(b["id"], b["name"]) for b in blocks],
        **events_context(container),
        **settings_context(container),
    }
    context.update(overrides)
    return context


@router.get("/plex", response_class=HTMLResponse)
def plex_page(request: Request, container: ContainerDep) -> Response:
    """Show the live Plex page: servers, sessions, players, events and settings."""
    return templates.TemplateResponse(request, "plex.html", page_context(container))


@router.get("/plex/events", response_class=HTMLResponse)
def plex_events(
    request: Request, container: ContainerDep, type: str = "", server: str = "", q: str = "", page: int = 1
) -> Response:
    """Return the event history table for the filters and page."""
    context = events_context(container, type, server, q, page)
    context["server_choices"] = [(s.id, s.name) for s in container.plex.servers()]
    return templates.TemplateResponse(request, "partials/plex_events.html", context)


@router.get("/plex/live", include_in_schema=False)
async def plex_live(request: Request, container: ContainerDep) -> StreamingResponse:
    """Stream server blocks and new event rows as HTML fragments for HTMX's SSE extension."""
    subscription = container.bus.subscribe("plex.")
    server_part = templates.get_template("partials/plex_server.html")
    row_part = templates.get_template("partials/plex_event_row.html")

    async def stream() -> AsyncIterator[str]:
        yield ": connected\n\n"
        async for batch in batches(request, subscription):
            if not batch:
                yield ": keepalive\n\n"
                continue
            # Keyed by server: a burst of offset updates renders each server's block once, latest state.
            states = [
                Event(e.topic, {"id": e.data["server_id"], "state": e.data})
                for e in batch
                if e.topic == STATE
            ]
            for event in latest_by_id(states):
                state = event.data["state"]
                block = {"id": state["server_id"], "name": state["name"], "enabled": True, "state": state}
                html = server_part.render(block=block, actions=ACTIONS)
                yield format_sse(f"plex-server-{state['server_id']}", html)
            for event in batch:
                if event.topic.startswith("plex.event."):
                    yield format_sse("plex-event", row_part.render(event=_payload_row(event.data)))

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/plex/servers/{server_id}/clients/{machine_id}/command", response_class=HTMLResponse)
async def player_command(
    request: Request,
    server_id: int,
    machine_id: str,
    container: ContainerDep,
    action: Annotated[str, Form()],
) -> Response:
    """Send a playback command to a player and say how it went."""
    route = await container.plex_hub.command(server_id, machine_id, action)
    state = container.plex_hub.state(server_id)
    title = next((c.device_title for c in state.clients if c.machine_id == machine_id), "") if state else ""
    how = "directly" if route == "direct" else "through the Plex server"
    return templates.TemplateResponse(
        request,
        "partials/flash.html",
        {"kind": "ok", "message": f"Sent {action} to {title or machine_id} ({how})."},
    )


@router.post("/plex/test-event", response_class=HTMLResponse)
async def test_event(request: Request, container: ContainerDep) -> Response:
    """Publish a test event through the history, webhooks and MQTT."""
    await container.plex_hub.send_test_event()
    hooks = await asyncio.to_thread(container.plex_outputs.webhooks)
    enabled = sum(1 for h in hooks if h.enabled)
    mqtt = container.plex_hub.mqtt.status()
    where = [f"{enabled} webhook(s)"] + (["MQTT"] if mqtt["enabled"] else [])
    return templates.TemplateResponse(
        request,
        "partials/flash.html",
        {"kind": "ok", "message": f"Sent a test event to the history and {' and '.join(where)}."},
    )
