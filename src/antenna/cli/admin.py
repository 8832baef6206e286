"""`antenna db …` and `antenna config …`."""

from __future__ import annotations

from typing import Annotated

import typer

from antenna.cli.context import load
from antenna.cli.output import print_json, print_line, print_table
from antenna.redact import redact

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (also done on every start)."""
    from antenna.db.engine import make_engine  # lazy: `--help` needs no database stack
    from antenna.db.migrate import upgrade

    settings = load(ctx)
    engine = make_engine(settings.effective_database_url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    where = redact(settings.effective_database_url)
    if before == after:
        print_line(f"Database {where} is up to date (revision {after}).")
    else:
        print_line(f"Database {where} upgraded from {before or 'empty'} to {after}.")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the schema revision of the database and of this Antenna."""
    from antenna.db.engine import make_engine
    from antenna.db.migrate import current_revision, head_revision

    settings = load(ctx)
    engine = make_engine(settings.effective_database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    print_line(f"database: {redact(settings.effective_database_url)}")
    print_line(f"schema: {current or 'empty'} (this Antenna ships {head_revision()})")


@config_app.command("show")
def config_show(
    ctx: typer.Context, json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Show the settings in force (file + environment), secrets masked."""
    settings = load(ctx)
    from antenna.settings import SETTINGS_FILE, redacted_view

    view = redacted_view(settings)
    if json_:
        print_json(view)
        return
    print_line(f"settings file: {settings.data_dir / SETTINGS_FILE}")
    print_table("Settings", ["Key", "Value"], sorted(view.items()), "No settings.")
