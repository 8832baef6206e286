"""Plex REST API under /api/plex (X-Api-Key), the inbound Plex webhook, and stable now-playing art URLs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from antenna.errors import AuthError, NotFound, UserError
from antenna.plex.models import MqttConfig, ServerConfig, ServerInfo
from antenna.plex.plan import parse_path_map
from antenna.web.deps import AuthDep, ContainerDep, require_api_key, require_media_token

router = APIRouter(prefix="/api/plex", tags=["plex"], dependencies=[Depends(require_api_key)])
inbound = APIRouter(prefix="/api/plex", tags=["plex"])
media = APIRouter(prefix="/plex/art", include_in_schema=False)
PLACEHOLDER = Path(__file__).with_name("static") / "plex-placeholder.png"


class AddServer(BaseModel):
    """Add a Plex server."""

    url: str = Field(description="e.g. http://192.168.1.10:32400")
    token: str = Field(description="The X-Plex-Token of the server's owner.")
    name: str = ""
    verify_tls: bool = True
    path_maps: list[str] = Field(default_factory=list, description='"LOCAL=SERVER" prefixes.')


class ChangeServer(BaseModel):
    """Change a Plex server; absent fields stay as they are."""

    url: str | None = None
    token: str | None = None
    name: str | None = None
    verify_tls: bool | None = None
    enabled: bool | None = None
    path_maps: list[str] | None = None
    watched_policy: str | None = Field(None, description="owner, any or all_of")
    watched_users: list[str] | None = None


class CreateSection(BaseModel):
    """Create a TV-show section for a folder."""

    name: str
    folder: str = Field(description="The folder as Antenna sees it (path maps translate it).")
    language: str = "en-US"


class Refresh(BaseModel):
    """Scan a section, or only one folder of it."""

    section: str = ""
    path: str = ""


class Command(BaseModel):
    """A playback command."""

    action: str = Field(
        description="play, pause, stop, skip_next, skip_previous, step_forward, step_back, seek, volume"
    )
    arg: int | None = Field(None, description="milliseconds for seek, 0-100 for volume")


class AddWebhook(BaseModel):
    """Add an outgoing webhook."""

    name: str
    url: str
    secret: str = ""
    events: list[str] = Field(default_factory=list, description="Event types; empty: all.")
    enabled: bool = True


class Mqtt(BaseModel):
    """MQTT broker settings; an empty password keeps the stored one."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    tls: bool = False
    topic_prefix: str = "antenna"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True


def server_payload(config: ServerConfig) -> dict[str, Any]:
    """Return a server as JSON, without its token."""
    return {
        "id": config.id,
        "name": config.name,
        "url": config.url,
        "verify_tls": config.verify_tls,
        "enabled": config.enabled,
        "machine_id": config.machine_id,
        "path_maps": [f"{m.local}={m.server}" for m in config.path_maps],
        "watched_policy": config.watched_policy.value,
        "watched_users": list(config.watched_users),
    }


def info_payload(info: ServerInfo) -> dict[str, Any]:
    """Return what a server says about itself as JSON."""
    return {
        "name": info.name,
        "version": info.version,
        "platform": info.platform,
        "machine_id": info.machine_id,
    }


@router.get("/servers")
def list_servers(container: ContainerDep) -> list[dict[str, Any]]:
    """List the configured Plex servers."""
    return [server_payload(s) for s in container.plex.servers()]


@router.post("/servers", status_code=201)
async def add_server(body: AddServer, container: ContainerDep) -> dict[str, Any]:
    """Test the connection, then add the server."""
    maps = [parse_path_map(m) for m in body.path_maps]
    config, info = await asyncio.to_thread(
        container.plex.add_server,
        body.url,
        body.token,
        name=body.name,
        verify_tls=body.verify_tls,
        path_maps=maps,
    )
    await container.plex_hub.reload()
    return {**server_payload(config), "server": info_payload(info)}


@router.patch("/servers/{ref}")
async def change_server(ref: str, body: ChangeServer, container: ContainerDep) -> dict[str, Any]:
    """Change a server's settings."""
    changes = body.model_dump(exclude_none=True)
    if "path_maps" in changes:
        changes["path_maps"] = [parse_path_map(m) for m in changes["path_maps"]]
    config = await asyncio.to_thread(container.plex.update_server, ref, **changes)
    await container.plex_hub.reload()
    return server_payload(config)


@router.delete("/servers/{ref}")
async def remove_server(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Forget a server."""
    config = await asyncio.to_thread(container.plex.remove_server, ref)
    await container.plex_hub.reload()
    return {"removed": config.name}


@router.post("/servers/{ref}/test")
def test_server(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Connect to the server and report what it says."""
    return info_payload(container.plex.test(ref))


@router.get("/status")
def status(container: ContainerDep) -> list[dict[str, Any]]:
    """Return the live state of every monitored server: connection, counts, clients and slots."""
    return [state.to_dict() for state in container.plex_hub.states()]


@router.get("/servers/{ref}/sections")
def sections(ref: str, container: ContainerDep) -> list[dict[str, Any]]:
    """List the server's library sections."""
    return [
        {"id": s.id, "title": s.title, "type": s.type, "agent": s.agent, "locations": list(s.locations)}
        for s in container.plex.sections(ref)
    ]


@router.post("/servers/{ref}/sections", status_code=201)
def create_section(ref: str, body: CreateSection, container: ContainerDep) -> dict[str, Any]:
    """Create a TV section for a folder with the best local-metadata agent the server offers."""
    section = container.plex.create_show_section(body.name, body.folder, ref=ref, language=body.language)
    return {
        "id": section.id,
        "title": section.title,
        "agent": section.agent,
        "locations": list(section.locations),
    }


@router.post("/servers/{ref}/refresh")
def refresh(ref: str, body: Refresh, container: ContainerDep) -> dict[str, Any]:
    """Scan a section, or just one folder."""
    section, path = container.plex.refresh(ref=ref, section=body.section, path=body.path)
    return {"section": section.title, "section_id": section.id, "path": path}


@router.post("/servers/{ref}/sections/{section}/empty-trash")
def empty_trash(ref: str, section: str, container: ContainerDep) -> dict[str, Any]:
    """Empty a section's trash."""
    return {"section": container.plex.empty_trash(section, ref=ref).title}


@router.post("/servers/{ref}/watched")
def watched(ref: str, paths: list[str], container: ContainerDep) -> list[dict[str, Any]]:
    """Return the watched state of local episode files under the server's watched policy."""
    return [
        {
            "path": w.path,
            "server_path": w.server_path,
            "found": w.episode is not None,
            "watched": w.watched,
            "view_count": w.episode.view_count if w.episode else 0,
            "watched_by": list(w.episode.watched_by) if w.episode else [],
        }
        for w in container.plex.watched(paths, ref=ref)
    ]


@router.post("/servers/{ref}/clients/{client_id}/command")
async def command(ref: str, client_id: str, body: Command, container: ContainerDep) -> dict[str, Any]:
    """Send a playback command: straight to the player, else through the server."""
    route = await container.plex_hub.command(ref, client_id, body.action, body.arg)
    return {"sent": body.action, "route": route}


@router.get("/servers/{ref}/dvrs")
def dvrs(ref: str, container: ContainerDep) -> list[dict[str, Any]]:
    """List the server's Live TV DVRs with devices and channel mappings."""
    return [
        {
            "key": d.key,
            "uuid": d.uuid,
            "title": d.title,
            "lineup": d.lineup,
            "lineup_title": d.lineup_title,
            "devices": [
                {
                    "key": dev.key,
                    "uuid": dev.uuid,
                    "uri": dev.uri,
                    "make": dev.make,
                    "model": dev.model,
                    "title": dev.title,
                    "mappings": [
                        {"channel_key": k, "device_id": i, "enabled": e} for k, i, e in dev.mappings
                    ],
                }
                for dev in d.devices
            ],
        }
        for d in container.plex.dvrs(ref)
    ]


@router.get("/servers/{ref}/lineup-channels")
def lineup_channels(ref: str, container: ContainerDep, lineup: str = Query(...)) -> list[dict[str, Any]]:
    """List the channels of a guide lineup."""
    return [
        {
            "key": c.key,
            "identifier": c.identifier,
            "number": c.number,
            "title": c.title,
            "call_sign": c.call_sign,
        }
        for c in container.plex.lineup_channels(lineup, ref=ref)
    ]


@router.get("/servers/{ref}/channel-map")
def channel_map(
    ref: str,
    container: ContainerDep,
    lineup: str = Query(...),
    number: list[str] = Query(default=[]),  # noqa: B008
) -> dict[str, dict[str, str] | None]:
    """Return the best lineup channel for each channel number."""
    found = container.plex.channel_map(lineup, number, ref=ref)
    return {
        n: ({"key": c.key, "number": c.number, "title": c.title} if c else None) for n, c in found.items()
    }


@router.get("/events")
def events(
    container: ContainerDep,
    type: list[str] = Query(default=[]),  # noqa: B008
    server_id: int | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Return stored events, newest first."""
    found, total = container.plex_outputs.events(
        types=type, server_id=server_id, text=q, limit=limit, offset=offset
    )
    return {"total": total, "events": [e.to_dict() for e in found]}


@router.post("/test-event")
async def test_event(container: ContainerDep) -> dict[str, Any]:
    """Publish a test event to the bus, the webhooks and MQTT."""
    return (await container.plex_hub.send_test_event()).to_payload()


@router.get("/webhooks")
def webhooks(container: ContainerDep) -> list[dict[str, Any]]:
    """List outgoing webhooks (secrets are only said to be set)."""
    return [w.to_dict() for w in container.plex_outputs.webhooks()]


@router.post("/webhooks", status_code=201)
async def add_webhook(body: AddWebhook, container: ContainerDep) -> dict[str, Any]:
    """Add an outgoing webhook."""
    hook = await asyncio.to_thread(
        container.plex_outputs.add_webhook,
        body.name,
        body.url,
        secret=body.secret,
        events=body.events,
        enabled=body.enabled,
    )
    await container.plex_hub.reload()
    return hook.to_dict()


@router.delete("/webhooks/{hook_id}")
async def delete_webhook(hook_id: int, container: ContainerDep) -> dict[str, Any]:
    """Remove an outgoing webhook."""
    await asyncio.to_thread(container.plex_outputs.delete_webhook, hook_id)
    await container.plex_hub.reload()
    return {"removed": hook_id}


@router.get("/mqtt")
def get_mqtt(container: ContainerDep) -> dict[str, Any]:
    """Return the MQTT settings (password only said to be set) and the connection status."""
    config = container.plex_outputs.mqtt()
    data = {k: getattr(config, k) for k in Mqtt.model_fields if k != "password"}
    return {**data, "has_password": bool(config.password), "status": container.plex_hub.mqtt.status()}


@router.put("/mqtt")
async def put_mqtt(body: Mqtt, container: ContainerDep) -> dict[str, Any]:
    """Save the MQTT settings and reconnect."""
    await asyncio.to_thread(container.plex_outputs.save_mqtt, MqttConfig(**body.model_dump()))
    await container.plex_hub.reload()
    return get_mqtt(container)


@inbound.post("/webhook")
async def plex_webhook(request: Request, container: ContainerDep, auth: AuthDep) -> dict[str, Any]:
    """Receive a Plex webhook (multipart `payload`); the API key comes as X-Api-Key or ?key=."""
    key = request.headers.get("x-api-key") or request.query_params.get("key")
    if not auth.check_api_key(key):
        raise AuthError("Missing or wrong API key.", "Give Plex the URL with ?key=<your API key>.")
    form = await request.form()
    raw = form.get("payload")
    if not isinstance(raw, str):
        raise UserError(
            "The webhook has no 'payload' field.", "Plex sends multipart/form-data with a payload."
        )
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(f"The webhook payload is not JSON ({exc.msg}).") from exc
    if not isinstance(payload, dict):
        raise UserError("The webhook payload is not a JSON object.")
    server = await container.plex_hub.ingest_plex_webhook(payload)
    return {"accepted": str(payload.get("event", "")), "server": server}


async def _art_response(
    container: ContainerDep, server_id: int, *, client_id: str = "", slot: int = 0, kind: str, w: int, h: int
) -> Response:
    try:
        image = await container.plex_hub.art(
            server_id, client_id=client_id, slot=slot, kind=kind, width=w, height=h
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    except (UserError, NotFound):
        image = None  # a server that is down or a player that left: dashboards still get a picture
    headers = {"Cache-Control": "no-cache"}
    if image is None:
        placeholder = Path(container.settings.plex_art_placeholder or PLACEHOLDER)
        data = await asyncio.to_thread(placeholder.read_bytes)
        media_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        return Response(data, media_type=media_type, headers={**headers, "X-Antenna-Art": "placeholder"})
    media_type = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    return Response(image, media_type=media_type, headers=headers)


@media.get("/{server_id}/slot/{slot}", dependencies=[Depends(require_media_token)])
async def slot_art(
    server_id: int,
    slot: int,
    container: ContainerDep,
    kind: str = "poster",
    w: int = Query(0, ge=0, le=4000),
    h: int = Query(0, ge=0, le=4000),
) -> Response:
    """Return the now-playing art of the Nth active session (a placeholder when nothing plays)."""
    return await _art_response(container, server_id, slot=slot, kind=kind, w=w, h=h)


@media.get("/{server_id}/{client_id}", dependencies=[Depends(require_media_token)])
async def client_art(
    server_id: int,
    client_id: str,
    container: ContainerDep,
    kind: str = "poster",
    w: int = Query(0, ge=0, le=4000),
    h: int = Query(0, ge=0, le=4000),
) -> Response:
    """Return the now-playing art of a player (a placeholder when nothing plays)."""
    return await _art_response(container, server_id, client_id=client_id, kind=kind, w=w, h=h)
