"""Settings page: settings in force, API key, backups, schedules."""

from __future__ import annotations

import html
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from antenna.errors import Conflict, UserError
from antenna.jobs.runner import job_payload
from antenna.settings import SETTINGS_FILE, redacted_view
from antenna.web.deps import AuthDep, ContainerDep, require_login
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
NEW = "__new__"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise UserError(
            f"Schedule name {name!r} is not usable.",
            "Use up to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
        )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, container: ContainerDep, auth: AuthDep) -> Response:
    """Show settings, the API key, backups and schedules."""
    return templates.TemplateResponse(
        request,
        "settings.html",
        {
            "settings": redacted_view(container.settings),
            "settings_file": container.data_dir / SETTINGS_FILE,
            "api_key": auth.api_key(),
            "backups": container.backups.list(),
            "schedules": container.schedule_service.list(),
            "kinds": list(container.runner.kinds.values()),
            "backup_jobs": [job_payload(j) for j in container.jobs.active(kind="backup")],
        },
    )


@router.post("/settings/api-key", response_class=HTMLResponse)
def regenerate_api_key(request: Request, auth: AuthDep) -> Response:
    """Make a new API key and show it."""
    return templates.TemplateResponse(
        request, "partials/api_key.html", {"api_key": auth.regenerate_api_key()}
    )


@router.post("/settings/backup", response_class=HTMLResponse)
def start_backup(request: Request, container: ContainerDep) -> Response:
    """Start a backup job and show its live progress bar."""
    job = container.runner.submit("backup")
    return templates.TemplateResponse(request, "partials/job_live.html", {"job": job_payload(job)})


@router.get("/settings/backups", response_class=HTMLResponse)
def backups_table(request: Request, container: ContainerDep) -> Response:
    """Return the backups table (refreshed when a backup finishes)."""
    return templates.TemplateResponse(request, "partials/backups.html", {"backups": container.backups.list()})


@router.post("/schedules/{name}", response_class=HTMLResponse)
def save_schedule(
    request: Request,
    name: str,
    container: ContainerDep,
    expression: Annotated[str, Form()],
    timezone: Annotated[str, Form()] = "",
    quiet_window: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
    job_kind: Annotated[str, Form()] = "",
    new_name: Annotated[str, Form()] = "",
) -> Response:
    """Validate and save a schedule (``__new__`` adds one); on error show the message next to the field."""
    adding = name == NEW
    try:
        if adding:
            name = new_name.strip()
            _check_name(name)
            if container.schedules.get(name) is not None:
                raise Conflict(
                    f"A schedule named {name!r} exists already.", "Edit that one, or pick another name."
                )
        view = container.schedule_service.set(
            name,
            expression,
            job_kind=job_kind or None,
            timezone=timezone.strip(),
            quiet_window=quiet_window.strip(),
            enabled=enabled == "on",
        )
    except UserError as exc:
        current = None if adding else container.schedules.get(name)
        return templates.TemplateResponse(
            request,
            "partials/schedule_row.html",
            {
                "view": None,
                "name": "" if adding else name,
                "form": {
                    "new_name": new_name,
                    "expression": expression,
                    "timezone": timezone,
                    "quiet_window": quiet_window,
                    "enabled": enabled == "on",
                    "job_kind": job_kind or (current.job_kind if current else ""),
                },
                "error": str(exc),
                "kinds": list(container.runner.kinds.values()),
            },
        )
    return templates.TemplateResponse(
        request,
        "partials/schedule_row.html",
        {
            "view": view,
            "name": name,
            "form": None,
            "error": "",
            "saved": True,
            "kinds": list(container.runner.kinds.values()),
        },
    )


@router.post("/schedules/{name}/run", response_class=HTMLResponse)
def run_schedule_now(request: Request, name: str, container: ContainerDep) -> Response:
    """Start a schedule's job now."""
    view = container.schedule_service.get(name)
    job = container.runner.submit(view.schedule.job_kind, view.schedule.params, schedule=name)
    return templates.TemplateResponse(
        request, "partials/flash.html", {"kind": "ok", "message": f"Started {name} (job #{job.id})."}
    )


@router.post("/schedules/{name}/delete", response_class=HTMLResponse)
def delete_schedule(name: str, container: ContainerDep) -> Response:
    """Delete a schedule; the answer removes its row and its hidden edit row."""
    container.schedule_service.delete(name)
    return HTMLResponse(f'<tr id="schedule-{html.escape(name)}-edit" hx-swap-oob="delete"></tr>')
