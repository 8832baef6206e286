"""IPTV sources page: the source table with live refresh progress, the add form, and the output URLs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import AntennaError, NotFound, UserError
from antenna.iptv.models import JOB_KIND
from antenna.iptv.service import SourceView
from antenna.jobs.runner import job_payload
from antenna.web.deps import ContainerDep, require_login
from antenna.web.templating import flash, fragment, is_hx, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])

KINDS = {
    "url": ("URL", "An http(s) address of an M3U playlist or an XMLTV guide (.xml, .xml.gz, .xml.xz)."),
    "file": ("File", "A path on this machine, e.g. /srv/iptv/list.m3u; Antenna re-reads it at each refresh."),
    "xtream": (
        "Xtream Codes",
        "The provider's server address (http://host:port). Antenna reads its live channels and guide "
        "with the username and password below.",
    ),
    "command": (
        "Command",
        "A program that prints a playlist or a guide, or speaks the IPTV Manager protocol "
        "(e.g. an add-on's script); Antenna runs it at each refresh.",
    ),
}
ROLES = {"both": "Channels and guide", "channels": "Channels only", "guide": "Guide only"}
FORM_DEFAULTS = {
    "name": "",
    "kind": "url",
    "location": "",
    "role": "both",
    "username": "",
    "timezone": "UTC",
    "schedule": "every 6h",
    "timeout": "60",
    "priority": "100",
}
# Words in a service error message that say which form field it is about.
ERROR_FIELDS: Mapping[str, tuple[str, ...]] = {
    "timezone": ("timezone",),
    "schedule": ("schedule",),
    "timeout": ("timeout",),
    "username": ("username", "password"),
    "kind": ("sourcekind",),
    "role": ("sourcerole",),
    "name": ("name",),
}


def _fix(kind: str) -> str:
    return {
        "url": "Open the URL in a browser to check it still works, or ask the provider for a new one.",
        "file": "Check that the file exists and that Antenna may read it.",
        "xtream": "Check the server address, the username and the password with your provider.",
        "command": "Run the command in a shell to see what it prints.",
    }.get(kind, "")


def _advice(source: SourceView) -> str:
    """Return what to do about a source's last refresh, in a sentence."""
    if not source.enabled:
        return "Disabled: it is not fetched and its channels are left out. Enable it to use it again."
    if not source.last_status:
        return "Not fetched yet. Press Refresh to fetch it now."
    if source.last_status in ("ok", "unchanged"):
        return ""
    if source.last_status == "kept":
        return f"The last fetch failed, so the previous good data is still used. {_fix(source.kind)}"
    return f"Nothing could be fetched yet. {_fix(source.kind)} Then press Test now."


def sources_context(container: Container) -> dict[str, Any]:
    """Return the source table's context: each source, its advice, and a per-source refresh in progress."""
    running: dict[int, dict[str, Any]] = {}
    for job in container.jobs.active(kind=JOB_KIND):
        for source_id in job.params.get("sources") or []:
            running[int(source_id)] = job_payload(job)
    sources = container.iptv.sources()
    return {
        "sources": [
            {
                "view": s,
                "advice": _advice(s),
                "job": running.get(s.id),
                "kind_title": KINDS.get(s.kind, ("",))[0],
            }
            for s in sources
        ],
        "roles": ROLES,
    }


def refresh_context(container: Container) -> dict[str, Any]:
    """Return the "Refresh all" area's context: a whole refresh still queued or running, if any."""
    whole = [j for j in container.jobs.active(kind=JOB_KIND) if not j.params.get("sources")]
    return {"job": job_payload(whole[-1]) if whole else None, "target": "all sources"}


def outputs_context(container: Container) -> dict[str, Any]:
    """Return the output URLs and whether the files exist yet."""
    base = f"{container.settings.base_url}/iptv"
    suffix = "?token=MEDIA_TOKEN" if container.settings.media_token is not None else ""
    return {
        "playlist_url": f"{base}/playlist.m3u{suffix}",
        "guide_url": f"{base}/xmltv.xml{suffix}",
        "guide_gz_url": f"{base}/xmltv.xml.gz{suffix}",
        "outputs_ready": container.iptv.playlist_path.exists(),
        "media_token": bool(suffix),
    }


def page_context(container: Container, **overrides: Any) -> dict[str, Any]:
    """Return everything the sources page shows; overrides carry a failed form's values and errors."""
    context: dict[str, Any] = {
        **sources_context(container),
        **refresh_context(container),
        **outputs_context(container),
        "kinds": KINDS,
        "form": FORM_DEFAULTS,
        "errors": {},
    }
    context.update(overrides)
    return context


def _field(message: str) -> str:
    lowered = message.lower()
    for name, words in ERROR_FIELDS.items():
        if any(word in lowered for word in words):
            return name
    return "location"


def _number(text: str, field: str, low: int, high: int, what: str, errors: dict[str, str]) -> int:
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        errors[field] = f"{what} must be a whole number from {low} to {high}."
        return 0
    return int(value)


@router.get("/iptv", response_class=HTMLResponse)
def sources_page(request: Request, container: ContainerDep) -> Response:
    """Show the IPTV sources, the add form and the output URLs."""
    return templates.TemplateResponse(request, "iptv.html", page_context(container))


@router.get("/iptv/sources", response_class=HTMLResponse)
def sources_table(request: Request, container: ContainerDep) -> Response:
    """Return the source table (HTMX reload after a job or a change)."""
    return templates.TemplateResponse(request, "partials/iptv_sources.html", sources_context(container))


@router.post("/iptv/sources", response_class=HTMLResponse)
async def add_source(
    request: Request,
    container: ContainerDep,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "url",
    location: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "both",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    schedule: Annotated[str, Form()] = "every 6h",
    timeout: Annotated[str, Form()] = "60",
    priority: Annotated[str, Form()] = "100",
) -> Response:
    """Check and add a source; errors appear by their field (the password is never sent back)."""
    form = {
        "name": name,
        "kind": kind,
        "location": location,
        "role": role,
        "username": username,
        "timezone": timezone,
        "schedule": schedule,
        "timeout": timeout,
        "priority": priority,
    }
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the source a name, e.g. the provider's."
    if kind not in KINDS:
        errors["kind"] = f"Choose a kind: {', '.join(KINDS)}."
    if role not in ROLES:
        errors["role"] = "Choose what the source provides: channels, guide or both."
    if not location.strip():
        errors["location"] = "Say where the source is: a URL, a file path, a server or a command."
    if kind == "xtream" and not (username.strip() and password):
        errors["username"] = "An Xtream source needs the username and password your provider gave you."
    seconds = _number(timeout, "timeout", 1, 3600, "The timeout", errors)
    rank = _number(priority, "priority", 0, 1_000_000, "The priority", errors)
    added: SourceView | None = None
    if not errors:
        try:
            added = await asyncio.to_thread(
                container.iptv.add_source,
                name,
                kind,
                location,
                role=role,
                username=username.strip(),
                password=password,
                timezone=timezone.strip() or "UTC",
                schedule=schedule.strip() or "every 6h",
                timeout_seconds=seconds,
                priority=rank,
            )
        except UserError as exc:
            errors[_field(exc.message)] = str(exc)
    if not is_hx(request):
        if added is not None:
            return RedirectResponse("/iptv", status_code=303)
        context = await asyncio.to_thread(page_context, container, form=form, errors=errors)
        return templates.TemplateResponse(request, "iptv.html", context, status_code=400)
    context = {"kinds": KINDS, "roles": ROLES, "form": FORM_DEFAULTS if added else form, "errors": errors}
    if added is None:
        return fragment(request, "partials/iptv_source_form.html", context)
    message = f"Added {added.name}. Press Refresh on its row (or Refresh all) to fetch it now."
    return fragment(
        request,
        "partials/iptv_source_form.html",
        context,
        note=flash("ok", message),
        trigger="iptv-sources-changed",
    )


async def _table(request: Request, container: Container, message: str = "") -> Response:
    context = await asyncio.to_thread(sources_context, container)
    return fragment(
        request, "partials/iptv_sources.html", context, note=flash("ok", message) if message else ""
    )


@router.post("/iptv/sources/{source_id}/test", response_class=HTMLResponse)
async def test_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Fetch a source now and say what it holds, or what failed and what to do."""
    source = await asyncio.to_thread(container.iptv.source, source_id)
    try:
        found = await asyncio.to_thread(container.iptv.test_source, source_id)
        kind, message = "ok", f"Fetched {found}."
    except AntennaError as exc:
        kind, message = "error", f"Testing {source.name} failed: {exc} {_fix(source.kind)}"
    return templates.TemplateResponse(request, "partials/flash.html", {"kind": kind, "message": message})


@router.post("/iptv/sources/{source_id}/refresh", response_class=HTMLResponse)
async def refresh_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Start a refresh of one source; its row shows the live progress."""
    source = await asyncio.to_thread(container.iptv.source, source_id)
    if not source.enabled:
        raise UserError(f"{source.name} is disabled.", "Enable it first, then refresh.")
    container.runner.submit(JOB_KIND, {"sources": [source.id]})
    return await _table(request, container)


@router.post("/iptv/sources/{source_id}/toggle", response_class=HTMLResponse)
async def toggle_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Enable or disable a source (a disabled one is neither fetched nor merged)."""
    source = await asyncio.to_thread(container.iptv.source, source_id)
    await asyncio.to_thread(container.iptv.update_source, source_id, enabled=not source.enabled)
    state = "disabled" if source.enabled else "enabled"
    return await _table(request, container, f"{source.name} is {state}; this applies at the next refresh.")


@router.post("/iptv/sources/{source_id}/delete", response_class=HTMLResponse)
async def delete_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Forget a source, its channel changes and its cached data."""
    removed = await asyncio.to_thread(container.iptv.remove_source, source_id)
    message = f"Removed {removed.name}. Its channels leave the playlist at the next refresh."
    return await _table(request, container, message)


@router.post("/iptv/refresh", response_class=HTMLResponse)
async def refresh_all(request: Request, container: ContainerDep) -> Response:
    """Start a refresh of every enabled source and show its live progress."""
    sources = await asyncio.to_thread(container.iptv.sources)
    if not any(s.enabled for s in sources):
        raise UserError("There is no enabled source to refresh.", "Add a source on the Sources page first.")
    job = container.runner.submit(JOB_KIND, {"sources": []})
    context = {"job": job_payload(job), "target": "all sources"}
    return templates.TemplateResponse(request, "partials/iptv_refresh.html", context)


@router.get("/iptv/refresh/{job_id}", response_class=HTMLResponse)
def refresh_status(request: Request, job_id: int, container: ContainerDep) -> Response:
    """Return a refresh's progress; once it has finished, tell the page to reload its tables."""
    job = container.jobs.get(job_id)
    if job is None or job.kind != JOB_KIND:
        raise NotFound(f"No IPTV refresh #{job_id}.", "It may have been pruned from the job history.")
    context = {"job": job_payload(job), "target": request.query_params.get("target", "all sources")}
    response = templates.TemplateResponse(request, "partials/iptv_refresh.html", context)
    if job.status.finished:
        response.headers["HX-Trigger"] = "iptv-refreshed"
    return response
