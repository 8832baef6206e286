"""VOD over HTTP: the stable redirects .strm files hold (no login), and the REST API under /api/vod."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from antenna.errors import NotFound
from antenna.jobs.runner import job_payload
from antenna.vod.service import JOB_KIND
from antenna.web.deps import ContainerDep, require_api_key, require_media_token

media = APIRouter(prefix="/vod", include_in_schema=False, dependencies=[Depends(require_media_token)])
router = APIRouter(prefix="/api/vod", tags=["vod"], dependencies=[Depends(require_api_key)])


@media.get("/movie/{ident}")
async def movie(ident: str, container: ContainerDep) -> RedirectResponse:
    """Send a player to the movie's current provider URL (the .strm keeps Antenna's stable one)."""
    return RedirectResponse(await asyncio.to_thread(container.vod.redirect, "movie", ident), status_code=302)


@media.get("/episode/{ident}")
async def episode(ident: str, container: ContainerDep) -> RedirectResponse:
    """Send a player to the episode's current provider URL."""
    return RedirectResponse(
        await asyncio.to_thread(container.vod.redirect, "episode", ident), status_code=302
    )


class AddSource(BaseModel):
    """Add a VOD source: an Xtream account (xtream + username + password) or an M3U playlist."""

    name: str
    root: str = Field(description="The folder the .strm + NFO tree is written in")
    xtream: str = Field("", description="Xtream server URL")
    username: str = ""
    password: str = ""
    m3u: str = Field("", description="M3U URL or file with /movie/ and /series/ entries")
    base_url: str = Field("", description="Antenna's address as media servers reach it")
    url_mode: str = Field("redirect", description="redirect or provider")
    id_style: str = Field("plex", description="plex, jellyfin or none")
    schedule: str = Field("", description='"daily 03:00" or a crontab; empty: by hand')


class SourceSettings(BaseModel):
    """Change some settings of a source: only the fields sent change; null sets one back to its default."""

    model_config = ConfigDict(extra="forbid")

    xtream: str | None = Field(None, description="Xtream server URL (an M3U source becomes an Xtream one)")
    username: str | None = None
    password: str | None = None
    m3u: str | None = Field(None, description="M3U URL or file (an Xtream source becomes an M3U one)")
    root: str | None = Field(None, description="Output folder; the next export writes a whole new tree there")
    base_url: str | None = Field(None, description="Antenna's address for players; empty: the server's own")
    url_mode: str | None = Field(None, description="redirect or provider")
    schedule: str | None = Field(None, description='"daily 03:00" or a crontab; empty: by hand')
    id_style: str | None = Field(None, description="plex, jellyfin or none")
    movies_folder: str | None = Field(None, description="one folder name; default Movies")
    series_folder: str | None = Field(None, description="one folder name; default TV")
    movie_template: str | None = Field(None, description="from {title} {year} {id}")
    series_template: str | None = Field(None, description="from {title} {year} {id}")
    episode_template: str | None = Field(None, description="from {series} {season} {episode} {title}")
    clean_rules: list[str] | None = Field(
        None, description="regular expressions cut from the start of titles; null: Antenna's own; []: none"
    )
    include_categories: list[str] | None = Field(None, description="names or ids; empty: all")
    exclude_categories: list[str] | None = Field(None, description="names or ids")
    year_min: int | None = None
    year_max: int | None = None
    title_regex: str | None = Field(None, description="only titles matching it (any case); empty: all")
    rich_nfo: bool | None = Field(None, description="fetch each movie's details for its NFO")
    provider_workers: int | None = Field(None, description="requests at once to the provider, 1-64")
    disk_workers: int | None = Field(None, description="files written at once, 1-64; null: automatic")
    threshold: float | None = Field(None, description="largest share of the tree a cleanup may delete, 0-1")
    debug_log: bool | None = Field(None, description="each run also writes a debug log")


class Export(BaseModel):
    """Start an export of one source."""

    source: str
    scope: str = Field("all", description="all, movies or series")
    cleanup: str = Field("off", description="off, preview or apply")
    force: bool = Field(False, description="apply a cleanup past the safety threshold")


@router.get("/sources")
def sources(container: ContainerDep) -> list[dict[str, Any]]:
    """List sources (passwords only said to be set)."""
    return [s.to_dict() for s in container.vod.sources()]


@router.post("/sources", status_code=201)
def add_source(body: AddSource, container: ContainerDep) -> dict[str, Any]:
    """Add a source."""
    values = body.model_dump()
    return container.vod.add_source(values.pop("name"), **values).to_dict()


@router.get("/sources/{ref}")
def source(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Return one source with every setting (the password only said to be set)."""
    return container.vod.source(ref).to_dict()


@router.patch("/sources/{ref}")
def update_source(ref: str, body: SourceSettings, container: ContainerDep) -> dict[str, Any]:
    """Change some settings of a source; a naming change renames the files at the next export."""
    return container.vod.update_source(ref, body.model_dump(exclude_unset=True)).to_dict()


@router.delete("/sources/{ref}")
def remove_source(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Forget a source (its files stay)."""
    return {"removed": container.vod.remove_source(ref).name}


@router.post("/sources/{ref}/test")
def test_source(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Read a source's catalogue now and say what it holds."""
    return {"result": container.vod.test_source(ref)}


@router.post("/export", status_code=202)
def export(body: Export, container: ContainerDep) -> dict[str, Any]:
    """Queue an export (progress under /api/jobs)."""
    source = container.vod.source(body.source)
    params = {"source": source.id, "scope": body.scope, "cleanup": body.cleanup, "force": body.force}
    return job_payload(container.runner.submit(JOB_KIND, params))


@router.post("/sources/{ref}/stats")
def stats(ref: str, container: ContainerDep) -> dict[str, Any]:
    """Write the summary CSV (counts from the provider and the folder) and return its counts."""
    path, counts = container.vod.stats(ref)
    return {"csv": str(path), **counts}


@router.get("/runs")
def runs(container: ContainerDep, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """List exports, newest first."""
    return [_run(r) for r in container.vod.runs(source, min(max(limit, 1), 200))]


@router.get("/runs/{run_id}")
def run(run_id: int, container: ContainerDep) -> dict[str, Any]:
    """Return one export with its report rows."""
    info, rows = container.vod.report(run_id)
    return {**_run(info), "rows": rows}


@router.get("/runs/{run_id}/report.csv")
def run_csv(run_id: int, container: ContainerDep) -> FileResponse:
    """Download an export's CSV report."""
    info, _rows = container.vod.report(run_id)
    if not info["report"]:
        raise NotFound(f"Run {run_id} has no report.")
    return FileResponse(info["report"], media_type="text/csv", filename=f"vod-run-{run_id}.csv")


@router.get("/runs/{run_id}/debug.log")
def run_debug_log(run_id: int, container: ContainerDep) -> FileResponse:
    """Download an export's debug log (written when its source had the debug log on)."""
    container.vod.run_info(run_id)  # an unknown run is a 404 of its own
    path = container.vod.debug_log_path(run_id)
    if not path.exists():
        raise NotFound(
            f"Export #{run_id} has no debug log.",
            "Turn the source's debug log on (antenna vod source set NAME --debug-log) and export again.",
        )
    return FileResponse(path, media_type="text/plain", filename=f"vod-run-{run_id}.log")


def _run(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("started_at", "finished_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out
