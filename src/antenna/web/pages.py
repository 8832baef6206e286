"""HTML pages: login, dashboard, activity, and the capability pages; includes jobs and settings views."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.jobs.models import JobStatus
from antenna.jobs.runner import job_payload
from antenna.logs import recent_activity
from antenna.web import (
    iptv_channel_views,
    iptv_views,
    jobs_views,
    plex_settings_views,
    plex_views,
    podcast_add_views,
    podcast_download_views,
    podcast_show_views,
    podcast_views,
    settings_views,
    vod_run_views,
    vod_settings_views,
    vod_views,
)
from antenna.web.deps import AuthDep, ContainerDep, require_csrf, require_login
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False)
ui = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])

CAPABILITIES = {
    "podcasts": (
        "Podcasts & YouTube",
        "Subscribe to RSS podcasts and YouTube channels; episodes land in your library as TV shows "
        "with NFO files and artwork.",
    ),
    "iptv": (
        "IPTV",
        "Merge M3U, Xtream and guide sources into one playlist for Kodi, one XMLTV guide for Plex and an "
        "emulated HDHomeRun tuner.",
    ),
    "vod": (
        "VOD",
        "Export a provider's movies and series as a .strm + NFO library for Jellyfin, Emby and Kodi.",
    ),
    "plex": ("Plex", "Watch sessions live, drive players, refresh sections and publish events to MQTT."),
}
# Capabilities with pages of their own; the others get the "not in this version yet" placeholder.
BUILT = frozenset({"iptv", "plex", "podcasts", "vod"})


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would let a link log you in and send you elsewhere.
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:
    """Show the login form."""
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next), "error": ""})


@router.post("/login", dependencies=[Depends(require_csrf)])
async def login(
    request: Request,
    auth: AuthDep,
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password and start a session."""
    if not await asyncio.to_thread(auth.check_password, password):
        await asyncio.sleep(0.5)  # slows guessing without locking the owner out
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": "Wrong password. It was printed when Antenna first started, "
                "or set it with ANTENNA_ADMIN_PASSWORD.",
            },
            status_code=401,
        )
    request.session.clear()
    request.session["user"] = "admin"
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(require_login)])
async def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@ui.get("/", response_class=HTMLResponse)
def dashboard(request: Request, container: ContainerDep) -> Response:
    """Show what runs, what failed recently, what comes next, and the next steps for a newcomer."""
    active = [job_payload(j) for j in container.jobs.active()]
    failed = [job_payload(j) for j in container.jobs.search(limit=5, status=[JobStatus.FAILED])]
    far = datetime.max.replace(tzinfo=UTC)
    schedules = sorted(
        container.schedule_service.list(), key=lambda v: v.next_runs[0] if v.next_runs else far
    )
    backups = container.backups.list()
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "active": active,
            "failed": failed,
            "schedules": schedules,
            "backups": backups,
            "job_count": container.jobs.count(),
            "capabilities": CAPABILITIES,
        },
    )


@ui.get("/activity", response_class=HTMLResponse)
def activity(request: Request, container: ContainerDep, level: str = "INFO", q: str = "") -> Response:
    """Show recent log events."""
    entries = recent_activity(container.data_dir, limit=500, min_level=level)
    if q:
        entries = [e for e in entries if q.lower() in e.message.lower() or q.lower() in e.logger.lower()]
    template = "partials/activity_rows.html" if request.headers.get("hx-request") else "activity.html"
    return templates.TemplateResponse(request, template, {"entries": entries, "level": level, "q": q})


@ui.get("/{capability}", response_class=HTMLResponse)
def capability(request: Request, capability: str) -> Response:
    """Show a capability that this version does not have yet, saying so plainly."""
    if capability not in CAPABILITIES or capability in BUILT:
        return templates.TemplateResponse(
            request, "error.html", {"title": "Not found", "message": f"There is no page /{capability}."}, 404
        )
    title, summary = CAPABILITIES[capability]
    return templates.TemplateResponse(
        request, "capability.html", {"name": capability, "title": title, "summary": summary}
    )


router.include_router(jobs_views.router)
router.include_router(settings_views.router)
router.include_router(plex_views.router)
router.include_router(plex_settings_views.router)
router.include_router(iptv_views.router)
router.include_router(iptv_channel_views.router)
router.include_router(vod_views.router)
router.include_router(vod_run_views.router)
router.include_router(vod_settings_views.router)
router.include_router(podcast_views.router)
router.include_router(podcast_add_views.router)
router.include_router(podcast_download_views.router)
router.include_router(podcast_show_views.router)  # last: /podcasts/{podcast_id} would swallow /podcasts/add
router.include_router(ui)
