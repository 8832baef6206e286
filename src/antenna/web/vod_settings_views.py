"""VOD page: a source's settings form (origin, names, filters, schedule, speed and safety) and its save."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import UserError
from antenna.vod import settings as vod_settings
from antenna.vod.sources import VodSourceView
from antenna.web.deps import ContainerDep, require_login
from antenna.web.templating import flash, fragment, is_hx, templates
from antenna.web.vod_views import ID_STYLES, URL_MODES, page_context

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])

# Form fields sent as they are typed (the settings module reads "", "20%", "auto" and digits).
TEXT_FIELDS = (
    "root",
    "base_url",
    "url_mode",
    "schedule",
    "id_style",
    "movies_folder",
    "series_folder",
    "movie_template",
    "series_template",
    "episode_template",
    "title_regex",
    "year_min",
    "year_max",
    "provider_workers",
    "disk_workers",
    "threshold",
)
LIST_FIELDS = ("include_categories", "exclude_categories", "clean_rules")  # one per line
FLAGS = ("rich_nfo", "debug_log", "default_clean_rules")
FORM_FIELDS = ("xtream", "username", "m3u", *TEXT_FIELDS, *LIST_FIELDS, *FLAGS)
ERROR_FIELDS = frozenset({*FORM_FIELDS, "password"})  # fields with an error slot; others go atop the form


def form_of(view: VodSourceView) -> dict[str, str]:
    """Return a source's settings as the form's field values."""
    data = view.to_dict()
    form = {key: "" if data.get(key) is None else str(data.get(key)) for key in FORM_FIELDS}
    form.update({key: "\n".join(getattr(view, key)) for key in LIST_FIELDS})
    form.update({key: "on" if getattr(view, key) else "" for key in FLAGS})
    form["threshold"] = f"{view.threshold * 100:g}%"
    form["xtream" if view.kind == "xtream" else "m3u"] = view.location
    return form


def settings_context(
    container: Container,
    view: VodSourceView,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the settings form's context: a failed form's values and errors, or the stored settings."""
    return {
        "source": view,
        "form": form or form_of(view),
        "errors": errors or {},
        "url_modes": URL_MODES,
        "id_styles": ID_STYLES,
        "default_base_url": container.settings.base_url,
    }


def _lines(text: str) -> list[str]:
    return [line.strip("\r") for line in text.split("\n") if line.strip()]


def _changes(form: Mapping[str, str], view: VodSourceView, password: str) -> dict[str, Any]:
    """Return the settings a submitted form asks for (the location only when it was edited)."""
    changes: dict[str, Any] = {key: form[key] for key in TEXT_FIELDS}
    origin = "xtream" if view.kind == "xtream" else "m3u"
    # The field shows the location with credentials masked: sent back unchanged it must not replace it.
    if form[origin].strip() != view.location:
        changes[origin] = form[origin]
    if view.kind == "xtream":
        changes["username"] = form["username"]
    if password:
        changes["password"] = password
    changes["include_categories"] = _lines(form["include_categories"])
    changes["exclude_categories"] = _lines(form["exclude_categories"])
    changes["clean_rules"] = None if form["default_clean_rules"] else _lines(form["clean_rules"])
    changes["rich_nfo"] = bool(form["rich_nfo"])
    changes["debug_log"] = bool(form["debug_log"])
    return changes


def _check(changes: Mapping[str, Any]) -> dict[str, str]:
    """Return each bad setting's message by its field, before the service sees the change."""
    errors: dict[str, str] = {}
    for key, value in changes.items():
        try:
            vod_settings.check(key, value)
        except vod_settings.SettingError as exc:
            errors[key] = str(exc)
    root = str(changes.get("root", "")).strip()
    if root and not root.startswith(("/", "~")):
        errors["root"] = f"{root} is not a full path. Start it with /, e.g. /srv/media/vod."
    elif root and Path(root).expanduser().is_file():
        errors["root"] = f"{root} is a file. Give a folder (it is created if it does not exist)."
    m3u = str(changes.get("m3u", "")).strip()
    if m3u and "://" not in m3u and not Path(m3u).expanduser().is_file():
        errors["m3u"] = f"There is no file {m3u} on this machine. Give a full file path or an http(s) URL."
    return errors


def _saved(before: VodSourceView, after: VodSourceView) -> str:
    """Return the success message: what was saved and what the next export does about it."""
    old, new = before.to_dict(), after.to_dict()
    changed = {key for key in new if old[key] != new[key]}
    message = f"Saved the settings of {after.name}."
    if "root" in changed:
        message += f" The next export writes a new tree into {after.root}; {before.root} keeps its files."
    elif changed & {*vod_settings.NAMING, "default_clean_rules"}:
        message += " The next export renames its files in place."
    if changed & set(vod_settings.FILTER):
        message += " Titles the filters now leave out go at the next cleanup (preview it first)."
    if "schedule" in changed:
        message += f" It exports {'on “' + after.schedule + '”' if after.schedule else 'by hand only'}."
    return message


@router.get("/vod/sources/{source_id}/settings", response_class=HTMLResponse)
async def settings_form(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Show a source's settings form (the whole page when asked without HTMX)."""
    view = await asyncio.to_thread(container.vod.source, source_id)
    context = settings_context(container, view)
    if not is_hx(request):
        page = await asyncio.to_thread(page_context, container, settings=context)
        return templates.TemplateResponse(request, "vod.html", page)
    return templates.TemplateResponse(request, "partials/vod_settings_form.html", context)


@router.post("/vod/sources/{source_id}/settings", response_class=HTMLResponse)
async def save_settings(request: Request, source_id: int, container: ContainerDep) -> Response:
    """Check and save a source's settings; errors appear by their field, the row shows the new values."""
    view = await asyncio.to_thread(container.vod.source, source_id)
    submitted = await request.form()
    form = {key: str(submitted.get(key, "")) for key in FORM_FIELDS}  # the password is never sent back
    changes = _changes(form, view, str(submitted.get("password", "")))
    errors = await asyncio.to_thread(_check, changes)
    saved: VodSourceView | None = None
    if not errors:
        try:
            saved = await asyncio.to_thread(container.vod.update_source, source_id, changes)
        except vod_settings.SettingError as exc:
            errors[exc.key if exc.key in ERROR_FIELDS else "source"] = str(exc)
        except UserError as exc:
            errors["source"] = str(exc)
    if saved is None:
        context = settings_context(container, view, form, errors)
        if not is_hx(request):
            page = await asyncio.to_thread(page_context, container, settings=context)
            return templates.TemplateResponse(request, "vod.html", page, status_code=400)
        return fragment(request, "partials/vod_settings_form.html", context)
    if not is_hx(request):
        return RedirectResponse("/vod", status_code=303)
    return fragment(
        request,
        "partials/vod_settings_form.html",
        settings_context(container, saved),
        note=flash("ok", _saved(view, saved)),
        trigger="vod-sources-changed",
    )
