"""IPTV over HTTP: the playlist and guides for players (no login), and the REST API under /api/iptv."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from antenna.errors import NotFound
from antenna.iptv.models import JOB_KIND
from antenna.jobs.runner import job_payload
from antenna.web.deps import ContainerDep, require_api_key, require_media_token

media = APIRouter(prefix="/iptv", include_in_schema=False, dependencies=[Depends(require_media_token)])
router = APIRouter(prefix="/api/iptv", tags=["iptv"], dependencies=[Depends(require_api_key)])


def _file(path: Path, media_type: str) -> FileResponse:
    if not path.exists():
        raise NotFound("Nothing merged yet.", "Add an IPTV source and refresh: antenna iptv refresh --wait")
    # no-cache: players re-fetch after each refresh instead of keeping a stale guide.
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


@media.get("/playlist.m3u")
def playlist(container: ContainerDep) -> FileResponse:
    """Serve the Kodi IPTV Simple playlist."""
    return _file(container.iptv.playlist_path, "audio/x-mpegurl")


@media.get("/xmltv.xml")
def guide(container: ContainerDep) -> FileResponse:
    """Serve the XMLTV guide uncompressed (Plex does not read gzip)."""
    return _file(container.iptv.guide_path, "application/xml")


@media.get("/xmltv.xml.gz")
def guide_gz(container: ContainerDep) -> FileResponse:
    """Serve the gzipped XMLTV guide (Kodi)."""
    return _file(container.iptv.guide_gz_path, "application/gzip")


class AddSource(BaseModel):
    """Add an IPTV source."""

    name: str
    kind: str = Field(description="url, file, xtream or command")
    location: str = Field(description="URL, file path, Xtream server, or the command to run")
    role: str = Field("both", description="channels, guide or both")
    username: str = ""
    password: str = ""
    timezone: str = Field("UTC", description="Zone of guide times without an offset")
    schedule: str = Field("every 6h", description='e.g. "every 6h", "daily 04:00"')
    timeout_seconds: int = 60
    priority: int = Field(100, description="Lower first when several guides cover a channel")
    icon: str = ""
    user_agent: str = ""
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description="include_groups, exclude_groups, include_regex, exclude_regex, group_starts {group: n}",
    )


class ChangeChannel(BaseModel):
    """Override how a channel is shown; null clears a field."""

    name: str | None = None
    number: str | None = None
    group_name: str | None = None
    logo: str | None = None
    guide_id: str | None = None
    enabled: bool | None = None


@router.get("/sources")
def sources(container: ContainerDep) -> list[dict[str, Any]]:
    """List sources (passwords only said to be set)."""
    return [s.to_dict() for s in container.iptv.sources()]


@router.post("/sources", status_code=201)
def add_source(body: AddSource, container: ContainerDep) -> dict[str, Any]:
    """Add a source and its refresh schedule."""
    values = body.model_dump()
    return container.iptv.add_source(
        values.pop("name"), values.pop("kind"), values.pop("location"), **values
    ).to_dict()


@router.delete("/sources/{ref}")
def remove_source(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Remove a source, its overrides and its cached data."""
    return {"removed": container.iptv.remove_source(ref).name}


@router.post("/sources/{ref}/test")
def test_source(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Fetch a source now and say what it holds."""
    return {"result": container.iptv.test_source(ref)}


@router.post("/refresh", status_code=202)
def refresh(container: ContainerDep, source: list[int] | None = None) -> dict[str, Any]:
    """Queue a refresh of every enabled source (or those given) and a rebuild of the outputs."""
    return job_payload(container.runner.submit(JOB_KIND, {"sources": source or []}))


@router.get("/channels")
def channels(container: ContainerDep) -> list[dict[str, Any]]:
    """List the merged channels of the last refresh."""
    return container.iptv.channels()


@router.patch("/channels/{source}/{key:path}")
async def change_channel(
    source: str, key: str, body: ChangeChannel, container: ContainerDep
) -> dict[str, Any]:
    """Override a channel's name, number, group, logo, guide id or enabled state (kept across refreshes)."""
    fields = body.model_dump(exclude_unset=True)
    await asyncio.to_thread(container.iptv.set_override, source, key, **fields)
    return {"changed": key, "fields": sorted(fields), "note": "applies at the next refresh"}


@router.get("/report")
def report(container: ContainerDep) -> dict[str, Any]:
    """Return the report of the last refresh."""
    found = container.iptv.report()
    if found is None:
        raise NotFound("No refresh has run yet.", "POST /api/iptv/refresh")
    return found
