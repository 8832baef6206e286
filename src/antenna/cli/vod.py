"""`antenna vod …`: an IPTV provider's movies and series as a .strm + NFO tree for Jellyfin, Emby and Kodi."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from antenna.cli.context import open_container
from antenna.cli.output import job_progress, print_json, print_line, print_table
from antenna.cli.vod_settings import source_set, source_show
from antenna.errors import UserError
from antenna.jobs.models import JobStatus, job_payload

if TYPE_CHECKING:
    from antenna.container import Container

JOB_KIND = "vod_export"  # vod.service.JOB_KIND, without importing the service for --help
PLEX_NOTE = "Plex cannot play .strm files: point Jellyfin, Emby or Kodi at this folder."

vod_app = typer.Typer(
    help="VOD: provider movies and series as .strm + NFO files for Jellyfin, Emby and Kodi.",
    no_args_is_help=True,
)
source_app = typer.Typer(help="VOD sources: Xtream accounts and M3U playlists.", no_args_is_help=True)
vod_app.add_typer(source_app, name="source")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
source_app.command("set")(source_set)
source_app.command("show")(source_show)


@contextlib.contextmanager
def _container(ctx: typer.Context) -> Iterator[Container]:
    container = open_container(ctx)
    try:
        yield container
    finally:
        container.close()


@source_app.command("add")
def source_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the source.")],
    root: Annotated[str, typer.Option(help="The folder the tree is written in.")],
    xtream: Annotated[str, typer.Option(help="Xtream server URL.")] = "",
    username: Annotated[str, typer.Option(help="Xtream username.")] = "",
    password: Annotated[str, typer.Option(help="Xtream password.")] = "",
    m3u: Annotated[
        str, typer.Option(help="M3U playlist URL or file with /movie/ and /series/ entries.")
    ] = "",
    base_url: Annotated[str, typer.Option(help="Antenna's address as media servers reach it.")] = "",
    url_mode: Annotated[str, typer.Option(help="redirect (Antenna's stable URLs) or provider.")] = "redirect",
    id_style: Annotated[
        str, typer.Option(help="Folder ID tags: plex {tmdb-N}, jellyfin \\[tmdbid-N], none.")
    ] = "plex",
    schedule: Annotated[str, typer.Option(help='When to export by itself: "daily 03:00" or a crontab.')] = "",
) -> None:
    """Add a source (--xtream with --username/--password, or --m3u) and its output folder."""
    with _container(ctx) as container:
        view = container.vod.add_source(
            name,
            root=root,
            xtream=xtream,
            username=username,
            password=password,
            m3u=m3u,
            base_url=base_url,
            url_mode=url_mode,
            id_style=id_style,
            schedule=schedule,
        )
        print_line(f"Added VOD source {view.name} (#{view.id}, {view.kind}) writing into {view.root}")
        print_line(PLEX_NOTE)


@source_app.command("list")
def source_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List sources with their last export."""
    with _container(ctx) as container:
        views = container.vod.sources()
        if json_:
            print_json([v.to_dict() for v in views])
            return
        print_table(
            "VOD sources",
            ["#", "Name", "Kind", "Location", "Root", "Last export", "Status"],
            [
                (
                    v.id,
                    v.name,
                    v.kind,
                    v.location,
                    v.root,
                    v.last_run_at.isoformat(timespec="minutes") if v.last_run_at else "never",
                    f"{v.last_status} {v.last_message}".strip() or "-",
                )
                for v in views
            ],
            "No VOD sources yet. Add one: antenna vod source add NAME --xtream URL --username U --password P "
            "--root DIR",
        )


@source_app.command("remove")
def source_remove(ctx: typer.Context, source: Annotated[str, typer.Argument(help="Name or id.")]) -> None:
    """Forget a source (the files it wrote stay)."""
    with _container(ctx) as container:
        print_line(f"Removed VOD source {container.vod.remove_source(source).name}; its files stay")


@source_app.command("test")
def source_test(ctx: typer.Context, source: Annotated[str, typer.Argument(help="Name or id.")]) -> None:
    """Read a source's catalogue now and say what it holds (nothing is written)."""
    with _container(ctx) as container:
        print_line(container.vod.test_source(source))


@vod_app.command("export")
def export(
    ctx: typer.Context,
    movies: Annotated[bool, typer.Option("--movies", help="Movies only.")] = False,
    series: Annotated[bool, typer.Option("--series", help="Series only.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Movies and series (the default).")] = False,
    cleanup: Annotated[str, typer.Option(help="off, preview or apply.")] = "off",
    source: Annotated[
        list[str] | None, typer.Option(help="Only this source (name or id); repeatable.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply a cleanup past the safety threshold.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Write the .strm + NFO tree of each source here, with progress (unchanged files are not touched)."""
    if movies and series and not all_:
        all_ = True
    scope = "all" if all_ or movies == series else "movies" if movies else "series"
    with _container(ctx) as container:
        targets = [container.vod.source(s) for s in source] if source else container.vod.sources()
        if not targets:
            raise UserError("No VOD sources yet.", "Add one with `antenna vod source add`.")
        failed = False
        results = []
        for view in targets:
            params = {"source": view.id, "scope": scope, "cleanup": cleanup, "force": force}
            with job_progress(container.bus, f"VOD export {view.name}", enabled=not json_):
                job = asyncio.run(container.runner.run_now(JOB_KIND, params))
            results.append(job_payload(job))
            if not json_:
                print_line(f"VOD export {job.status.value}: {job.error or job.message}")
            failed = failed or job.status is not JobStatus.SUCCEEDED
        if json_:
            print_json(results)
        if failed:
            raise typer.Exit(1)


@vod_app.command("stats")
def stats(
    ctx: typer.Context,
    source: Annotated[list[str] | None, typer.Option(help="Only this source; repeatable.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Write a summary CSV per source: counts from the provider and from the folder."""
    with _container(ctx) as container:
        targets = [container.vod.source(s) for s in source] if source else container.vod.sources()
        out = []
        for view in targets:
            path, counts = container.vod.stats(view.id)
            out.append({"source": view.name, "csv": str(path), **counts})
            if not json_:
                print_line(f"{view.name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
                print_line(f"  written to {path}")
        if json_:
            print_json(out)


@vod_app.command("report")
def report(
    ctx: typer.Context,
    run: Annotated[int | None, typer.Argument(help="Run id (default: the newest).")] = None,
    debug_log: Annotated[
        bool, typer.Option("--debug-log", help="Print its debug log (kept with `source set --debug-log`).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Show an export's report: what happened to each movie and episode, and why."""
    with _container(ctx) as container:
        info, rows = container.vod.report(run, limit=0 if debug_log else None)
        if debug_log:
            path = container.vod.debug_log_path(info["id"])
            if not path.exists():
                raise UserError(
                    f"Export #{info['id']} has no debug log.",
                    "Turn it on with `antenna vod source set NAME --debug-log`, then export again.",
                )
            with open(path, encoding="utf-8", errors="replace") as stream:
                for line in stream:
                    typer.echo(line, nl=False)
            return
        if json_:
            print_json({"run": {k: str(v) for k, v in info.items()}, "rows": rows})
            return
        print_line(f"Run #{info['id']} ({info['status']}): {info['message']}")
        if info["report"]:
            print_line(f"CSV: {info['report']}")
        if container.vod.debug_log_path(info["id"]).exists():
            print_line(f"Debug log: {container.vod.debug_log_path(info['id'])}")
        print_table(
            "Changes",
            ["Type", "Series", "Season", "Title", "Action", "Reason"],
            [
                (r["type"], r["series_name"], r["season"], r["title"], r["action"], r["reason"])
                for r in rows
                if r["action"] != "unchanged"
            ][:200],
            "Nothing changed in this run.",
        )
