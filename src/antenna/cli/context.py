"""What every CLI command shares: the data dir, and opening settings, logging and the container."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from antenna.logs import configure_logging
from antenna.redact import RedactingFilter

if TYPE_CHECKING:
    from antenna.container import Container
    from antenna.settings import Settings  # pydantic costs ~0.1 s of start-up; imported when a command loads


@dataclass
class CliState:
    """Global options given before the sub-command."""

    data_dir: Path
    redactor: RedactingFilter | None = None


def state(ctx: typer.Context) -> CliState:
    """Return the global CLI state."""
    value = ctx.find_root().obj
    assert isinstance(value, CliState)
    return value


def load(ctx: typer.Context, *, verbose: bool = False) -> Settings:
    """Prepare the data dir, read settings, set up logging (console: warnings, or log_level if verbose)."""
    from antenna.container import open_data_dir  # lazy: `--help` needs no database stack

    settings = open_data_dir(state(ctx).data_dir)
    secrets = [s.get_secret_value() for s in (settings.admin_password, settings.media_token) if s]
    state(ctx).redactor = configure_logging(
        settings.data_dir,
        level=settings.log_level,
        max_bytes=settings.log_max_bytes,
        backups=settings.log_backups,
        secrets=secrets,
        console_level=settings.log_level if verbose else "WARNING",
        console_tracebacks=verbose,
    )
    return settings


def open_container(ctx: typer.Context) -> Container:
    """Return a container for a one-shot command; jobs of dead processes are recovered first."""
    from antenna.container import build_container

    container = build_container(load(ctx))
    mask_secrets(ctx, container)
    container.runner.recover()
    return container


def mask_secrets(ctx: typer.Context, container: Container) -> None:
    """Mask secrets kept in the database (Plex tokens) in this process's logs from now on."""
    redactor = state(ctx).redactor
    if redactor is not None:
        container.plex.on_secret = redactor.add_secret
        container.plex.servers()
