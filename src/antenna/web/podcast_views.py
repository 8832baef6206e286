"""Podcasts list page: the subscriptions table with search and sort, bulk actions, OPML, show artwork."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import NotFound, UserError
from antenna.jobs.runner import job_payload
from antenna.podcasts import library
from antenna.podcasts.models import CHECK_JOB, FeedStatus
from antenna.podcasts.service import PodcastSummary
from antenna.web.deps import ContainerDep, require_login
from antenna.web.paging import page_of
from antenna.web.podcast_forms import OPTION_FIELDS, describe, feed_advice, read_options
from antenna.web.templating import flash, fragment, is_hx, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
PAGE_SIZE = 100
SORTS = {
    "title": "Title",
    "pending": "Pending first",
    "problems": "Problems first",
    "checked": "Last checked",
}
BULK_ACTIONS = ("pause", "resume", "check", "settings", "delete")
OPML_LIMIT = 5 * 1024 * 1024
NOTICE = "podcast_notice"


def podcast_row(summary: PodcastSummary) -> dict[str, Any]:
    """Return one subscription as the table shows it."""
    podcast = summary.podcast
    return {
        "p": podcast,
        "in_library": summary.in_library,
        "pending": summary.pending,
        "failed": summary.counts.get("failed", 0),
        "options_text": describe(podcast.options),
        "advice": feed_advice(summary),
        "problem": podcast.status != FeedStatus.OK,
    }


def _sort_key(sort: str) -> Any:
    if sort == "pending":
        return lambda r: (-r["pending"], r["p"].title.casefold())
    if sort == "problems":
        return lambda r: (not r["problem"], not r["failed"], r["p"].title.casefold())
    if sort == "checked":
        oldest = datetime.min.replace(tzinfo=UTC)
        return lambda r: (-(r["p"].checked_at or oldest).timestamp(), r["p"].title.casefold())
    return lambda r: r["p"].title.casefold()


def table_context(container: Container, q: str = "", sort: str = "title", page: int = 1) -> dict[str, Any]:
    """Return one page of subscriptions under the search and the sort."""
    every = [podcast_row(s) for s in container.podcasts.summaries()]
    needle = q.strip().casefold()
    shown = [
        r
        for r in every
        if not needle or any(needle in v.casefold() for v in (r["p"].title, r["p"].author, r["p"].url))
    ]
    sort = sort if sort in SORTS else "title"
    shown.sort(key=_sort_key(sort))
    rows, page, pages = page_of(shown, page, PAGE_SIZE)
    return {
        "rows": rows,
        "total": len(shown),
        "all_count": len(every),
        "failing_count": sum(1 for r in every if r["problem"]),
        "paused_count": sum(1 for r in every if r["p"].paused),
        "q": q,
        "sort": sort,
        "sorts": SORTS,
        "page": page,
        "pages": pages,
        "filtered": bool(needle),
        "fields": OPTION_FIELDS,
        "errors": {},
        "form": {},
    }


def _ids(values: list[str] | None) -> list[int]:
    ids = [int(v) for v in values or [] if v.strip().isdigit()]
    if not ids:
        raise UserError("No podcast is selected.", "Tick the podcasts to change first.")
    return ids


def confirm_context(container: Container, ids: list[int]) -> dict[str, Any]:
    """Return what unsubscribing from these podcasts would lose."""
    summaries = {s.podcast.id: s for s in container.podcasts.summaries()}
    chosen = [summaries[i] for i in ids if i in summaries]
    if not chosen:
        raise NotFound("Those podcasts are not subscribed any more.", "Reload the page.")
    return {
        "chosen": [{"p": s.podcast, "in_library": s.in_library, "pending": s.pending} for s in chosen],
        "files": sum(s.in_library for s in chosen),
    }


def _bulk(container: Container, action: str, ids: list[int], form: dict[str, Any], trash: bool) -> str:
    service = container.podcasts
    if action in ("pause", "resume"):
        done = service.set_paused(ids, action == "pause")
        return f"{'Paused' if action == 'pause' else 'Resumed'} {len(done)} podcast(s)."
    if action == "delete":
        titles = service.remove(ids, delete_files=trash)
        where = "their folders are in the trash" if trash else "their files stay in the library"
        return f"Unsubscribed from {', '.join(titles)}; {where}."
    changes, _ = read_options(form, service.defaults, bulk=True)
    if not changes:
        raise UserError("No setting was changed.", "Fill in the settings to change, then press Apply.")
    done = service.set_options(ids, changes)
    return f"Changed {', '.join(sorted(changes))} on {len(done)} podcast(s); quotas apply now."


@router.get("/podcasts", response_class=HTMLResponse)
def podcasts_page(
    request: Request,
    container: ContainerDep,
    q: str = "",
    sort: str = "title",
    page: int = 1,
) -> Response:
    """Show the subscriptions with their counts and status, bulk actions, and OPML import and export."""
    context = table_context(container, q, sort, page)
    context["notice"] = request.session.pop(NOTICE, "")
    return templates.TemplateResponse(request, "podcasts.html", context)


@router.get("/podcasts/table", response_class=HTMLResponse)
def podcasts_table(
    request: Request, container: ContainerDep, q: str = "", sort: str = "title", page: int = 1
) -> Response:
    """Return only the subscriptions table (HTMX: search, sort, paging, after a job)."""
    return templates.TemplateResponse(
        request, "partials/podcast_table.html", table_context(container, q, sort, page)
    )


@router.post("/podcasts/bulk", response_class=HTMLResponse)
async def bulk_change(request: Request, container: ContainerDep) -> Response:
    """Pause, resume, check, change settings of or unsubscribe from the selected podcasts."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    action = values.get("action", "")
    if action not in BULK_ACTIONS:
        raise UserError(f"Unknown bulk action {action!r}.", f"Use one of: {', '.join(BULK_ACTIONS)}.")
    ids = _ids([v for v in form.getlist("ids") if isinstance(v, str)])
    q, sort = values.get("q", ""), values.get("sort", "title")
    if action == "delete" and values.get("confirm") != "yes":
        context = await asyncio.to_thread(confirm_context, container, ids)
        context["next"] = "/podcasts" if values.get("next") == "/podcasts" else ""
        response = templates.TemplateResponse(request, "partials/podcast_confirm.html", context)
        response.headers.update({"HX-Retarget": "#podcast-confirm", "HX-Reswap": "innerHTML"})
        return response
    if action == "check":
        job = container.runner.submit(CHECK_JOB, {"ids": ids, "force": True})
        return templates.TemplateResponse(
            request,
            "partials/flash.html",
            {"kind": "ok", "message": f"Checking {len(ids)} podcast(s) now.", "job": job_payload(job)},
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    if action == "settings":
        _, errors = read_options(values, container.podcasts.defaults, bulk=True)
        if errors:
            context = await asyncio.to_thread(table_context, container, q, sort)
            context.update(errors=errors, form=values, selected=set(ids))
            note = flash("error", "Some settings are not valid: see the marked fields.")
            return fragment(request, "partials/podcast_table.html", context, note=note)
    done = await asyncio.to_thread(_bulk, container, action, ids, values, values.get("trash") == "yes")
    if values.get("next") == "/podcasts" and is_hx(request):
        request.session[NOTICE] = done[:500]  # shown once by the list page it redirects to
        return Response(headers={"HX-Redirect": "/podcasts"})
    context = await asyncio.to_thread(table_context, container, q, sort)
    note = flash("ok", done) + '<div id="podcast-confirm" hx-swap-oob="innerHTML"></div>'
    if not is_hx(request):
        return RedirectResponse("/podcasts", status_code=303)
    return fragment(request, "partials/podcast_table.html", context, note=note)


@router.get("/podcasts/opml")
def export_opml(container: ContainerDep) -> Response:
    """Download every subscription as an OPML file (for another podcast app or a backup)."""
    data = container.podcasts.export_opml()
    headers = {"Content-Disposition": 'attachment; filename="antenna-podcasts.opml"'}
    return Response(data, media_type="text/x-opml; charset=utf-8", headers=headers)


@router.post("/podcasts/opml", response_class=HTMLResponse)
async def import_opml(
    request: Request, container: ContainerDep, opml: Annotated[UploadFile | None, Form()] = None
) -> Response:
    """Subscribe to every feed of an uploaded OPML file; say which ones could not be added and why."""
    data = await opml.read(OPML_LIMIT + 1) if opml is not None else b""
    if not data:
        raise UserError("Choose an OPML file first.", "Podcast apps export one under Settings or Export.")
    if len(data) > OPML_LIMIT:
        raise UserError(
            "That file is too large for an OPML list (over 5 MB).", "Choose the OPML export file."
        )
    added, problems = await asyncio.to_thread(container.podcasts.import_opml, data)
    context = await asyncio.to_thread(table_context, container)
    context["imported"] = {"added": [p.title for p in added], "problems": problems}
    if not is_hx(request):
        return templates.TemplateResponse(request, "podcasts.html", context)
    kind = "error" if problems and not added else "ok"
    message = f"Imported {len(added)} podcast(s)." + (
        f" {len(problems)} could not be added: " + "; ".join(problems) if problems else ""
    )
    return fragment(request, "partials/podcast_table.html", context, note=flash(kind, message))


@router.get("/podcasts/{podcast_id}/poster")
def poster(podcast_id: int, container: ContainerDep) -> Response:
    """Serve the show's artwork from its folder (written at subscribe; nothing is fetched from outside)."""
    podcast = container.podcasts.get(podcast_id)
    path = library.show_root(podcast).path / library.POSTER
    if not path.is_file():
        raise NotFound(f"{podcast.title} has no artwork yet.")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})
