"""Typer root: `antenna` with global --data, the sub-apps, and the error policy (exit 2 user, 1 bug)."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from antenna import __version__
from antenna.cli import admin, iptv, jobs, plex, podcast, serve, storage
from antenna.cli.context import CliState
from antenna.cli.output import print_error
from antenna.errors import UserError

log = logging.getLogger(__name__)

app = typer.Typer(
    name="antenna",
    help="Antenna: podcasts, YouTube, IPTV, VOD and Plex for your home media server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"antenna {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data: Annotated[
        Path,
        typer.Option("--data", envvar="ANTENNA_DATA", help="Data dir: settings, database, logs, backups."),
    ] = Path("data"),
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Antenna's command line."""
    ctx.obj = CliState(data_dir=data)


app.command("serve")(serve.serve)
app.command("backup")(storage.backup)
app.command("restore")(storage.restore)
app.add_typer(plex.plex_app, name="plex")
app.add_typer(podcast.podcast_app, name="podcast")
app.add_typer(iptv.iptv_app, name="iptv")
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(jobs.schedule_app, name="schedule")
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.config_app, name="config")


def _where_traceback_is() -> str:
    for handler in logging.getLogger("antenna").handlers:
        if isinstance(handler, logging.FileHandler):
            return f"The traceback is in {handler.baseFilename}; please include it when you report this."
    traceback.print_exc()
    return "The traceback is above; please include it when you report this."


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user errors print one line and exit 2; bugs print the log path and exit 1."""
    try:
        result = app(args=argv, standalone_mode=False)
    except UserError as exc:
        print_error(str(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("Aborted; nothing was changed.")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # Typer 0.29 vendors click: usage errors arrive as these
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print_error(exc.format_message())
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        log.exception("antenna %s crashed", " ".join(sys.argv[1:]))
        print_error(f"internal error ({type(exc).__name__}: {exc}). {_where_traceback_is()}")
        sys.exit(1)
    if isinstance(result, int) and result:
        sys.exit(result)
