"""`antenna iptv …`: merge channel and guide sources into a Kodi playlist and a Plex-correct XMLTV guide."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from antenna.cli.context import open_container
from antenna.cli.output import job_progress, print_json, print_line, print_table
from antenna.errors import UserError
from antenna.fs import atomic_writer, ensure_dir
from antenna.iptv.models import JOB_KIND, SourceConfig
from antenna.jobs.models import JobStatus, job_payload

if TYPE_CHECKING:  # heavy imports (the container, lxml) happen when a command runs, not for --help
    from antenna.container import Container
    from antenna.iptv.playlist_stream import StreamStats

iptv_app = typer.Typer(help="IPTV: merge playlists and guides for Kodi and Plex.", no_args_is_help=True)


@contextlib.contextmanager
def _output(path: Path) -> Iterator[BinaryIO]:
    """Write path atomically; gzip it when its name ends in .gz."""
    ensure_dir(path.parent)
    with atomic_writer(path) as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed:
                yield packed  # type: ignore[misc]  # GzipFile is a BinaryIO in all but name
        else:
            yield raw


@iptv_app.command("merge")
def merge(
    sources: Annotated[
        list[str], typer.Argument(help="Files or http(s) URLs; formats are found by content.")
    ],
    m3u: Annotated[Path | None, typer.Option("--m3u", help="Write the IPTV Simple playlist here.")] = None,
    xmltv: Annotated[
        Path | None, typer.Option("--xmltv", help="Write the Plex XMLTV here (.gz: compressed).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=31, help="Days of guide to keep.")] = 7,
    timezone: Annotated[str, typer.Option(help="Zone of guide times that carry no offset.")] = "UTC",
    guide_url: Annotated[str, typer.Option(help="x-tvg-url written into the playlist.")] = "",
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Merge SOURCES offline (no data dir, no database): for scripts and benchmarks."""
    from antenna.iptv import engine, guide_write, plan

    if m3u is None and xmltv is None:
        raise UserError("Nothing to write.", "Give --m3u FILE and/or --xmltv FILE.")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"Unknown timezone {timezone!r}.", "Use an IANA name such as Europe/Berlin.") from exc
    with tempfile.TemporaryDirectory(prefix="antenna-merge-") as temp:
        files = []
        for index, source in enumerate(sources, 1):
            name = Path(source).name if "://" not in source else source.split("://", 1)[1].split("/", 1)[0]
            config = SourceConfig(
                id=index, name=name or f"source {index}", base_url=source if "://" in source else ""
            )
            files.append(engine.SourceFile(config, _local(source, Path(temp) / f"{index}.src"), tz=tz))
        scans = engine.scan_playlists(files) if m3u is not None and xmltv is None else None
        if m3u is not None and scans is not None:
            # Nothing needs the channel list in memory: stream the playlist straight from the sources.
            with _output(m3u) as out:
                stats, _reports = engine.stream_playlist(
                    files, scans, {}, out, guide_url=guide_url, names=json_
                )
            _print_streamed(len(sources), stats, json_=json_)
            return
        merged = engine.merge(files, {})
        merger = None
        warnings = 0
        if m3u is not None:
            with _output(m3u) as out:
                engine.write_playlist(merged, out, guide_url=guide_url)
        if xmltv is not None:
            with _output(xmltv) as out:
                merger, warnings = guide_write.write_guide(merged, [out], now=datetime.now(UTC), days=days)
    report = engine.report(merged, merger, {}, warnings)
    if json_:
        print_json(
            {
                "channels": report.channels,
                "programmes": report.programmes,
                "without_guide": list(report.without_guide),
                "duplicates": list(report.duplicates),
                "warnings": list(report.warnings),
            }
        )
        return
    print_line(f"Merged {len(sources)} source(s): {plan.summary(report)}")
    for warning in report.warnings[:20]:
        print_line(f"  warning: {warning}")


def _print_streamed(count: int, stats: StreamStats, *, json_: bool) -> None:
    """Print what a streamed playlist merge did, as merge prints a report (no guide: none has a guide)."""
    from antenna.iptv import plan

    if json_:
        print_json(
            {
                "channels": stats.channels,
                "programmes": 0,
                "without_guide": stats.without_guide,
                "duplicates": stats.duplicates,
                "warnings": stats.warnings,
            }
        )
        return
    line = plan.summary_line(stats.channels, 0, stats.enabled, stats.channels, 0)
    print_line(f"Merged {count} source(s): {line}")
    for warning in stats.warnings[:20]:
        print_line(f"  warning: {warning}")


def _local(source: str, temp: Path) -> Path:
    if "://" in source:
        from antenna.iptv.sources import download  # httpx: only for URLs

        return download(source, temp)
    path = Path(source)
    if not path.is_file():
        raise UserError(f"{source}: no such file.", "Give a playlist or guide file, or an http(s) URL.")
    return path


source_app = typer.Typer(help="Add, list, test and remove IPTV sources.", no_args_is_help=True)
channel_app = typer.Typer(help="Change how merged channels are shown.", no_args_is_help=True)
iptv_app.add_typer(source_app, name="source")
iptv_app.add_typer(channel_app, name="channel")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


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
    location: Annotated[str, typer.Argument(help="URL, file path, Xtream server, or the command to run.")],
    kind: Annotated[
        str, typer.Option(help="url, file, xtream or command (default: url or file by LOCATION).")
    ] = "",
    role: Annotated[str, typer.Option(help="channels, guide or both.")] = "both",
    username: Annotated[str, typer.Option(help="Xtream username.")] = "",
    password: Annotated[str, typer.Option(help="Xtream password.")] = "",
    timezone: Annotated[str, typer.Option(help="Zone of guide times without an offset.")] = "UTC",
    schedule: Annotated[
        str, typer.Option(help='When to refresh: "every 6h", "daily 04:00", crontab.')
    ] = "every 6h",
    timeout: Annotated[int, typer.Option(help="Seconds before a fetch gives up.")] = 60,
    priority: Annotated[int, typer.Option(help="Lower first when several guides cover a channel.")] = 100,
    icon: Annotated[str, typer.Option(help="Default logo for its channels.")] = "",
    exclude_group: Annotated[
        list[str] | None, typer.Option(help="Drop channels of this group; repeatable.")
    ] = None,
    include_group: Annotated[
        list[str] | None, typer.Option(help="Keep only these groups; repeatable.")
    ] = None,
) -> None:
    """Add a source and its refresh schedule."""
    chosen = kind or ("url" if "://" in location else "file")
    filters = {"exclude_groups": exclude_group or [], "include_groups": include_group or []}
    with _container(ctx) as container:
        view = container.iptv.add_source(
            name,
            chosen,
            location,
            role=role,
            username=username,
            password=password,
            timezone=timezone,
            schedule=schedule,
            timeout_seconds=timeout,
            priority=priority,
            icon=icon,
            filters=filters,
        )
        print_line(
            f"Added IPTV source {view.name} (#{view.id}, {view.kind}, {view.role}); refresh {view.schedule}"
        )


@source_app.command("list")
def source_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List sources with their last refresh."""
    with _container(ctx) as container:
        views = container.iptv.sources()
        if json_:
            print_json([v.to_dict() for v in views])
            return
        print_table(
            "IPTV sources",
            ["#", "Name", "Kind", "Role", "Location", "Schedule", "Last refresh", "Status"],
            [
                (
                    v.id,
                    v.name,
                    v.kind,
                    v.role,
                    v.location,
                    v.schedule,
                    v.last_refresh_at.isoformat(timespec="minutes") if v.last_refresh_at else "never",
                    f"{v.last_status} {v.last_error}".strip() or "-",
                )
                for v in views
            ],
            "No IPTV sources yet. Add one: antenna iptv source add NAME http://…/list.m3u",
        )


@source_app.command("remove")
def source_remove(ctx: typer.Context, source: Annotated[str, typer.Argument(help="Name or id.")]) -> None:
    """Remove a source, its overrides, schedule and cached data."""
    with _container(ctx) as container:
        print_line(f"Removed IPTV source {container.iptv.remove_source(source).name}")


@source_app.command("test")
def source_test(ctx: typer.Context, source: Annotated[str, typer.Argument(help="Name or id.")]) -> None:
    """Fetch a source now and say what it holds (its stored data is not touched)."""
    with _container(ctx) as container:
        print_line(container.iptv.test_source(source))


@iptv_app.command("refresh")
def refresh(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option(help="Only this source (name or id); repeatable.")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Run here and wait, with progress.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Refresh sources and rebuild the playlist and guide (queued for `antenna serve` unless --wait)."""
    with _container(ctx) as container:
        ids = [container.iptv.source(s).id for s in source or []]
        params = {"sources": ids}
        if not wait:
            job = container.runner.submit(JOB_KIND, params)
            print_line(f"Queued IPTV refresh as job #{job.id}; `antenna serve` runs it (or use --wait).")
            return
        with job_progress(container.bus, "IPTV refresh", enabled=not json_):
            job = asyncio.run(container.runner.run_now(JOB_KIND, params))
        if json_:
            print_json(job_payload(job))
        else:
            print_line(f"IPTV refresh {job.status.value}: {job.error or job.message}")
        if job.status is not JobStatus.SUCCEEDED:
            raise typer.Exit(1)


@iptv_app.command("channels")
def channels(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the merged channels of the last refresh."""
    with _container(ctx) as container:
        found = container.iptv.channels()
        if json_:
            print_json(found)
            return
        print_table(
            "Channels",
            ["Number", "Name", "Group", "Source", "Key", "Guide", "Enabled"],
            [
                (
                    c["number"],
                    c["name"],
                    c["group"],
                    c["source_id"],
                    c["key"],
                    ", ".join(c["guide"]) or "-",
                    "yes" if c["enabled"] else "no",
                )
                for c in found
            ],
            "No channels yet. Add a source and run: antenna iptv refresh --wait",
        )


@iptv_app.command("report")
def report(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show what the last refresh did: changes, channels without guide, coverage, sources."""
    with _container(ctx) as container:
        found = container.iptv.report()
        if found is None:
            raise UserError("No refresh has run yet.", "Run: antenna iptv refresh --wait")
        if json_:
            print_json(found)
            return
        print_line(
            f"Last refresh {found['at']}: {found['channels']} channels, {found['programmes']} programmes; "
            f"{len(found['added'])} added, {len(found['removed'])} removed, {len(found['renamed'])} renamed"
        )
        for src in found["sources"]:
            print_line(f"  source {src['name']}: {src['status']} {src['message']} ({src['seconds']:.1f} s)")
        if found["without_guide"]:
            missing = found["without_guide"]
            print_line(f"  without guide data ({len(missing)}): {', '.join(missing[:20])}")
        for warning in found["warnings"][:20]:
            print_line(f"  warning: {warning}")
        low = [f"{c['number']} {c['name']}" for c in found["coverage"] if c["guide_hours"] < 24]
        if low:
            print_line(f"  less than 24 h of guide: {', '.join(low[:20])}")


@channel_app.command("set")
def channel_set(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Source name or id.")],
    key: Annotated[str, typer.Argument(help="The channel's key (see `antenna iptv channels`).")],
    name: Annotated[str | None, typer.Option(help="Show it under this name.")] = None,
    number: Annotated[str | None, typer.Option(help="Give it this number.")] = None,
    group: Annotated[str | None, typer.Option(help="Put it in this group.")] = None,
    logo: Annotated[str | None, typer.Option(help="Use this logo URL.")] = None,
    guide_id: Annotated[str | None, typer.Option(help="Take its guide from this guide channel id.")] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Keep it in the outputs.")
    ] = None,
) -> None:
    """Override how a channel is shown; kept across refreshes, applied at the next refresh."""
    fields = {
        "name": name,
        "number": number,
        "group_name": group,
        "logo": logo,
        "guide_id": guide_id,
        "enabled": enabled,
    }
    changed = {k: v for k, v in fields.items() if v is not None}
    if not changed:
        raise UserError("Nothing to change.", "See antenna iptv channel set --help.")
    with _container(ctx) as container:
        container.iptv.set_override(source, key, **changed)
        print_line(f"Channel {key}: {', '.join(sorted(changed))} set; applies at the next refresh")
