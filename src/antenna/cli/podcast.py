"""`antenna podcast …`: subscribe to podcasts and keep them in the library as TV shows."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from antenna.cli.context import open_container
from antenna.cli.output import print_json, print_line, print_table, stdout_console
from antenna.errors import UserError
from antenna.podcasts.models import DOWNLOAD_JOB

if TYPE_CHECKING:
    from antenna.container import Container
    from antenna.podcasts.models import Podcast

podcast_app = typer.Typer(
    help="Podcasts: RSS feeds downloaded into the library as TV shows.", no_args_is_help=True
)
episode_app = typer.Typer(help="Download, delete or mark single episodes.", no_args_is_help=True)
podcast_app.add_typer(episode_app, name="episode")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Ids = Annotated[list[int], typer.Argument(help="Podcast ids (see `antenna podcast list`).")]


@contextlib.contextmanager
def _container(ctx: typer.Context) -> Iterator[Container]:
    container = open_container(ctx)
    try:
        yield container
    finally:
        container.close()


def _options(
    keep: int | None,
    order: str | None,
    quota_mode: str | None,
    delete_watched: bool | None,
    grace_days: int | None,
    backfill: bool | None,
    expire_days: int | None,
    audio_to_video: bool | None,
    kodi_safe: bool | None,
) -> dict[str, Any]:
    given = {
        "keep": keep,
        "order": order,
        "quota_mode": quota_mode,
        "delete_watched": delete_watched,
        "watched_grace_days": grace_days,
        "backfill": backfill,
        "expire_days": expire_days,
        "audio_to_video": audio_to_video,
        "kodi_safe": kodi_safe,
    }
    return {k: v for k, v in given.items() if v is not None}


KeepOpt = Annotated[int | None, typer.Option(help="Episodes to keep (0: all).")]
OrderOpt = Annotated[str | None, typer.Option(help="newest or oldest: which end the quota keeps.")]
QuotaOpt = Annotated[
    str | None, typer.Option(help="rotate (new replaces oldest) or wait (nothing new until one is removed).")
]
WatchedOpt = Annotated[
    bool | None, typer.Option("--delete-watched/--keep-watched", help="Remove episodes watched in Plex.")
]
GraceOpt = Annotated[int | None, typer.Option(help="Days a watched episode stays.")]
BackfillOpt = Annotated[
    bool | None, typer.Option("--backfill/--no-backfill", help="Fetch older episodes when some go.")
]
ExpireOpt = Annotated[int | None, typer.Option(help="Remove episodes older than this many days (0: never).")]
VideoOpt = Annotated[
    bool | None,
    typer.Option("--audio-to-video/--keep-audio", help="MP4 with the artwork as video, for Plex."),
]
KodiOpt = Annotated[
    bool | None, typer.Option("--kodi-safe/--no-kodi-safe", help="Strip emoji from NFO text.")
]


def _podcast_dict(podcast: Podcast) -> dict[str, Any]:
    from antenna.podcasts.records import options_to_json

    return {
        "id": podcast.id,
        "title": podcast.title,
        "url": podcast.url,
        "folder": podcast.folder,
        "paused": podcast.paused,
        "status": podcast.status.value,
        "status_message": podcast.status_message,
        "options": options_to_json(podcast.options),
        "checked_at": podcast.checked_at.isoformat() if podcast.checked_at else None,
    }


@podcast_app.command("preview")
def preview(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The feed URL.")],
    folder: Annotated[str, typer.Option(help="Show folder (default: <podcast library>/<Show>).")] = "",
    audio_to_video: VideoOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show a feed and the exact folder and file names its episodes would get; nothing is stored."""
    with _container(ctx) as container:
        result = container.podcasts.preview(
            url, _options(None, None, None, None, None, None, None, audio_to_video, None), folder
        )
    if json_:
        print_json(
            {
                "title": result.title,
                "author": result.author,
                "episodes": result.episode_count,
                "folder": result.folder,
                "warnings": list(result.warnings),
                "duplicate_of": result.duplicate_of,
                "files": [
                    {"title": e.title, "published": e.published.isoformat(), "path": e.relpath}
                    for e in result.episodes
                ],
            }
        )
        return
    print_line(f"{result.title} — {result.author or 'unknown author'}")
    print_line(f"{result.episode_count} episodes; folder {result.folder}")
    for warning in result.warnings:
        print_line(f"  warning: {warning}")
    if result.duplicate_of:
        print_line(f"  already subscribed as '{result.duplicate_of}'")
    print_table(
        "Episodes (newest first)",
        ["Published", "Title", "File"],
        [(e.published.date().isoformat(), e.title, e.relpath) for e in result.episodes[:30]],
        "The feed has no episodes with media files.",
    )


@podcast_app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The feed URL.")],
    keep: KeepOpt = None,
    order: OrderOpt = None,
    quota_mode: QuotaOpt = None,
    delete_watched: WatchedOpt = None,
    grace_days: GraceOpt = None,
    backfill: BackfillOpt = None,
    expire_days: ExpireOpt = None,
    audio_to_video: VideoOpt = None,
    kodi_safe: KodiOpt = None,
    folder: Annotated[str, typer.Option(help="Show folder (default: <podcast library>/<Show>).")] = "",
    paused: Annotated[bool, typer.Option("--paused", help="Subscribe without downloading yet.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Subscribe to a feed; wanted episodes are queued for download."""
    options = _options(
        keep, order, quota_mode, delete_watched, grace_days, backfill, expire_days, audio_to_video, kodi_safe
    )
    with _container(ctx) as container:
        done = container.podcasts.subscribe(url, options, folder, paused=paused)
    if json_:
        print_json(
            {
                **_podcast_dict(done.podcast),
                "episodes": done.episodes,
                "queued": done.queued,
                "adopted": done.adopted,
            }
        )
        return
    print_line(
        f"Subscribed to {done.podcast.title} (#{done.podcast.id}): "
        f"{done.episodes} episodes, {done.queued} queued"
        + (f", {done.adopted} already on disk" if done.adopted else "")
        + f"; folder {done.podcast.folder}"
    )


@podcast_app.command("search")
def search(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="Words to search for.")],
    json_: JsonOpt = False,
) -> None:
    """Search the podcast directory."""
    with _container(ctx) as container:
        found = container.podcasts.search(term)
    if json_:
        print_json([r.__dict__ if hasattr(r, "__dict__") else _result_dict(r) for r in found])
        return
    print_table(
        f"Podcasts matching '{term}'",
        ["Title", "Author", "Episodes", "Feed"],
        [
            (r.title, r.author, r.episode_count if r.episode_count is not None else "?", r.feed_url)
            for r in found
        ],
        "Nothing found. Try other words, or add the feed URL directly.",
    )


def _result_dict(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(result)


@podcast_app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List subscriptions with their episode counts."""
    with _container(ctx) as container:
        summaries = container.podcasts.summaries()
    if json_:
        print_json([{**_podcast_dict(s.podcast), "counts": dict(s.counts)} for s in summaries])
        return
    print_table(
        "Podcasts",
        ["#", "Title", "In library", "Pending", "Keep", "Status", "Checked"],
        [
            (
                s.podcast.id,
                s.podcast.title,
                s.in_library,
                s.pending,
                s.podcast.options.keep or "all",
                "paused"
                if s.podcast.paused
                else f"{s.podcast.status.value} {s.podcast.status_message}".strip(),
                s.podcast.checked_at.isoformat(timespec="minutes") if s.podcast.checked_at else "never",
            )
            for s in summaries
        ],
        "No podcasts yet. Add one: antenna podcast add https://example.org/feed.xml",
    )


@podcast_app.command("show")
def show(
    ctx: typer.Context, podcast_id: Annotated[int, typer.Argument(help="Podcast id.")], json_: JsonOpt = False
) -> None:
    """Show one subscription and its episodes."""
    with _container(ctx) as container:
        podcast = container.podcasts.get(podcast_id)
        episodes = container.podcasts.episodes(podcast_id)
    if json_:
        print_json(
            {
                **_podcast_dict(podcast),
                "episodes": [
                    {
                        "id": e.id,
                        "title": e.title,
                        "published": e.published.isoformat(),
                        "state": e.state.value,
                        "file": e.relpath,
                        "reason": e.reason,
                    }
                    for e in episodes
                ],
            }
        )
        return
    print_line(f"{podcast.title} (#{podcast.id}) — {podcast.url}")
    print_line(f"Folder {podcast.folder}; {'paused' if podcast.paused else podcast.status.value}")
    print_table(
        "Episodes",
        ["#", "Published", "Title", "State", "File / reason"],
        [
            (e.id, e.published.date().isoformat(), e.title, e.state.value, e.reason or e.relpath)
            for e in episodes
        ],
        "No episodes yet.",
    )


@podcast_app.command("pause")
def pause(ctx: typer.Context, ids: Ids) -> None:
    """Stop checking and downloading these podcasts."""
    with _container(ctx) as container:
        for podcast in container.podcasts.set_paused(ids, True):
            print_line(f"Paused {podcast.title} (#{podcast.id})")


@podcast_app.command("resume")
def resume(ctx: typer.Context, ids: Ids) -> None:
    """Resume paused podcasts."""
    with _container(ctx) as container:
        for podcast in container.podcasts.set_paused(ids, False):
            print_line(f"Resumed {podcast.title} (#{podcast.id})")


@podcast_app.command("set")
def set_(
    ctx: typer.Context,
    ids: Ids,
    keep: KeepOpt = None,
    order: OrderOpt = None,
    quota_mode: QuotaOpt = None,
    delete_watched: WatchedOpt = None,
    grace_days: GraceOpt = None,
    backfill: BackfillOpt = None,
    expire_days: ExpireOpt = None,
    audio_to_video: VideoOpt = None,
    kodi_safe: KodiOpt = None,
) -> None:
    """Change options of one or more podcasts."""
    options = _options(
        keep, order, quota_mode, delete_watched, grace_days, backfill, expire_days, audio_to_video, kodi_safe
    )
    if not options:
        raise UserError("Nothing to change.", "Give at least one option, e.g. --keep 5.")
    with _container(ctx) as container:
        for podcast in container.podcasts.set_options(ids, options):
            print_line(
                f"Changed {podcast.title} (#{podcast.id}): "
                + ", ".join(f"{k}={v}" for k, v in options.items())
            )


@podcast_app.command("remove")
def remove(
    ctx: typer.Context,
    ids: Ids,
    delete_files: Annotated[
        bool, typer.Option("--delete-files", help="Also move the show folders to the trash.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Unsubscribe (with --delete-files, the show folders go to the trash)."""
    with _container(ctx) as container:
        titles = [container.podcasts.get(i).title for i in ids]
        what = ", ".join(titles) + (" and their folders (to the trash)" if delete_files else "")
        if not yes and not typer.confirm(f"Remove {what}?"):
            raise typer.Exit(1)
        for title in container.podcasts.remove(ids, delete_files=delete_files):
            print_line(f"Removed {title}")


@podcast_app.command("check")
def check(
    ctx: typer.Context,
    podcast_id: Annotated[int | None, typer.Argument(help="One podcast (default: all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Check every active podcast.")] = False,
    force: Annotated[bool, typer.Option(help="Ignore ETag/Last-Modified.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check feeds now and queue new episodes (`antenna serve` or `podcast download` fetches them)."""
    with _container(ctx) as container:
        ids = [podcast_id] if podcast_id is not None and not all_ else None
        results = container.podcasts.check(ids, force=force)
        if any(r.queued for r in results):
            container.runner.submit(DOWNLOAD_JOB)
    if json_:
        print_json([r.__dict__ if hasattr(r, "__dict__") else _result_dict(r) for r in results])
        return
    print_table(
        "Feed checks",
        ["#", "Podcast", "Result", "New", "Queued", "Message"],
        [(r.podcast_id, r.title, r.status, r.added, r.queued, r.message) for r in results],
        "No active podcasts to check.",
    )


@podcast_app.command("download")
def download(
    ctx: typer.Context,
    wait: Annotated[
        bool, typer.Option("--wait", help="Download here, with a progress bar per episode.")
    ] = False,
) -> None:
    """Download queued episodes (queued for `antenna serve` unless --wait)."""
    from antenna.jobs.models import JobStatus

    with _container(ctx) as container:
        if not wait:
            job = container.runner.submit(DOWNLOAD_JOB)
            print_line(f"Queued podcast downloads as job #{job.id}; `antenna serve` runs it (or use --wait).")
            return
        with _episode_bars(container):
            job = asyncio.run(container.runner.run_now(DOWNLOAD_JOB))
        print_line(f"Podcast downloads {job.status.value}: {job.error or job.message}")
        if job.status is not JobStatus.SUCCEEDED:
            raise typer.Exit(1)


@contextlib.contextmanager
def _episode_bars(container: Container) -> Iterator[None]:
    """One Rich bar per active download, fed by the bus; finished ones stay with their final size."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from antenna.jobs.bus import Event
    from antenna.podcasts.pipeline import PROGRESS_TOPIC

    console = stdout_console()
    if not console.is_terminal:
        yield
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
    ) as progress:
        tasks: dict[int, Any] = {}

        def on_event(event: Event) -> None:
            if event.topic != PROGRESS_TOPIC:
                return
            data = event.data
            key = int(data["episode_id"])
            if data.get("finished"):
                if key in tasks:
                    task = progress.tasks[tasks[key]]
                    progress.update(tasks[key], completed=task.total or task.completed)
                return
            if key not in tasks:
                tasks[key] = progress.add_task(str(data.get("title", key))[:40], total=data.get("total"))
            progress.update(tasks[key], completed=data.get("done", 0), total=data.get("total"))

        stop = container.bus.listen(on_event)
        try:
            yield
        finally:
            stop()


@podcast_app.command("housekeep")
def housekeep(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would change.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Apply quotas, expiry and watched removal (files go to the trash), then queue backfill."""
    with _container(ctx) as container:
        report = container.podcasts.housekeep(dry_run=dry_run)
    if json_:
        print_json(
            {
                "dry_run": report.dry_run,
                "steps": [s.__dict__ if hasattr(s, "__dict__") else _result_dict(s) for s in report.steps],
                "problems": report.problems,
            }
        )
        return
    print_table(
        "Housekeeping (dry run: nothing changed)" if dry_run else "Housekeeping",
        ["Podcast", "Episode", "Action", "Why"],
        [(s.podcast, s.title, s.action, s.reason) for s in report.steps],
        "Nothing to do.",
    )
    for problem in report.problems:
        print_line(f"  problem: {problem}")


@podcast_app.command("verify")
def verify(
    ctx: typer.Context,
    redownload: Annotated[
        bool, typer.Option("--redownload", help="Queue missing files for download.")
    ] = False,
    read_nfo: Annotated[bool, typer.Option("--read-nfo/--no-read-nfo", help="Read NFO edits back.")] = True,
) -> None:
    """Check library files against the database, read episode NFO edits back, check database integrity."""
    with _container(ctx) as container:
        report = container.podcasts.maintain(redownload=redownload, read_nfo=read_nfo)
    print_line(f"Checked {report.checked} episode files: {len(report.missing)} missing")
    for missing in report.missing:
        print_line(f"  missing: {missing}" + (" (queued again)" if redownload else " (marked deleted)"))
    for update in report.nfo_updates:
        print_line(f"  NFO edit read back: {update}")
    for problem in report.nfo_problems + report.integrity:
        print_line(f"  problem: {problem}")
    print_line(
        "Database integrity: ok" if not report.integrity else "Database integrity: PROBLEMS (see above)"
    )
    if report.integrity:
        raise typer.Exit(1)


@podcast_app.command("import-opml")
def import_opml(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="OPML file ('-' for stdin).")]
) -> None:
    """Subscribe to every feed of an OPML file."""
    data = sys.stdin.buffer.read() if str(file) == "-" else _read(file)
    with _container(ctx) as container:
        added, problems = container.podcasts.import_opml(data)
    for podcast in added:
        print_line(f"Subscribed to {podcast.title} (#{podcast.id})")
    for problem in problems:
        print_line(f"  skipped {problem}")
    print_line(f"{len(added)} added, {len(problems)} skipped")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise UserError(f"{file}: {exc.strerror or exc}.", "Give a readable OPML file.") from None


@podcast_app.command("export-opml")
def export_opml(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) every subscription as OPML."""
    from antenna.fs import atomic_write

    with _container(ctx) as container:
        data = container.podcasts.export_opml()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        atomic_write(output, data, only_if_changed=False)
        print_line(f"Wrote {output}")


EpisodeIds = Annotated[list[int], typer.Argument(help="Episode ids (see `antenna podcast show ID`).")]


@episode_app.command("download")
def episode_download(ctx: typer.Context, ids: EpisodeIds) -> None:
    """Queue episodes for download, outside the quota too."""
    with _container(ctx) as container:
        count = container.podcasts.queue_episodes(ids)
    print_line(f"Queued {count} episode(s)")


@episode_app.command("delete")
def episode_delete(ctx: typer.Context, ids: EpisodeIds) -> None:
    """Move episodes' files to the trash; they are not downloaded again."""
    with _container(ctx) as container:
        count = container.podcasts.delete_episodes(ids)
    print_line(f"Deleted {count} episode(s) (files in the trash)")


@episode_app.command("watched")
def episode_watched(ctx: typer.Context, ids: EpisodeIds) -> None:
    """Mark episodes watched."""
    with _container(ctx) as container:
        count = container.podcasts.mark_watched(ids)
    print_line(f"Marked {count} episode(s) watched")
