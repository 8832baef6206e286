"""Plex settings on the Plex page: servers, outgoing webhooks and MQTT, with field errors in place."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import UserError
from antenna.plex.models import MqttConfig, PathMap
from antenna.plex.plan import parse_path_map
from antenna.web.deps import ContainerDep, require_login
from antenna.web.plex_views import page_context
from antenna.web.templating import is_hx, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
ANCHOR = "/plex#plex-settings"


def _field(message: str, fields: Mapping[str, tuple[str, ...]], default: str) -> str:
    """Return the form field an error message is about (by the words in it), else the default."""
    lowered = message.lower()
    for name, words in fields.items():
        if any(word in lowered for word in words):
            return name
    return default


def _path_maps(text: str) -> list[PathMap]:
    return [parse_path_map(line) for line in text.splitlines() if line.strip()]


async def _answer(
    request: Request, container: Container, partial: str, errors: dict[str, str], form: dict[str, Any]
) -> Response:
    """Re-render a settings partial (HTMX), or redirect / re-render the whole page (no JS)."""
    await container.plex_hub.reload()
    if is_hx(request):
        context = await asyncio.to_thread(page_context, container, errors=errors, form=form)
        return templates.TemplateResponse(request, partial, {**context, "saved": not errors})
    if not errors:
        return RedirectResponse(ANCHOR, status_code=303)
    context = await asyncio.to_thread(page_context, container, errors=errors, form=form)
    return templates.TemplateResponse(request, "plex.html", context, status_code=400)


@router.post("/plex/servers", response_class=HTMLResponse)
async def add_server(
    request: Request,
    container: ContainerDep,
    url: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    verify_tls: Annotated[str, Form()] = "",
    path_maps: Annotated[str, Form()] = "",
) -> Response:
    """Check and add a Plex server; errors appear next to the field they are about."""
    form = {"url": url, "name": name, "verify_tls": verify_tls == "on", "path_maps": path_maps}
    errors: dict[str, str] = {}
    try:
        maps = _path_maps(path_maps)
    except UserError as exc:
        errors["path_maps"] = str(exc)
    if not errors:
        try:
            await asyncio.to_thread(
                container.plex.add_server,
                url,
                token,
                name=name.strip(),
                verify_tls=verify_tls == "on",
                path_maps=maps,
            )
            form = {}
        except UserError as exc:
            field = _field(exc.message, {"token": ("token", "401"), "url": ("url", "plex server url")}, "url")
            errors[field] = str(exc)
    return await _answer(request, container, "partials/plex_servers_settings.html", errors, form)


@router.post("/plex/servers/{server_id}/test", response_class=HTMLResponse)
async def test_server(request: Request, server_id: int, container: ContainerDep) -> Response:
    """Connect to a server and say what it answered."""
    info = await asyncio.to_thread(container.plex.test, server_id)
    return templates.TemplateResponse(
        request,
        "partials/flash.html",
        {"kind": "ok", "message": f"Connected to {info.name}: Plex {info.version} on {info.platform}."},
    )


@router.post("/plex/servers/{server_id}/toggle", response_class=HTMLResponse)
async def toggle_server(request: Request, server_id: int, container: ContainerDep) -> Response:
    """Enable or disable monitoring of a server."""
    config = await asyncio.to_thread(container.plex.server, server_id)
    await asyncio.to_thread(container.plex.update_server, server_id, enabled=not config.enabled)
    return await _answer(request, container, "partials/plex_servers_settings.html", {}, {})


@router.post("/plex/servers/{server_id}/delete", response_class=HTMLResponse)
async def delete_server(request: Request, server_id: int, container: ContainerDep) -> Response:
    """Forget a server; its event history stays."""
    await asyncio.to_thread(container.plex.remove_server, server_id)
    return await _answer(request, container, "partials/plex_servers_settings.html", {}, {})


@router.post("/plex/webhooks", response_class=HTMLResponse)
async def add_webhook(
    request: Request,
    container: ContainerDep,
    name: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Add an outgoing webhook; no event ticked means every event."""
    chosen = events or []
    form: dict[str, Any] = {"hook_name": name, "hook_url": url, "hook_events": chosen}
    errors: dict[str, str] = {}
    try:
        await asyncio.to_thread(container.plex_outputs.add_webhook, name, url, secret=secret, events=chosen)
        form = {}
    except UserError as exc:
        field = _field(exc.message, {"hook_name": ("name",), "hook_events": ("event type",)}, "hook_url")
        errors[field] = str(exc)
    return await _answer(request, container, "partials/plex_webhooks.html", errors, form)


@router.post("/plex/webhooks/{hook_id}/delete", response_class=HTMLResponse)
async def delete_webhook(request: Request, hook_id: int, container: ContainerDep) -> Response:
    """Remove an outgoing webhook."""
    await asyncio.to_thread(container.plex_outputs.delete_webhook, hook_id)
    return await _answer(request, container, "partials/plex_webhooks.html", {}, {})


@router.post("/plex/mqtt", response_class=HTMLResponse)
async def save_mqtt(
    request: Request,
    container: ContainerDep,
    host: Annotated[str, Form()] = "",
    port: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    topic_prefix: Annotated[str, Form()] = "",
    discovery_prefix: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
    tls: Annotated[str, Form()] = "",
    discovery: Annotated[str, Form()] = "",
) -> Response:
    """Save the MQTT settings (a blank password keeps the stored one) and reconnect."""
    form: dict[str, Any] = {
        "enabled": enabled == "on",
        "host": host,
        "port": port,
        "username": username,
        "tls": tls == "on",
        "topic_prefix": topic_prefix,
        "discovery_prefix": discovery_prefix,
        "discovery": discovery == "on",
    }
    errors: dict[str, str] = {}
    number = int(port.strip()) if port.strip().isdigit() else None
    if number is None:
        errors["mqtt_port"] = f"Port {port!r} is not a number. The usual port is 1883 (8883 with TLS)."
    else:
        config = MqttConfig(
            enabled=enabled == "on",
            host=host,
            port=number,
            username=username.strip(),
            password=password,
            tls=tls == "on",
            topic_prefix=topic_prefix,
            discovery_prefix=discovery_prefix,
            discovery=discovery == "on",
        )
        try:
            await asyncio.to_thread(container.plex_outputs.save_mqtt, config)
            form = {}
        except UserError as exc:
            fields = {
                "mqtt_port": ("port",),
                "mqtt_topic_prefix": ("topic prefix",),
                "mqtt_discovery_prefix": ("discovery prefix",),
            }
            errors[_field(exc.message, fields, "mqtt_host")] = str(exc)
    answer = await _answer(
        request, container, "partials/plex_mqtt.html", errors, {"mqtt": form} if form else {}
    )
    if is_hx(request) and not errors:
        answer.headers["HX-Trigger"] = "plex-mqtt-saved"
    return answer
