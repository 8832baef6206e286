"""One podcast's page: its feed and options, check now, pause, and its episodes with bulk actions."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from antenna.container import Container
from antenna.errors import UserError
from antenna.jobs.runner import job_payload
from antenna.podcasts.models import CHECK_JOB, DOWNLOAD_JOB, EpisodeState
from antenna.web.deps import ContainerDep, require_login
from antenna.web.paging import page_of
from antenna.web.podcast_forms import (
    OPTION_FIELDS,
    STATE_LABELS,
    describe,
    episode_reason,
    feed_advice,
    form_values,
    read_options,
)
from antenna.web.templating import flash, fragment, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
PAGE_SIZE = 100
FILTERS = {
    "": "All episodes",
    "library": "In the library",
    "pending": "Queued or downloading",
    "failed": "Failed",
    "available": "Not downloaded",
    "gone": "Deleted or skipped",
}
EPISODE_ACTIONS = ("download", "delete", "watched")


def _wanted(state: EpisodeState, show: str) -> bool:
    if show == "library":
        return state.in_library
    if show == "pending":
        return state.in_flight
    if show == "failed":
        return state == EpisodeState.FAILED
    if show == "available":
        return state == EpisodeState.AVAILABLE
    if show == "gone":
        return state in (EpisodeState.DELETED, EpisodeState.SKIPPED)
    return True


def head_context(container: Container, podcast_id: int) -> dict[str, Any]:
    """Return the podcast's summary: feed, folder, counts, status with advice, options."""
    podcast = container.podcasts.get(podcast_id)
    summary = next(s for s in container.podcasts.summaries() if s.podcast.id == podcast.id)
    return {
        "p": podcast,
        "in_library": summary.in_library,
        "pending": summary.pending,
        "failed": summary.counts.get("failed", 0),
        "total": sum(summary.counts.values()),
        "advice": feed_advice(summary),
        "options_text": describe(podcast.options),
    }


def episodes_context(
    container: Container, podcast_id: int, show: str = "", q: str = "", page: int = 1
) -> dict[str, Any]:
    """Return one page of the podcast's episodes, newest first, under the state filter and search."""
    every = container.podcasts.episodes(podcast_id)
    show = show if show in FILTERS else ""
    needle = q.strip().casefold()
    shown = [
        e
        for e in every
        if _wanted(e.state, show)
        and (not needle or needle in e.title.casefold() or needle in e.relpath.casefold())
    ]
    rows, page, pages = page_of(shown, page, PAGE_SIZE)
    return {
        "podcast_id": podcast_id,
        "episodes": [{"e": e, "label": STATE_LABELS[e.state], "reason": episode_reason(e)} for e in rows],
        "total": len(shown),
        "all_count": len(every),
        "show": show,
        "filters": FILTERS,
        "q": q,
        "page": page,
        "pages": pages,
        "filtered": bool(show or needle),
    }


@router.get("/podcasts/{podcast_id}", response_class=HTMLResponse)
def show_page(
    request: Request, container: ContainerDep, podcast_id: int, show: str = "", q: str = "", page: int = 1
) -> Response:
    """Show one podcast with its episodes, their states and reasons."""
    context = {
        **head_context(container, podcast_id),
        **episodes_context(container, podcast_id, show, q, page),
        "fields": OPTION_FIELDS,
        "errors": {},
    }
    context["form"] = form_values(context["p"].options)
    active = container.jobs.active(kind=DOWNLOAD_JOB)
    context["download_job"] = job_payload(active[-1]) if active else None
    return templates.TemplateResponse(request, "podcast_show.html", context)


@router.get("/podcasts/{podcast_id}/head", response_class=HTMLResponse)
def head(request: Request, container: ContainerDep, podcast_id: int) -> Response:
    """Return the podcast's summary block (HTMX reload after a change or a job)."""
    return templates.TemplateResponse(
        request, "partials/podcast_head.html", head_context(container, podcast_id)
    )


@router.get("/podcasts/{podcast_id}/episodes", response_class=HTMLResponse)
def episodes_table(
    request: Request, container: ContainerDep, podcast_id: int, show: str = "", q: str = "", page: int = 1
) -> Response:
    """Return only the episodes table (HTMX: filter, search, paging, after a job)."""
    return templates.TemplateResponse(
        request, "partials/podcast_episodes.html", episodes_context(container, podcast_id, show, q, page)
    )


def _episode_action(container: Container, podcast_id: int, action: str, ids: list[int]) -> str:
    service = container.podcasts
    chosen = [e for e in service.episodes(podcast_id) if e.id in set(ids)]
    if not chosen:
        raise UserError("No episode is selected.", "Tick the episodes first.")
    picked = [e.id for e in chosen]
    if action == "download":
        count = service.queue_episodes(picked)
        if not count:
            return "Nothing to download: the selected episodes are already in the library or on their way."
        return f"Queued {count} episode(s); follow them on the Downloads page."
    if action == "delete":
        count = service.delete_episodes(picked)
        return f"Moved {count} episode(s) to the trash; backfill will not fetch them again."
    count = service.mark_watched(picked)
    skipped = len(picked) - count
    extra = f" ({skipped} skipped: only episodes in the library can be marked)" if skipped else ""
    return f"Marked {count} episode(s) watched{extra}."


@router.post("/podcasts/{podcast_id}/episodes", response_class=HTMLResponse)
async def episode_action(request: Request, container: ContainerDep, podcast_id: int) -> Response:
    """Download, delete or mark watched the selected episodes."""
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in EPISODE_ACTIONS:
        raise UserError(f"Unknown episode action {action!r}.", f"Use one of: {', '.join(EPISODE_ACTIONS)}.")
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    message = await asyncio.to_thread(_episode_action, container, podcast_id, action, ids)
    context = await asyncio.to_thread(
        episodes_context,
        container,
        podcast_id,
        str(form.get("show") or ""),
        str(form.get("q") or ""),
        int(str(form.get("page") or "1")) if str(form.get("page") or "1").isdigit() else 1,
    )
    return fragment(
        request,
        "partials/podcast_episodes.html",
        context,
        note=flash("ok", message),
        trigger="podcast-changed",
    )


@router.post("/podcasts/{podcast_id}/check", response_class=HTMLResponse)
def check_now(request: Request, container: ContainerDep, podcast_id: int) -> Response:
    """Check this feed now (even when unchanged) and download what it queues."""
    podcast = container.podcasts.get(podcast_id)
    job = container.runner.submit(CHECK_JOB, {"ids": [podcast.id], "force": True})
    message = f"Checking {podcast.title} now."
    return templates.TemplateResponse(
        request, "partials/flash.html", {"kind": "ok", "message": message, "job": job_payload(job)}
    )


@router.post("/podcasts/{podcast_id}/pause", response_class=HTMLResponse)
def toggle_pause(request: Request, container: ContainerDep, podcast_id: int) -> Response:
    """Pause or resume this podcast."""
    podcast = container.podcasts.get(podcast_id)
    container.podcasts.set_paused([podcast.id], not podcast.paused)
    message = (
        f"Resumed {podcast.title}; it is checked again on schedule."
        if podcast.paused
        else f"Paused {podcast.title}: it is not checked and nothing new downloads."
    )
    return fragment(
        request, "partials/podcast_head.html", head_context(container, podcast_id), note=flash("ok", message)
    )


@router.post("/podcasts/{podcast_id}/settings", response_class=HTMLResponse)
async def change_settings(request: Request, container: ContainerDep, podcast_id: int) -> Response:
    """Change this podcast's options; errors appear by their fields."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    podcast = await asyncio.to_thread(container.podcasts.get, podcast_id)
    changes, errors = read_options(values, container.podcasts.defaults, bulk=False)
    context: dict[str, Any] = {"p": podcast, "fields": OPTION_FIELDS, "errors": errors, "form": values}
    if errors:
        return templates.TemplateResponse(request, "partials/podcast_settings.html", context)
    changed = await asyncio.to_thread(container.podcasts.set_options, [podcast_id], changes)
    context.update(p=changed[0], form=form_values(changed[0].options))
    message = f"Saved the settings of {podcast.title}: {describe(changed[0].options)}."
    return fragment(
        request,
        "partials/podcast_settings.html",
        context,
        note=flash("ok", message),
        trigger="podcast-changed",
    )
