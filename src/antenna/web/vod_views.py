"""VOD page: sources with their export buttons and live progress, the add form, and the export history."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import AntennaError, Conflict, UserError
from antenna.jobs.runner import job_payload
from antenna.redact import redact
from antenna.vod.service import JOB_KIND, SCOPES
from antenna.vod.sources import VodSourceView
from antenna.web.deps import ContainerDep, require_login
from antenna.web.templating import flash, fragment, is_hx, templates
from antenna.web.vod_run_views import SCOPE_TITLES, report_context, runs_context

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])

KINDS = {"xtream": "Xtream Codes", "m3u": "M3U playlist"}
URL_MODES = {
    "redirect": "Antenna's stable address (redirects to the provider; no password in the files)",
    "provider": "The provider's own URL (players need no Antenna; files hold your login)",
}
ID_STYLES = {
    "plex": "{tmdb-123} (Jellyfin 10.9+, Plex naming)",
    "jellyfin": "[tmdbid-123] (Jellyfin, Emby)",
    "none": "No id in folder names",
}
CLEANUPS = ("off", "preview", "apply")
FORM_DEFAULTS = {
    "name": "",
    "xtream": "",
    "username": "",
    "m3u": "",
    "root": "",
    "base_url": "",
    "url_mode": "redirect",
    "id_style": "plex",
    "schedule": "",
}
# Words in a service error message that say which form field it is about (first match wins).
ERROR_FIELDS: Mapping[str, tuple[str, ...]] = {
    "schedule": ("schedule",),
    "root": ("--root", "output folder"),
    "username": ("--username", "password"),
    "url_mode": ("urlmode",),
    "id_style": ("idstyle",),
    "name": ("named", "a name"),
}


# Report columns the preview shows (uuid and the .nfo path are in the CSV download).
def _fix(kind: str) -> str:
    if kind == "xtream":
        return "Check the server address, the username and the password with your provider."
    return "Check that the playlist URL opens in a browser, or that the file exists and Antenna may read it."


def _advice(source: VodSourceView) -> str:
    """Return what to do about a source's last export, in a sentence."""
    if not source.last_status:
        return "Not exported yet. Press Generate All to write its library."
    if source.last_status == "failed":
        return f"Nothing was changed. {_fix(source.kind)} Then press Test now."
    if "refused" in source.last_message:
        return (
            "The cleanup was refused to keep your library safe. Check the report below; press Force cleanup "
            "only if the provider really dropped those titles."
        )
    return ""


def sources_context(container: Container) -> dict[str, Any]:
    """Return the source table's context: each source, its advice, and its export in progress."""
    running: dict[int, dict[str, Any]] = {}
    for job in container.jobs.active(kind=JOB_KIND):
        if str(job.params.get("source", "")).isdigit():
            running[int(job.params["source"])] = job_payload(job)
    return {
        "sources": [
            {
                "view": s,
                "advice": _advice(s),
                "message": redact(s.last_message, [s.username]),
                "job": running.get(s.id),
                "kind_title": KINDS.get(s.kind, s.kind),
                "refused": "refused" in s.last_message,
            }
            for s in container.vod.sources()
        ]
    }


def page_context(container: Container, **overrides: Any) -> dict[str, Any]:
    """Return everything the page shows; overrides carry a failed form's values and errors."""
    context: dict[str, Any] = {
        **sources_context(container),
        **runs_context(container),
        **form_context(container),
        "report": None,
    }
    context.update(overrides)
    return context


def form_context(
    container: Container, form: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return the add form's context."""
    return {
        "form": form or FORM_DEFAULTS,
        "errors": errors or {},
        "url_modes": URL_MODES,
        "id_styles": ID_STYLES,
        "default_base_url": container.settings.base_url,
    }


def _field(message: str) -> str:
    lowered = message.lower()
    for name, words in ERROR_FIELDS.items():
        if any(word in lowered for word in words):
            return name
    return "source"


def _check(form: Mapping[str, str], password: str) -> dict[str, str]:
    """Return the form's errors by field, before the service sees it."""
    errors: dict[str, str] = {}
    xtream, m3u, root = form["xtream"].strip(), form["m3u"].strip(), form["root"].strip()
    if not form["name"].strip():
        errors["name"] = "Give the source a name, e.g. the provider's."
    if bool(xtream) == bool(m3u):
        errors["source"] = (
            "Fill in either an Xtream server or an M3U playlist, not both."
            if xtream
            else "Say where the catalogue comes from: an Xtream server or an M3U playlist."
        )
    elif xtream and not xtream.startswith(("http://", "https://")):
        errors["xtream"] = f"{xtream} is not an http(s) address. Use e.g. http://provider.example:8080."
    elif xtream and not (form["username"].strip() and password):
        errors["username"] = "An Xtream source needs the username and password your provider gave you."
    elif m3u and "://" not in m3u and not Path(m3u).expanduser().is_file():
        errors["m3u"] = f"There is no file {m3u} on this machine. Give a full file path or an http(s) URL."
    elif m3u and "://" in m3u and not m3u.startswith(("http://", "https://")):
        errors["m3u"] = f"{m3u} is not an http(s) URL."
    if not root:
        errors["root"] = "Say which folder the .strm and NFO files go in, e.g. /srv/media/vod."
    elif not root.startswith(("/", "~")):
        errors["root"] = f"{root} is not a full path. Start it with /, e.g. /srv/media/vod."
    elif Path(root).expanduser().is_file():
        errors["root"] = f"{root} is a file. Give a folder (it is created if it does not exist)."
    base_url = form["base_url"].strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        errors["base_url"] = f"{base_url} is not an http(s) address, e.g. http://192.168.1.10:8080."
    if form["url_mode"] not in URL_MODES:
        errors["url_mode"] = "Choose what the .strm files hold: redirect or provider."
    if form["id_style"] not in ID_STYLES:
        errors["id_style"] = "Choose an ID style: plex, jellyfin or none."
    return errors


@router.get("/vod", response_class=HTMLResponse)
def vod_page(request: Request, container: ContainerDep, run: int | None = None, sort: str = "") -> Response:
    """Show the VOD sources, the add form and the export history (with a run's report when asked)."""
    context = page_context(container)
    if run is not None:
        context["report"] = report_context(container, run, sort)
    return templates.TemplateResponse(request, "vod.html", context)


@router.get("/vod/sources", response_class=HTMLResponse)
def sources_table(request: Request, container: ContainerDep) -> Response:
    """Return the source table (HTMX reload after a job or a change)."""
    return templates.TemplateResponse(request, "partials/vod_sources.html", sources_context(container))


@router.post("/vod/sources", response_class=HTMLResponse)
async def add_source(
    request: Request,
    container: ContainerDep,
    name: Annotated[str, Form()] = "",
    xtream: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    m3u: Annotated[str, Form()] = "",
    root: Annotated[str, Form()] = "",
    base_url: Annotated[str, Form()] = "",
    url_mode: Annotated[str, Form()] = "redirect",
    id_style: Annotated[str, Form()] = "plex",
    schedule: Annotated[str, Form()] = "",
) -> Response:
    """Check and add a source; errors appear by their field (the password is never sent back)."""
    form = {
        "name": name,
        "xtream": xtream,
        "username": username,
        "m3u": m3u,
        "root": root,
        "base_url": base_url,
        "url_mode": url_mode,
        "id_style": id_style,
        "schedule": schedule,
    }
    errors = await asyncio.to_thread(_check, form, password)
    added: VodSourceView | None = None
    if not errors:
        try:
            added = await asyncio.to_thread(
                container.vod.add_source,
                name.strip(),
                root=root.strip(),
                xtream=xtream.strip(),
                username=username.strip(),
                password=password,
                m3u=m3u.strip(),
                base_url=base_url.strip(),
                url_mode=url_mode,
                id_style=id_style,
                schedule=schedule.strip(),
            )
        except UserError as exc:
            errors[_field(exc.message)] = str(exc)
    if not is_hx(request):
        if added is not None:
            return RedirectResponse("/vod", status_code=303)
        context = await asyncio.to_thread(page_context, container, form=form, errors=errors)
        return templates.TemplateResponse(request, "vod.html", context, status_code=400)
    if added is None:
        return fragment(request, "partials/vod_source_form.html", form_context(container, form, errors))
    message = f"Added {added.name}. Press Generate All on its row to write its library into {added.root}."
    return fragment(
        request,
        "partials/vod_source_form.html",
        form_context(container),
        note=flash("ok", message),
        trigger="vod-sources-changed",
    )


async def _table(request: Request, container: Container, message: str = "", trigger: str = "") -> Response:
    context = await asyncio.to_thread(sources_context, container)
    note = flash("ok", message) if message else ""
    return fragment(request, "partials/vod_sources.html", context, note=note, trigger=trigger)


@router.post("/vod/sources/{source_id}/export", response_class=HTMLResponse)
async def export_source(
    request: Request,
    source_id: int,
    container: ContainerDep,
    scope: Annotated[str, Form()] = "all",
    cleanup: Annotated[str, Form()] = "off",
    force: Annotated[bool, Form()] = False,
) -> Response:
    """Queue an export of one source (Generate, Cleanup preview/apply); its row shows the live progress."""
    source = await asyncio.to_thread(container.vod.source, source_id)
    if scope not in SCOPES or cleanup not in CLEANUPS:
        raise UserError(f"Unknown export {scope!r} with cleanup {cleanup!r}.", "Use the buttons on the page.")
    for job in await asyncio.to_thread(container.jobs.active, kind=JOB_KIND):
        if str(job.params.get("source")) == str(source.id):
            raise Conflict(
                f"An export of {source.name} is already {job.status.value} (job #{job.id}).",
                "Wait for it to finish; its row shows the progress.",
            )
    params = {"source": source.id, "scope": scope, "cleanup": cleanup, "force": force}
    job = container.runner.submit(JOB_KIND, params)
    what = {"off": "Generating", "preview": "Previewing the cleanup of", "apply": "Cleaning up"}[cleanup]
    target = SCOPE_TITLES[scope].lower() if cleanup == "off" else ""
    message = f"{what} {source.name}{' (' + target + ')' if target else ''}: job #{job.id}."
    return await _table(request, container, message)


@router.post("/vod/sources/{source_id}/test", response_class=HTMLResponse)
async def test_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Read a source's catalogue now and say what it holds, or what failed and what to do."""
    source = await asyncio.to_thread(container.vod.source, source_id)
    try:
        found = await asyncio.to_thread(container.vod.test_source, source_id)
        kind, message = "ok", f"Read {found}."
    except AntennaError as exc:
        kind, message = "error", f"Testing {source.name} failed: {exc} {_fix(source.kind)}"
    message = redact(message, [source.username])
    return templates.TemplateResponse(request, "partials/flash.html", {"kind": kind, "message": message})


@router.post("/vod/sources/{source_id}/stats", response_class=HTMLResponse)
async def source_stats(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Count what the provider lists and what the folder holds; write the summary CSV."""
    source = await asyncio.to_thread(container.vod.source, source_id)
    try:
        path, counts = await asyncio.to_thread(container.vod.stats, source_id)
    except AntennaError as exc:
        message = redact(f"Counting {source.name} failed: {exc} {_fix(source.kind)}", [source.username])
        return templates.TemplateResponse(
            request, "partials/flash.html", {"kind": "error", "message": message}
        )
    message = (
        f"{source.name}: the provider lists {counts.get('source_movies', 0)} movies and "
        f"{counts.get('source_series', 0)} series; the folder holds {counts.get('disk_strm', 0)} .strm and "
        f"{counts.get('disk_nfo', 0)} .nfo files, {counts.get('manifest_files', 0)} of them written by "
        f"Antenna. Summary CSV: {path}"
    )
    return templates.TemplateResponse(request, "partials/flash.html", {"kind": "ok", "message": message})


@router.post("/vod/sources/{source_id}/delete", response_class=HTMLResponse)
async def delete_source(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Forget a source and its export history; its files stay on disk."""
    removed = await asyncio.to_thread(container.vod.remove_source, source_id)
    message = (
        f"Removed {removed.name}. Its files in {removed.root} stay; delete the folder yourself if unwanted."
    )
    return await _table(request, container, message, trigger="vod-runs-changed")
