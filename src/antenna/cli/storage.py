"""`antenna backup` and `antenna restore`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from antenna.cli.context import open_container
from antenna.cli.output import job_progress, print_json, print_line, print_table
from antenna.errors import UserError
from antenna.fs import DataDirLock
from antenna.jobs.models import JobStatus, job_payload


def backup(
    ctx: typer.Context,
    list_: Annotated[bool, typer.Option("--list", help="List archives instead of making one.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy the database and settings into a timestamped archive in the data dir (works while serving)."""
    container = open_container(ctx)
    try:
        if list_:
            infos = container.backups.list()
            if json_:
                print_json(
                    [
                        {
                            "name": b.name,
                            "path": str(b.path),
                            "created_at": b.created_at.isoformat(),
                            "size_bytes": b.size_bytes,
                            "engine": b.engine,
                        }
                        for b in infos
                    ]
                )
            else:
                print_table(
                    "Backups",
                    ["Archive", "Created", "Size (bytes)", "Database"],
                    [
                        (b.name, b.created_at.isoformat(timespec="seconds"), b.size_bytes, b.engine)
                        for b in infos
                    ],
                    "No backups yet. Make one with `antenna backup`.",
                )
            return
        with job_progress(container.bus, "Backup", enabled=not json_):
            job = asyncio.run(container.runner.run_now("backup"))
        if json_:
            print_json(job_payload(job))
        elif job.status is JobStatus.SUCCEEDED:
            print_line(job.message)
        if job.status is not JobStatus.SUCCEEDED:
            raise UserError(f"Backup job #{job.id} {job.status.value}: {job.error or job.message}")
    finally:
        container.close()


def restore(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="A backup archive (see `antenna backup --list`).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Put a backup archive back: replaces the database and antenna.toml (Antenna must be stopped)."""
    container = open_container(ctx)
    try:
        path = archive if archive.exists() else container.data_dir / "backups" / archive.name
        info = container.backups.inspect(path)
        with DataDirLock(container.data_dir / "antenna.lock"):
            if not yes:
                typer.confirm(
                    f"Replace the current database and settings with {info.name} "
                    f"(made {info.created_at.isoformat(timespec='seconds')})? Changes since then are lost",
                    abort=True,
                )
            container.engine.dispose()
            result = container.backups.restore(path)
            # Jobs that were running when the backup was taken are not running now; nothing re-runs them.
            container.runner.abandon_active("it was running when the restored backup was taken")
        print_line(f"Restored {result.engine} database from {info.name}.")
        if result.previous_settings:
            print_line(f"Previous antenna.toml kept as {result.previous_settings}.")
    finally:
        container.close()
