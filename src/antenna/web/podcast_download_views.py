"""Downloads page: one live progress bar per episode being downloaded (over SSE), and recent failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from antenna.container import Container
from antenna.errors import UserError
from antenna.jobs.runner import job_payload
from antenna.podcasts.models import DOWNLOAD_JOB, EpisodeState
from antenna.podcasts.pipeline import EVENT_TOPIC, PROGRESS_TOPIC
from antenna.web.deps import ContainerDep, require_login
from antenna.web.podcast_forms import episode_reason
from antenna.web.sse import SSE_HEADERS, batches, format_sse
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
FAILED_SHOWN = 10
LIST_EVENT = "downloads"


@dataclass
class Active:
    """One download as the page shows it."""

    episode_id: int
    podcast_id: int
    podcast: str
    title: str
    done: int = 0
    total: int | None = None

    @property
    def percent(self) -> int | None:
        """Return the share done, or None while the size is unknown."""
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


@dataclass
class Board:
    """What the Downloads page shows: active downloads, the queue length and recent failures."""

    active: dict[int, Active] = field(default_factory=dict)
    queued: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    finished: set[int] = field(default_factory=set)

    def context(self) -> dict[str, Any]:
        """Return the template context of the list."""
        return {"active": list(self.active.values()), "queued": self.queued, "failed": self.failed}

    def progress(self, data: dict[str, Any]) -> None:
        """Apply one podcasts.download event."""
        episode_id = int(data.get("episode_id") or 0)
        if data.get("finished"):
            self.active.pop(episode_id, None)
            self.finished.add(episode_id)
            return
        if episode_id in self.finished:
            return  # a late progress message of a download that already ended
        total = data.get("total")
        self.active[episode_id] = Active(
            episode_id,
            int(data.get("podcast_id") or 0),
            str(data.get("podcast") or ""),
            str(data.get("title") or ""),
            int(data.get("done") or 0),
            int(total) if total else None,
        )


def load_board(container: Container) -> Board:
    """Return the board from the database: downloads in progress (bytes unknown until the next event)."""
    service = container.podcasts
    board = Board()
    titles = {p.id: p.title for p in service.podcasts()}
    for episode in service.episodes(None, [EpisodeState.DOWNLOADING]):
        board.active[episode.id] = Active(
            episode.id, episode.podcast_id, titles.get(episode.podcast_id, ""), episode.title
        )
    refresh_counts(container, board, titles)
    return board


def refresh_counts(container: Container, board: Board, titles: dict[int, str] | None = None) -> None:
    """Re-read the queue length and the most recent failures."""
    service = container.podcasts
    titles = titles if titles is not None else {p.id: p.title for p in service.podcasts()}
    board.queued = len(service.episodes(None, [EpisodeState.QUEUED]))
    failed = service.episodes(None, [EpisodeState.FAILED])
    failed.sort(key=lambda e: (e.failed_at is not None, e.failed_at, e.id), reverse=True)
    board.failed = [
        {"e": e, "podcast": titles.get(e.podcast_id, ""), "reason": episode_reason(e)}
        for e in failed[:FAILED_SHOWN]
    ]


def downloads_context(container: Container) -> dict[str, Any]:
    """Return the whole page's context."""
    board = load_board(container)
    active = container.jobs.active(kind=DOWNLOAD_JOB)
    return {
        **board.context(),
        "job": job_payload(active[-1]) if active else None,
        "has_podcasts": bool(container.podcasts.podcasts()),
    }


@router.get("/podcasts/downloads", response_class=HTMLResponse)
def downloads_page(request: Request, container: ContainerDep) -> Response:
    """Show the downloads in progress, live, and the ones that failed recently."""
    return templates.TemplateResponse(request, "podcast_downloads.html", downloads_context(container))


@router.get("/podcasts/downloads/list", response_class=HTMLResponse)
def downloads_list(request: Request, container: ContainerDep) -> Response:
    """Return only the downloads list (without live bytes: those come over the stream)."""
    return templates.TemplateResponse(
        request, "partials/podcast_downloads_list.html", load_board(container).context()
    )


@router.post("/podcasts/downloads/retry", response_class=HTMLResponse)
async def retry(request: Request, container: ContainerDep) -> Response:
    """Queue failed episodes again; the download job starts by itself."""
    form = await request.form()
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    if not ids:
        raise UserError("No episode was chosen to retry.", "Press Retry on a failed episode.")
    count = await run_in_threadpool(container.podcasts.queue_episodes, ids)
    message = (
        f"Queued {count} episode(s) again; the bar appears when the download starts."
        if count
        else "That episode is already queued or in the library."
    )
    return templates.TemplateResponse(request, "partials/flash.html", {"kind": "ok", "message": message})


@router.get("/podcasts/downloads/events")
async def download_events(request: Request, container: ContainerDep) -> StreamingResponse:
    """Stream the downloads list as HTML whenever a download moves, starts or ends."""
    # Subscribe before reading the database, so no event between the two is lost.
    subscription = container.bus.subscribe(PROGRESS_TOPIC, EVENT_TOPIC)
    board = await run_in_threadpool(load_board, container)
    template = templates.get_template("partials/podcast_downloads_list.html")

    async def stream() -> AsyncIterator[str]:
        yield ": connected\n\n"
        yield format_sse(LIST_EVENT, template.render(**board.context()))
        async for batch in batches(request, subscription):
            if not batch:
                yield ": keepalive\n\n"
                continue
            ended = False
            for event in batch:
                if event.topic == PROGRESS_TOPIC:
                    board.progress(event.data)
                    ended = ended or bool(event.data.get("finished"))
                else:
                    ended = True  # downloaded, failed or removed: the queue and failures changed
            if ended:
                await run_in_threadpool(refresh_counts, container, board)
            yield format_sse(LIST_EVENT, template.render(**board.context()))

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)
