"""Jobs page: table with search, filter, sort and paging; live progress over SSE; cancel one or many."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from antenna.errors import Conflict, NotFound
from antenna.jobs.models import JobStatus
from antenna.jobs.runner import job_payload
from antenna.web.deps import ContainerDep, require_login
from antenna.web.paging import clamp_page
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
PAGE_SIZE = 25


SORTS = {"newest": "Newest first", "oldest": "Oldest first", "kind": "Kind", "status": "Status"}


def _table_context(
    container: ContainerDep, status: str, q: str, page: int, sort: str = "newest"
) -> dict[str, object]:
    statuses = [JobStatus(status)] if status in {s.value for s in JobStatus} else []
    total = container.jobs.count(status=statuses, search=q)
    page, pages = clamp_page(page, total, PAGE_SIZE)
    sort = sort if sort in SORTS else "newest"
    jobs = container.jobs.search(
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, status=statuses, search=q, order=sort
    )
    return {
        "jobs": [job_payload(j) for j in jobs],
        "total": total,
        "page": page,
        "pages": pages,
        "status": status,
        "q": q,
        "statuses": [s.value for s in JobStatus],
        "sort": sort,
        "sorts": SORTS,
    }


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, container: ContainerDep, status: str = "", q: str = "", page: int = 1
) -> Response:
    """Show the jobs table and the kinds that can be started."""
    context = _table_context(container, status, q, page)
    context["kinds"] = list(container.runner.kinds.values())
    return templates.TemplateResponse(request, "jobs.html", context)


@router.get("/jobs/table", response_class=HTMLResponse)
def jobs_table(
    request: Request,
    container: ContainerDep,
    status: str = "",
    q: str = "",
    page: int = 1,
    sort: str = "newest",
) -> Response:
    """Return only the table (HTMX refresh after filters or SSE changes)."""
    return templates.TemplateResponse(
        request, "partials/jobs_table.html", _table_context(container, status, q, page, sort)
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_detail(request: Request, job_id: int, container: ContainerDep) -> Response:
    """Show one job with its failed items."""
    job = container.jobs.get(job_id)
    if job is None:
        raise NotFound(f"No job #{job_id}.", "It may have been pruned from the history.")
    return templates.TemplateResponse(
        request, "job.html", {"job": job_payload(job), "failures": container.jobs.failures(job_id)}
    )


@router.get("/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(request: Request, job_id: int, container: ContainerDep) -> Response:
    """Return one job's progress fragment: the catch-up for a bar inserted after the job's last SSE event."""
    job = container.jobs.get(job_id)
    if job is None:
        raise NotFound(f"No job #{job_id}.", "It may have been pruned from the history.")
    return templates.TemplateResponse(request, "partials/job_progress.html", {"job": job_payload(job)})


@router.post("/jobs/start", response_class=HTMLResponse)
def start_job(request: Request, container: ContainerDep, kind: Annotated[str, Form()]) -> Response:
    """Queue a job of a kind and say so."""
    job = container.runner.submit(kind)
    return templates.TemplateResponse(
        request,
        "partials/flash.html",
        {"kind": "ok", "message": f"Started {kind} (job #{job.id}).", "job": job_payload(job)},
        headers={"HX-Trigger": "jobs-changed"},
    )


@router.post("/jobs/cancel", response_class=HTMLResponse)
def cancel_jobs(request: Request, container: ContainerDep, ids: Annotated[list[int], Form()]) -> Response:
    """Cancel the selected jobs; report each one that could not be cancelled."""
    cancelled, problems = 0, []
    for job_id in ids:
        try:
            container.runner.cancel(job_id)
            cancelled += 1
        except (Conflict, NotFound) as exc:
            problems.append(str(exc))
    message = f"Cancelled {cancelled} job(s)." + (" " + " ".join(problems) if problems else "")
    return templates.TemplateResponse(
        request,
        "partials/flash.html",
        {"kind": "error" if problems and not cancelled else "ok", "message": message},
        headers={"HX-Trigger": "jobs-changed"},
    )
