"""`antenna jobs …` and `antenna schedule …`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from antenna.cli.context import open_container
from antenna.cli.output import job_progress, print_json, print_line, print_table
from antenna.jobs.models import JobStatus, job_payload

jobs_app = typer.Typer(help="List, run and cancel jobs.", no_args_is_help=True)
schedule_app = typer.Typer(help="List and change when jobs run by themselves.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@jobs_app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[list[JobStatus] | None, typer.Option(help="Only these statuses.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    json_: JsonOpt = False,
) -> None:
    """List recent jobs, newest first."""
    container = open_container(ctx)
    try:
        jobs = container.jobs.search(limit=limit, status=status or [], kind=kind)
        if json_:
            print_json([job_payload(j) for j in jobs])
            return
        print_table(
            "Jobs",
            ["#", "Kind", "Status", "Progress", "Message", "Created"],
            [
                (
                    j.id,
                    j.kind,
                    j.status.value,
                    f"{j.percent}%",
                    j.error or j.message,
                    j.created_at.isoformat(timespec="seconds"),
                )
                for j in jobs
            ],
            "No jobs yet. Try `antenna backup`.",
        )
    finally:
        container.close()


@jobs_app.command("cancel")
def cancel_job(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="Job number.")]) -> None:
    """Cancel a queued or running job (a job run by `antenna serve` stops within a second)."""
    container = open_container(ctx)
    try:
        job = container.runner.cancel(job_id)
        print_line(
            f"Job #{job.id} ({job.kind}): cancel requested"
            if not job.status.finished
            else f"Job #{job.id} ({job.kind}): {job.status.value}"
        )
    finally:
        container.close()


@jobs_app.command("run")
def run_job(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Job kind, e.g. maintenance.")],
    json_: JsonOpt = False,
) -> None:
    """Run a job of a kind here and now, with a progress bar."""
    container = open_container(ctx)
    try:
        with job_progress(container.bus, kind, enabled=not json_):
            job = asyncio.run(container.runner.run_now(kind))
        if json_:
            print_json(job_payload(job))
        else:
            print_line(f"Job #{job.id} ({kind}) {job.status.value}: {job.error or job.message}")
        if job.status is not JobStatus.SUCCEEDED:
            raise typer.Exit(1)
    finally:
        container.close()


@jobs_app.command("kinds")
def kinds(ctx: typer.Context) -> None:
    """List the kinds of job."""
    container = open_container(ctx)
    try:
        print_table(
            "Job kinds",
            ["Kind", "What it does", "Resumes after a crash"],
            [
                (k.name, k.description, "yes" if k.resumable else "no")
                for k in container.runner.kinds.values()
            ],
            "No job kinds.",
        )
    finally:
        container.close()


@schedule_app.command("list")
def list_schedules(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List schedules with their next runs."""
    container = open_container(ctx)
    try:
        views = container.schedule_service.list()
        if json_:
            from antenna.jobs.schedule_service import schedule_payload

            print_json([schedule_payload(v) for v in views])
            return
        print_table(
            "Schedules",
            ["Name", "Job", "When", "Quiet window", "Enabled", "Next run"],
            [
                (
                    v.schedule.name,
                    v.schedule.job_kind,
                    v.description if v.valid else f"INVALID: {v.problem}",
                    v.schedule.quiet_window or "-",
                    "yes" if v.schedule.enabled else "no",
                    v.next_runs[0].isoformat(timespec="minutes") if v.next_runs else "-",
                )
                for v in views
            ],
            "No schedules. Add one: antenna schedule set nightly-backup 'daily 03:00' --kind backup",
        )
    finally:
        container.close()


@schedule_app.command("set")
def set_schedule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Schedule name (new or existing).")],
    expression: Annotated[str, typer.Argument(help='"every 6h", "daily 03:30" or a crontab "*/15 * * * *".')],
    kind: Annotated[str | None, typer.Option("--kind", help="Job kind (default: the name).")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA timezone, e.g. Europe/Berlin.")] = None,
    quiet: Annotated[
        str | None, typer.Option("--quiet", help='Quiet window, e.g. "01:00-05:00"; "" clears.')
    ] = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Turn the schedule on or off.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create or change a schedule; an invalid expression is refused with the reason."""
    container = open_container(ctx)
    try:
        view = container.schedule_service.set(
            name, expression, job_kind=kind, timezone=tz, quiet_window=quiet, enabled=enable
        )
        if json_:
            from antenna.jobs.schedule_service import schedule_payload

            print_json(schedule_payload(view))
            return
        nxt = view.next_runs[0].isoformat(timespec="minutes") if view.next_runs else "never (disabled)"
        print_line(f"Schedule {name}: {view.schedule.job_kind} {view.description}; next run {nxt}")
    finally:
        container.close()


@schedule_app.command("delete")
def delete_schedule(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Delete a schedule."""
    container = open_container(ctx)
    try:
        container.schedule_service.delete(name)
        print_line(f"Schedule {name} deleted.")
    finally:
        container.close()
