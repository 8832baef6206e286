"""Everything the CLI prints: tables, JSON, errors, and a live progress bar for a job."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from antenna.jobs.bus import EventBus


# Rich is imported on first use: a command that prints JSON (scripts, benchmarks) starts ~50 ms sooner.
@functools.cache
def stdout_console() -> Console:
    """Return the console for stdout."""
    from rich.console import Console

    return Console(highlight=False)


@functools.cache
def _err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print value as JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    """Print rows as a table, or the empty message when there are none."""
    from rich.table import Table

    console = stdout_console()
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
    stdout_console().print(text, markup=False, soft_wrap=True)


def print_error(message: str) -> None:
    """Print one error line on stderr."""
    _err_console().print(f"[bold red]Error:[/] {message}", soft_wrap=True)


@contextmanager
def job_progress(bus: EventBus, title: str, *, enabled: bool = True) -> Iterator[None]:
    """Show a progress bar fed by the job events on the bus while the block runs."""
    console = stdout_console()
    if not enabled or not console.is_terminal:
        yield
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from antenna.jobs.bus import Event

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
