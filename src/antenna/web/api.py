"""REST API under /api/ (X-Api-Key); /api/health is open."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from antenna import __version__
from antenna.db.migrate import current_revision
from antenna.errors import NotFound
from antenna.jobs.models import JobStatus
from antenna.jobs.runner import job_payload
from antenna.jobs.schedule_service import schedule_payload
from antenna.logs import recent_activity
from antenna.settings import redacted_view
from antenna.web.deps import AuthDep, ContainerDep, require_api_key

router = APIRouter(prefix="/api")
secured = APIRouter(dependencies=[Depends(require_api_key)])


class StartJob(BaseModel):
    """Start a job of a kind."""

    kind: str = Field(description="A registered job kind, e.g. backup or maintenance.")
    params: dict[str, Any] = Field(default_factory=dict)


class SetSchedule(BaseModel):
    """Create or change a schedule."""

    expression: str = Field(description='"every 6h", "daily 03:30" or a 5-field crontab.')
    job_kind: str | None = None
    timezone: str | None = Field(None, description="IANA timezone; empty: Antenna's default.")
    quiet_window: str | None = Field(None, description='e.g. "01:00-05:00"; empty: none.')
    enabled: bool | None = None


@router.get("/health", tags=["system"])
async def health(container: ContainerDep) -> JSONResponse:
    """Return whether Antenna and its database answer (no key needed)."""
    try:
        revision = await asyncio.to_thread(current_revision, container.engine)
    except Exception as exc:  # noqa: BLE001  (health must answer even when the database does not)
        return JSONResponse({"status": "error", "database": f"unreachable: {type(exc).__name__}"}, 503)
    return JSONResponse({"status": "ok", "version": __version__, "schema": revision})


@secured.get("/jobs", tags=["jobs"])
def list_jobs(
    container: ContainerDep,
    status: list[JobStatus] = Query(default=[]),  # noqa: B008
    kind: str | None = None,
    q: str = "",
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """List jobs, newest first."""
    jobs = container.jobs.search(limit=limit, offset=offset, status=status, kind=kind, search=q)
    total = container.jobs.count(status=status, kind=kind, search=q)
    return {"total": total, "jobs": [job_payload(j) for j in jobs]}


@secured.get("/jobs/kinds", tags=["jobs"])
def job_kinds(container: ContainerDep) -> list[dict[str, Any]]:
    """List the kinds of job that can be started."""
    return [
        {"name": k.name, "title": k.title, "description": k.description, "resumable": k.resumable}
        for k in container.runner.kinds.values()
    ]


@secured.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: int, container: ContainerDep) -> dict[str, Any]:
    """Return one job with its failed items."""
    job = container.jobs.get(job_id)
    if job is None:
        raise NotFound(f"No job #{job_id}.")
    failures = [
        {"item": f.item, "reason": f.reason, "at": f.at.isoformat()} for f in container.jobs.failures(job_id)
    ]
    return {**job_payload(job), "failures": failures}


@secured.post("/jobs", tags=["jobs"], status_code=202)
def start_job(body: StartJob, container: ContainerDep) -> dict[str, Any]:
    """Queue a job; follow it at /api/jobs/{id} or /api/events."""
    return job_payload(container.runner.submit(body.kind, body.params))


@secured.post("/jobs/{job_id}/cancel", tags=["jobs"])
def cancel_job(job_id: int, container: ContainerDep) -> dict[str, Any]:
    """Cancel a queued or running job."""
    return job_payload(container.runner.cancel(job_id))


@secured.get("/schedules", tags=["schedules"])
def list_schedules(container: ContainerDep) -> list[dict[str, Any]]:
    """List schedules with their next runs."""
    return [schedule_payload(v) for v in container.schedule_service.list()]


@secured.put("/schedules/{name}", tags=["schedules"])
def set_schedule(name: str, body: SetSchedule, container: ContainerDep) -> dict[str, Any]:
    """Create or change a schedule; an invalid expression is refused with 400 and the reason."""
    view = container.schedule_service.set(
        name,
        body.expression,
        job_kind=body.job_kind,
        timezone=body.timezone,
        quiet_window=body.quiet_window,
        enabled=body.enabled,
    )
    return schedule_payload(view)


@secured.delete("/schedules/{name}", tags=["schedules"], status_code=204)
def delete_schedule(name: str, container: ContainerDep) -> None:
    """Delete a schedule."""
    container.schedule_service.delete(name)


@secured.get("/backups", tags=["backups"])
def list_backups(container: ContainerDep) -> list[dict[str, Any]]:
    """List backup archives, newest first."""
    return [
        {
            "name": b.name,
            "created_at": b.created_at.isoformat(),
            "size_bytes": b.size_bytes,
            "engine": b.engine,
        }
        for b in container.backups.list()
    ]


@secured.post("/backups", tags=["backups"], status_code=202)
def start_backup(container: ContainerDep) -> dict[str, Any]:
    """Start a backup job."""
    return job_payload(container.runner.submit("backup"))


@secured.get("/settings", tags=["system"])
def get_settings(container: ContainerDep) -> dict[str, str]:
    """Return the settings in force, secrets masked."""
    return redacted_view(container.settings)


@secured.post("/settings/api-key", tags=["system"])
def regenerate_api_key(auth: AuthDep) -> dict[str, str]:
    """Replace the API key; the old one stops working at once."""
    return {"api_key": auth.regenerate_api_key()}


@secured.get("/activity", tags=["system"])
def activity(container: ContainerDep, limit: int = Query(200, ge=1, le=2000)) -> list[dict[str, str]]:
    """Return recent log events, newest first."""
    return [
        {"at": e.at, "level": e.level, "logger": e.logger, "message": e.message}
        for e in recent_activity(container.data_dir, limit=limit)
    ]


router.include_router(secured)
