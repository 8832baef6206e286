"""`antenna plex …`: servers, live status, sessions, clients, events, commands, art, library and DVRs."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from antenna.cli.context import open_container
from antenna.cli.output import print_json, print_line, print_table
from antenna.errors import NotFound, UserError
from antenna.fs import atomic_write
from antenna.plex import plan
from antenna.plex.models import PlexEvent, ServerState
from antenna.plex.plan import parse_path_map

if TYPE_CHECKING:  # the container (SQLAlchemy, plexapi…) is imported only when a command runs
    from antenna.container import Container

plex_app = typer.Typer(
    help="Watch and drive Plex: servers, sessions, players, library, events.", no_args_is_help=True
)
server_app = typer.Typer(help="Add, list and test Plex servers.", no_args_is_help=True)
library_app = typer.Typer(help="List, create and refresh library sections.", no_args_is_help=True)
plex_app.add_typer(server_app, name="server")
plex_app.add_typer(library_app, name="library")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ServerOpt = Annotated[str, typer.Option("--server", "-s", help="Server name or id (needed when several).")]


@contextmanager
def _container(ctx: typer.Context) -> Iterator[Container]:
    container = open_container(ctx)
    try:
        yield container
    finally:
        container.close()


@server_app.command("add")
def server_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="e.g. http://192.168.1.10:32400")],
    token: Annotated[
        str, typer.Option(help="The server owner's X-Plex-Token.", prompt=True, hide_input=True)
    ],
    name: Annotated[str, typer.Option(help="Default: the server's own name.")] = "",
    verify_tls: Annotated[bool, typer.Option(help="Check the server's TLS certificate.")] = True,
    path_map: Annotated[
        list[str] | None, typer.Option("--path-map", help="LOCAL=SERVER folder prefix; repeatable.")
    ] = None,
) -> None:
    """Test the connection, then add the server."""
    maps = [parse_path_map(m) for m in path_map or []]
    with _container(ctx) as container:
        config, info = container.plex.add_server(url, token, name=name, verify_tls=verify_tls, path_maps=maps)
        print_line(
            f"Added Plex server {config.name} (#{config.id}): {info.name} {info.version} on {info.platform}"
        )


@server_app.command("list")
def server_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List configured servers (tokens are never printed)."""
    with _container(ctx) as container:
        servers = container.plex.servers()
        if json_:
            print_json([_server_dict(s.id, s.name, s.url, s.enabled, s.path_maps) for s in servers])
            return
        print_table(
            "Plex servers",
            ["#", "Name", "URL", "Enabled", "Path maps"],
            [
                (
                    s.id,
                    s.name,
                    s.url,
                    "yes" if s.enabled else "no",
                    ", ".join(f"{m.local}={m.server}" for m in s.path_maps),
                )
                for s in servers
            ],
            "No Plex server yet. Add one: antenna plex server add http://HOST:32400 --token TOKEN",
        )


def _server_dict(server_id: int, name: str, url: str, enabled: bool, maps: Any) -> dict[str, Any]:
    return {
        "id": server_id,
        "name": name,
        "url": url,
        "enabled": enabled,
        "path_maps": [f"{m.local}={m.server}" for m in maps],
    }


@server_app.command("test")
def server_test(ctx: typer.Context, server: Annotated[str, typer.Argument(help="Name or id.")] = "") -> None:
    """Connect to a server and say what it is."""
    with _container(ctx) as container:
        info = container.plex.test(server or None)
        print_line(f"OK: {info.name} {info.version} on {info.platform} ({info.machine_id})")


@server_app.command("set")
def server_set(
    ctx: typer.Context,
    server: Annotated[str, typer.Argument(help="Name or id.")],
    url: Annotated[str | None, typer.Option(help="New URL.")] = None,
    token: Annotated[str | None, typer.Option(help="New token.")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Monitor this server.")] = None,
    watched_policy: Annotated[
        str | None,
        typer.Option(help="Whose plays count as watched: owner, any, or all_of (with --watched-user)."),
    ] = None,
    watched_user: Annotated[
        list[str] | None, typer.Option("--watched-user", help="A user for all_of; repeatable.")
    ] = None,
    path_map: Annotated[
        list[str] | None, typer.Option("--path-map", help="LOCAL=SERVER; replaces the list; repeatable.")
    ] = None,
) -> None:
    """Change a server's URL, token, monitoring, watched policy or path maps."""
    changes: dict[str, Any] = {
        "url": url,
        "token": token,
        "enabled": enabled,
        "watched_policy": watched_policy,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if watched_policy is not None and watched_policy not in {"owner", "any", "all_of"}:
        raise UserError(f"Unknown watched policy {watched_policy!r}.", "Use owner, any or all_of.")
    if watched_user is not None:
        changes["watched_users"] = watched_user
    if path_map is not None:
        changes["path_maps"] = [parse_path_map(m) for m in path_map]
    if not changes:
        raise UserError("Nothing to change.", "See antenna plex server set --help.")
    with _container(ctx) as container:
        config = container.plex.update_server(server, **changes)
        print_line(f"Updated Plex server {config.name}: {', '.join(sorted(changes))}")


@server_app.command("remove")
def server_remove(ctx: typer.Context, server: Annotated[str, typer.Argument(help="Name or id.")]) -> None:
    """Forget a server (its event history stays)."""
    with _container(ctx) as container:
        print_line(f"Removed Plex server {container.plex.remove_server(server).name}")


def _snapshot_state(container: Container, server: str) -> ServerState:
    config = container.plex.server(server or None)
    snapshot = container.plex.client(config).snapshot(container.clock())
    return plan.build_state(config.id, config.name, snapshot, None)


@plex_app.command("status")
def status(ctx: typer.Context, server: ServerOpt = "", json_: JsonOpt = False) -> None:
    """Show a server's connection, version and counts."""
    with _container(ctx) as container:
        state = _snapshot_state(container, server)
        if json_:
            print_json(state.to_dict())
            return
        if state.connection != "connected":
            raise UserError(f"{state.name}: {state.connection}. {state.error}".strip())
        print_line(
            f"{state.name}: connected, Plex {state.version} on {state.platform}; "
            f"{state.active_sessions} playing, "
            f"{state.transcode_video_sessions} transcoding, {state.connected_clients} clients"
        )


@plex_app.command("sessions")
def sessions(ctx: typer.Context, server: ServerOpt = "", json_: JsonOpt = False) -> None:
    """List what is playing now, by slot."""
    with _container(ctx) as container:
        state = _snapshot_state(container, server)
        if json_:
            print_json([s.to_dict() for s in state.slots])
            return
        _fail_if_down(state)
        print_table(
            f"Sessions on {state.name}",
            ["Slot", "State", "User", "Player", "Title", "Progress", "Resolution", "Stream"],
            [
                (
                    index,
                    s.state.value,
                    s.user,
                    s.device_title,
                    s.now.title if s.now else "",
                    f"{s.now.percent_complete}%" if s.now else "",
                    s.now.resolution if s.now else "",
                    s.transcode_decision,
                )
                for index, s in enumerate(state.slots, 1)
            ],
            f"Nothing is playing on {state.name}.",
        )


@plex_app.command("clients")
def clients(ctx: typer.Context, server: ServerOpt = "", json_: JsonOpt = False) -> None:
    """List the players the server sees, with their state."""
    with _container(ctx) as container:
        state = _snapshot_state(container, server)
        if json_:
            print_json([c.to_dict() for c in state.clients])
            return
        _fail_if_down(state)
        print_table(
            f"Clients of {state.name}",
            ["Machine id", "Player", "Product", "State", "Address", "Controllable", "Now playing"],
            [
                (
                    c.machine_id,
                    c.device_title,
                    c.product,
                    c.state.value,
                    f"{c.address}:{c.port}" if c.port else c.address,
                    "yes" if c.can_play else "no",
                    c.now.title if c.now else "",
                )
                for c in state.clients
            ],
            f"{state.name} sees no players. Players on its network that allow remote control appear here.",
        )


def _fail_if_down(state: ServerState) -> None:
    if state.connection != "connected":
        raise UserError(f"{state.name}: {state.connection}. {state.error}".strip())


@plex_app.command("watch")
def watch(
    ctx: typer.Context,
    server: ServerOpt = "",
    json_: JsonOpt = False,
    poll: Annotated[float, typer.Option(help="Reconcile poll in seconds.")] = 20.0,
    count: Annotated[int, typer.Option(help="Stop after this many events (0: never).")] = 0,
) -> None:
    """Print events as they happen (websocket, with a reconcile poll) until Ctrl-C."""
    with _container(ctx) as container:
        config = container.plex.server(server or None)
        queue: asyncio.Queue[PlexEvent] = asyncio.Queue()

        def listener(state: ServerState, events: list[PlexEvent]) -> None:
            for event in events:
                queue.put_nowait(event)

        async def main() -> None:
            from antenna.plex.hub import ws_notifications
            from antenna.plex.monitor import ServerMonitor

            monitor = ServerMonitor(
                config,
                container.plex.client(config),
                ws_notifications,
                listener,
                clock=container.clock,
                poll_seconds=poll,
            )
            task = asyncio.create_task(monitor.run())
            if not json_:
                print_line(f"Watching {config.name}; Ctrl-C to stop.")
            seen = 0
            try:
                async for event in _drain(queue):
                    _print_event(event, json_)
                    seen += 1
                    if count and seen >= count:
                        break
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())


async def _drain(queue: asyncio.Queue[PlexEvent]) -> AsyncIterator[PlexEvent]:
    while True:
        yield await queue.get()


def _print_event(event: PlexEvent, as_json: bool) -> None:
    if as_json:
        print_line(json.dumps(event.to_payload(), default=str))
        return
    who = " ".join(
        part
        for part in (event.user, f"on {event.data.get('device')}" if event.data.get("device") else "")
        if part
    )
    slot = f"[slot {event.slot}] " if event.slot else ""
    print_line(f"{event.at:%H:%M:%S} {event.type.value:<19} {slot}{event.title} {who}".rstrip())


@plex_app.command("command")
def command(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Player machine id or name (see `antenna plex clients`).")],
    action: Annotated[
        str,
        typer.Argument(
            help="play, pause, stop, skip_next, skip_previous, step_forward, step_back, seek, volume"
        ),
    ],
    arg: Annotated[int | None, typer.Argument(help="Milliseconds for seek, 0-100 for volume.")] = None,
    server: ServerOpt = "",
) -> None:
    """Send a playback command to a player (directly, else through the server)."""
    with _container(ctx) as container:
        config = container.plex.server(server or None)
        machine_id = _client_id(container, config.id, client)
        route = container.plex.command(machine_id, action, arg, ref=config.id)
        print_line(f"Sent {action} to {client} ({route})")


def _client_id(container: Container, server_id: int, wanted: str) -> str:
    found = container.plex.client(container.plex.server(server_id)).clients()
    for client in found:
        if wanted in (client.machine_id, client.title):
            return client.machine_id
    if not found:
        return wanted  # let the client layer say it is unknown, with its own hint
    names = ", ".join(f"{c.title} ({c.machine_id})" for c in found)
    raise NotFound(f"No player '{wanted}'.", f"Players: {names}.")


@plex_app.command("art")
def art(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    client: Annotated[str, typer.Argument(help="Player machine id or name.")] = "",
    slot: Annotated[int, typer.Option(help="The Nth active session instead of a player.")] = 0,
    kind: Annotated[str, typer.Option(help=", ".join(plan.ART_KINDS))] = "poster",
    width: Annotated[int, typer.Option(help="Resize on the server (0: original).")] = 0,
    height: Annotated[int, typer.Option(help="Resize on the server (0: original).")] = 0,
    server: ServerOpt = "",
) -> None:
    """Save the now-playing art of a player or slot; exit 2 with a message when nothing plays."""
    if not client and not slot:
        raise UserError("Say whose art: a player, or --slot N.")
    if kind not in plan.ART_KINDS:
        raise UserError(f"Unknown art kind {kind!r}.", f"Choose one of: {', '.join(plan.ART_KINDS)}.")
    with _container(ctx) as container:
        state = _snapshot_state(container, server)
        _fail_if_down(state)
        if slot:
            view = state.slots[slot - 1] if 0 < slot <= len(state.slots) else None
        else:
            view = next((c for c in state.clients if client in (c.machine_id, c.device_title)), None)
        path = plan.art_path(view.now if view else None, kind)
        if not path:
            raise UserError(f"Nothing is playing on {'slot ' + str(slot) if slot else client}.")
        data = container.plex.image(path, ref=state.server_id, width=width or None, height=height or None)
        atomic_write(out, data)
        print_line(f"Wrote {len(data)} bytes to {out}")


@library_app.command("list")
def library_list(ctx: typer.Context, server: ServerOpt = "", json_: JsonOpt = False) -> None:
    """List the server's library sections."""
    with _container(ctx) as container:
        found = container.plex.sections(server or None)
        if json_:
            print_json(
                [
                    {"id": s.id, "title": s.title, "type": s.type, "agent": s.agent, "locations": s.locations}
                    for s in found
                ]
            )
            return
        print_table(
            "Library sections",
            ["#", "Title", "Type", "Agent", "Folders"],
            [(s.id, s.title, s.type, s.agent, ", ".join(s.locations)) for s in found],
            "The server has no library sections yet.",
        )


@library_app.command("create")
def library_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Section name, e.g. Podcasts.")],
    folder: Annotated[str, typer.Argument(help="Folder as Antenna sees it (path maps translate it).")],
    language: Annotated[str, typer.Option(help="Metadata language.")] = "en-US",
    server: ServerOpt = "",
) -> None:
    """Create a TV section with the best local-metadata agent (Plex NFO Series, else Personal Media)."""
    with _container(ctx) as container:
        section = container.plex.create_show_section(name, folder, ref=server or None, language=language)
        print_line(
            f"Created section {section.title} (#{section.id}) with {section.agent} "
            f"for {', '.join(section.locations)}"
        )


@library_app.command("refresh")
def library_refresh(
    ctx: typer.Context,
    section: Annotated[str, typer.Option(help="Section title or id.")] = "",
    path: Annotated[str, typer.Option(help="Scan only this folder (as Antenna sees it).")] = "",
    server: ServerOpt = "",
) -> None:
    """Scan a section, or only one folder of it."""
    with _container(ctx) as container:
        target, server_path = container.plex.refresh(ref=server or None, section=section, path=path)
        print_line(f"Asked {target.title} to scan {server_path or 'everything'}")


@library_app.command("empty-trash")
def library_empty_trash(
    ctx: typer.Context,
    section: Annotated[str, typer.Argument(help="Section title or id.")],
    server: ServerOpt = "",
) -> None:
    """Empty a section's trash."""
    with _container(ctx) as container:
        print_line(f"Emptied the trash of {container.plex.empty_trash(section, ref=server or None).title}")


@library_app.command("watched")
def library_watched(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Episode files as Antenna sees them.")],
    server: ServerOpt = "",
    json_: JsonOpt = False,
) -> None:
    """Say whether episode files count as watched under the server's watched policy."""
    with _container(ctx) as container:
        found = container.plex.watched(paths, ref=server or None)
        rows: list[dict[str, Any]] = [
            {
                "path": w.path,
                "found": w.episode is not None,
                "watched": w.watched,
                "watched_by": list(w.episode.watched_by) if w.episode else [],
            }
            for w in found
        ]
        if json_:
            print_json(rows)
            return
        print_table(
            "Watched state",
            ["File", "In Plex", "Watched", "Watched by"],
            [
                (
                    r["path"],
                    "yes" if r["found"] else "no",
                    "yes" if r["watched"] else "no",
                    ", ".join(r["watched_by"]),
                )
                for r in rows
            ],
            "No files given.",
        )


@plex_app.command("dvrs")
def dvrs(ctx: typer.Context, server: ServerOpt = "", json_: JsonOpt = False) -> None:
    """List Live TV DVRs, their tuners and lineups."""
    with _container(ctx) as container:
        found = container.plex.dvrs(server or None)
        if json_:
            print_json(
                [
                    {
                        "key": d.key,
                        "title": d.title,
                        "lineup": d.lineup,
                        "lineup_title": d.lineup_title,
                        "devices": [
                            {"title": v.title, "uri": v.uri, "channels": len(v.mappings)} for v in d.devices
                        ],
                    }
                    for d in found
                ]
            )
            return
        print_table(
            "DVRs",
            ["#", "Title", "Lineup", "Tuners"],
            [
                (
                    d.key,
                    d.title,
                    d.lineup_title or d.lineup,
                    ", ".join(f"{v.title} ({v.uri})" for v in d.devices),
                )
                for d in found
            ],
            "The server has no Live TV DVR set up.",
        )
