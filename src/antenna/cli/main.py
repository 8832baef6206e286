"""Typer root: `antenna` with global --data, the sub-apps, and the error policy (exit 2 user, 1 bug)."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

from antenna import __version__
from antenna.cli.context import CliState
from antenna.cli.output import print_error
from antenna.errors import UserError

log = logging.getLogger(__name__)

# Commands and groups by name, in help order: each module is imported only when the command line names it
# (or when nothing is named, for help and unknown commands), so `antenna iptv merge` does not load the Plex
# and podcast code (0.05 s of every command's start-up).
_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("antenna.cli.serve", "serve"),
    "backup": ("antenna.cli.storage", "backup"),
    "restore": ("antenna.cli.storage", "restore"),
}
_GROUPS: dict[str, tuple[str, str]] = {
    "plex": ("antenna.cli.plex", "plex_app"),
    "podcast": ("antenna.cli.podcast", "podcast_app"),
    "iptv": ("antenna.cli.iptv", "iptv_app"),
    "vod": ("antenna.cli.vod", "vod_app"),
    "jobs": ("antenna.cli.jobs", "jobs_app"),
    "schedule": ("antenna.cli.jobs", "schedule_app"),
    "db": ("antenna.cli.admin", "db_app"),
    "config": ("antenna.cli.admin", "config_app"),
}
_ROOT_OPTIONS_WITH_VALUE = frozenset({"--data"})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"antenna {__version__}")
        raise typer.Exit()


def _root(
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


def make_app(only: str | None = None) -> typer.Typer:
    """Return the CLI with every command, or with only the command or group named `only`."""
    app = typer.Typer(
        name="antenna",
        help="Antenna: podcasts, YouTube, IPTV, VOD and Plex for your home media server.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name, (module, attr) in _COMMANDS.items():
        if only is None or only == name:
            app.command(name)(getattr(importlib.import_module(module), attr))
    for name, (module, attr) in _GROUPS.items():
        if only is None or only == name:
            app.add_typer(getattr(importlib.import_module(module), attr), name=name)
    return app


def _named(argv: list[str]) -> str | None:
    """Return the command or group argv names after the root options, when it is a known one."""
    args = iter(argv)
    for arg in args:
        if arg in _ROOT_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg if arg in _COMMANDS or arg in _GROUPS else None
        elif arg in ("--help", "-h"):
            return None
    return None


def __getattr__(name: str) -> Any:
    """`app`: the whole CLI, built on first use (tests walk it)."""
    if name == "app":
        return make_app()
    raise AttributeError(name)


def _where_traceback_is() -> str:
    for handler in logging.getLogger("antenna").handlers:
        if isinstance(handler, logging.FileHandler):
            return f"The traceback is in {handler.baseFilename}; please include it when you report this."
    traceback.print_exc()
    return "The traceback is above; please include it when you report this."


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user errors print one line and exit 2; bugs print the log path and exit 1."""
    try:
        args = sys.argv[1:] if argv is None else argv
        result = make_app(_named(args))(args=args, standalone_mode=False)
    except UserError as exc:
        print_error(str(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("Aborted; nothing was changed.")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # Typer vendors click: usage errors arrive as these
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
