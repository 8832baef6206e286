"""VOD export history: the runs table, a run's report preview (sortable) and its CSV download."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from antenna.container import Container
from antenna.errors import NotFound
from antenna.redact import redact
from antenna.web.deps import ContainerDep, require_login
from antenna.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])

SCOPE_TITLES = {"all": "Movies + series", "movies": "Movies", "series": "Series"}
REPORT_COLUMNS = {
    "type": "Type",
    "series_name": "Series",
    "season": "Season",
    "title": "Title",
    "action": "Action",
    "reason": "Reason",
    "strm_path": "File",
}
PREVIEW_ROWS = 200
# Rows of a report read for the preview: a first export's report holds every file of the tree (700k lines
# for a big provider); sorting the first 20k is enough to look around, the CSV download has them all.
SORTED_ROWS = 20_000
HISTORY_RUNS = 20


def _summary(counts: Mapping[str, Any]) -> str:
    changes = [f"{counts[k]} {k}" for k in ("created", "updated", "renamed", "deleted") if counts.get(k)]
    if counts.get("stale"):
        changes.append(f"{counts['stale']} no longer listed")
    if counts.get("unchanged"):
        changes.append(f"{counts['unchanged']} unchanged")
    return ", ".join(changes) or "no file changed"


def runs_context(container: Container) -> dict[str, Any]:
    """Return the export history, newest first, as plain values."""
    names = {s.id: s.name for s in container.vod.sources()}
    runs = []
    for run in container.vod.runs(limit=HISTORY_RUNS):
        counts = run["counts"] or {}
        catalogue = ""
        if "movies" in counts or "series" in counts:
            catalogue = f"{counts.get('movies', 0)} movies, {counts.get('series', 0)} series"
        took = None
        if run["finished_at"] and run["started_at"]:
            took = max(0.0, (run["finished_at"] - run["started_at"]).total_seconds())
        runs.append(
            {
                "id": run["id"],
                "source": names.get(run["source_id"], f"source {run['source_id']}"),
                "started_at": run["started_at"],
                "took": took,
                "scope": SCOPE_TITLES.get(run["scope"], run["scope"]),
                "cleanup": run["cleanup"],
                "status": run["status"],
                "message": redact(run["message"]),
                "catalogue": catalogue,
                "summary": _summary(counts) if run["status"] == "ok" else "",
                "has_report": bool(run["report"]),
                "has_debug_log": container.vod.debug_log_path(run["id"]).exists(),
            }
        )
    return {"runs": runs, "history_limit": HISTORY_RUNS}


def _sort_key(column: str) -> Any:
    def key(row: Mapping[str, str]) -> tuple[int, int, str]:
        value = row.get(column) or ""
        # Numbers (seasons) sort as numbers; empty cells go last in either direction of the text.
        return (0, int(value), "") if value.isdigit() else (1 if value else 2, 0, value.casefold())

    return key


def report_context(container: Container, run_id: int, sort: str = "") -> dict[str, Any]:
    """Return a run's report preview: at most PREVIEW_ROWS rows, sorted by one column when asked."""
    run, rows = container.vod.report(run_id, limit=SORTED_ROWS)
    column = sort.removeprefix("-")
    descending = sort.startswith("-")
    if column in REPORT_COLUMNS:
        rows = sorted(rows, key=_sort_key(column), reverse=descending)
    else:
        column, descending = "", False
    names = {s.id: s.name for s in container.vod.sources()}
    missing = bool(run["report"]) and not os.path.exists(run["report"])
    return {
        "run": {
            "id": run["id"],
            "source": names.get(run["source_id"], f"source {run['source_id']}"),
            "started_at": run["started_at"],
            "status": run["status"],
            "message": redact(run["message"]),
            "scope": SCOPE_TITLES.get(run["scope"], run["scope"]),
            "cleanup": run["cleanup"],
            "has_report": bool(run["report"]) and not missing,
            "has_debug_log": container.vod.debug_log_path(run["id"]).exists(),
            "missing": missing,
        },
        "rows": rows[:PREVIEW_ROWS],
        "total": len(rows),
        "more": len(rows) >= SORTED_ROWS,  # the report has more rows than were read
        "columns": REPORT_COLUMNS,
        "sort": column,
        "descending": descending,
    }


@router.get("/vod/runs", response_class=HTMLResponse)
def runs_table(request: Request, container: ContainerDep) -> Response:
    """Return the export history (HTMX reload after a job)."""
    return templates.TemplateResponse(request, "partials/vod_runs.html", runs_context(container))


@router.get("/vod/runs/{run_id}/preview", response_class=HTMLResponse)
def run_preview(request: Request, run_id: int, container: ContainerDep, sort: str = "") -> Response:
    """Return a run's report as a table (the first PREVIEW_ROWS rows, sorted by ?sort=column or -column)."""
    context = report_context(container, run_id, sort)
    return templates.TemplateResponse(request, "partials/vod_report.html", context)


@router.get("/vod/runs/{run_id}.log")
def run_debug_log(run_id: int, container: ContainerDep) -> FileResponse:
    """Download a run's debug log."""
    container.vod.run_info(run_id)
    path = container.vod.debug_log_path(run_id)
    if not path.exists():
        raise NotFound(f"Export #{run_id} has no debug log.", "Turn it on in the source's settings.")
    return FileResponse(path, media_type="text/plain", filename=f"vod-run-{run_id}.log")


@router.get("/vod/runs/{run_id}.csv")
def run_csv(run_id: int, container: ContainerDep) -> FileResponse:
    """Download a run's CSV report."""
    run = container.vod.run_info(run_id)
    if not run["report"] or not os.path.exists(run["report"]):
        raise NotFound(f"Export #{run_id} has no report file.", "Run the export again to get a new report.")
    return FileResponse(run["report"], media_type="text/csv", filename=f"vod-run-{run_id}.csv")
