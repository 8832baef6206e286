"""Everything the CLI prints: tables, JSON, errors, and a live progress bar for a job."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from antenna.jobs.bus import Event, EventBus

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print value as JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    """Print rows as a table, or the empty message when there are none."""
    if not rows:
        console.print(empty)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def print_line(text: str) -> None:
    """Print one line of plain text."""
    console.print(text, markup=False, soft_wrap=True)


def print_error(message: str) -> None:
    """Print one error line on stderr."""
    err_console.print(f"[bold red]Error:[/] {message}", soft_wrap=True)


@contextmanager
def job_progress(bus: EventBus, title: str, *, enabled: bool = True) -> Iterator[None]:
    """Show a progress bar fed by the job events on the bus while the block runs."""
    if not enabled or not console.is_terminal:
        yield
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=None, note="")

        def on_event(event: Event) -> None:
            data = event.data
            total = data.get("total") or None
            progress.update(task, completed=data.get("done", 0), total=total, note=data.get("message", ""))

        stop = bus.listen(on_event)
        try:
            yield
        finally:
            stop()
