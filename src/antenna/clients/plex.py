"""Plex Media Server client: one server, synchronous calls, Antenna's types and errors out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

import requests
from plexapi import BASE_HEADERS
from plexapi.server import PlexServer

from antenna.clients import plex_parse as parse
from antenna.clients.plex_http import (
    PLEX_FAILURES,
    HttpStatus,
    InsecureAdapter,
    one_line,
    short_reason,
    to_error,
)
from antenna.errors import NotFound, Unavailable, UserError
from antenna.plex.models import (
    Agent,
    Client,
    Dvr,
    EpisodeWatch,
    LineupChannel,
    Section,
    ServerInfo,
    Session,
    Snapshot,
    WatchRecord,
)
from antenna.redact import redact

T = TypeVar("T")

PAGE_SIZE = 500
# action -> (player command, name of the query parameter carrying `arg`)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "play": ("playback/play", None),
    "pause": ("playback/pause", None),
    "stop": ("playback/stop", None),
    "skip_next": ("playback/skipNext", None),
    "skip_previous": ("playback/skipPrevious", None),
    "step_forward": ("playback/stepForward", None),
    "step_back": ("playback/stepBack", None),
    "seek": ("playback/seekTo", "offset"),
    "volume": ("playback/setParameters", "volume"),
}


class PlexClient:
    """One Plex Media Server; lazy, reconnects after errors, never lets the token out."""

    def __init__(self, url: str, token: str, *, verify_tls: bool = True, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session = requests.Session()
        self._session.verify = verify_tls
        if not verify_tls:
            adapter = InsecureAdapter()
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)
        self._server: PlexServer | None = None
        self._lock = threading.Lock()
        self._command_id = 0

    def __repr__(self) -> str:
        return f"PlexClient({self.url!r})"

    def _connect(self) -> PlexServer:
        """Return the cached server, connecting (GET /) when there is none."""
        with self._lock:
            if self._server is None:
                factory: Callable[..., PlexServer] = PlexServer  # plexapi leaves its API unannotated
                server = factory(self.url, self._token, session=self._session, timeout=self._timeout)
                self._server = server
            return self._server

    def _run(self, call: Callable[[PlexServer], T]) -> T:
        """Run one call against the server and translate every failure into an Antenna error."""
        try:
            return call(self._connect())
        except PLEX_FAILURES as exc:
            error = to_error(exc, self.url, self._token)
            if not isinstance(error, NotFound):
                self._server = None  # reconnect (and re-check the token) on the next call
            raise error from None

    def _clean(self, message: str) -> str:
        """Return a one-line message with the token masked, whatever a library put in it."""
        return one_line(redact(message, [self._token]))

    @staticmethod
    def _query(
        server: PlexServer,
        key: str,
        *,
        method: str = "get",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Element:
        """Run plexapi's query (headers, token, status checks) and return the XML root."""
        query: Callable[..., Element | None] = server.query
        session: requests.Session = server._session
        root = query(key, method=getattr(session, method), params=params, headers=dict(headers or {}))
        return root if root is not None else Element("MediaContainer")

    def _get_bytes(self, server: PlexServer, key: str, params: Mapping[str, Any] | None = None) -> bytes:
        """GET a non-XML resource with the token in the header (never in the URL)."""
        make_headers: Callable[..., dict[str, str]] = server._headers
        response = self._session.get(
            f"{self.url}{key}", params=params, headers=make_headers(), timeout=self._timeout
        )
        if response.status_code not in (200, 201, 204):
            raise HttpStatus(response.status_code)
        return response.content

    def _paged(self, server: PlexServer, key: str, params: Mapping[str, Any]) -> Iterator[Element]:
        """Yield the children of a paged container, page by page."""
        start = 0
        seen = 0
        while True:
            page = {**params, "X-Plex-Container-Start": start, "X-Plex-Container-Size": PAGE_SIZE}
            root = self._query(server, key, params=page)
            children = list(root)
            yield from children
            seen += len(children)
            total = parse.opt_int(root, "totalSize")
            # Servers that ignore paging answer everything at once; stop rather than loop forever.
            if len(children) < PAGE_SIZE or (total is not None and seen >= total) or not children:
                return
            start += len(children)

    def info(self) -> ServerInfo:
        """Return what `GET /` says (connects on first use)."""
        # A fresh GET / even right after connecting: the counters in it are what callers poll for.
        return self._run(lambda s: parse.parse_info(self._query(s, "/")))

    def sections(self) -> list[Section]:
        """Return the library sections."""
        return self._run(lambda s: parse.parse_sections(self._query(s, "/library/sections")))

    def agents(self, media_type: int = 2) -> list[Agent]:
        """Return the metadata agents for a Plex media type (2 = show)."""
        return self._run(
            lambda s: parse.parse_agents(
                self._query(s, "/system/agents", params={"mediaType": media_type}), media_type
            )
        )

    def create_section(
        self,
        name: str,
        location: str,
        *,
        type: str = "show",
        agent: str,
        scanner: str,
        language: str = "en-US",
    ) -> Section:
        """Create a library section and return it."""
        params = {
            "name": name,
            "type": type,
            "agent": agent,
            "scanner": scanner,
            "language": language,
            "location": location,
        }
        # plexapi's library.add() first browses the path on the server; Plex checks it anyway on POST.
        self._run(lambda s: self._query(s, "/library/sections", method="post", params=params))
        for section in reversed(self.sections()):
            if section.title == name and location in section.locations:
                return section
        raise Unavailable(f"Plex at {self.url} accepted the new section {name!r} but does not list it")

    def refresh(self, section_id: str, path: str | None = None) -> None:
        """Ask Plex to scan a section, or one folder of it."""
        params = {"path": path} if path else None
        self._run(lambda s: self._query(s, f"/library/sections/{section_id}/refresh", params=params))

    def empty_trash(self, section_id: str) -> None:
        """Empty a section's trash."""
        self._run(lambda s: self._query(s, f"/library/sections/{section_id}/emptyTrash", method="put"))

    def delete_item(self, rating_key: str) -> None:
        """Delete a library item (and its files, when the server allows it)."""
        self._run(lambda s: self._query(s, f"/library/metadata/{rating_key}", method="delete"))

    def episodes_by_files(self, files: Collection[str]) -> dict[str, EpisodeWatch]:
        """Return the episodes whose server-side file is one of `files`, with who watched them."""
        wanted = set(files)
        if not wanted:
            return {}

        def call(server: PlexServer) -> dict[str, EpisodeWatch]:
            found: dict[str, EpisodeWatch] = {}
            sections_hit: set[str] = set()
            for section in parse.parse_sections(self._query(server, "/library/sections")):
                if section.type != "show":
                    continue
                for elem in self._paged(server, f"/library/sections/{section.id}/all", {"type": 4}):
                    for file in parse.episode_files(elem):
                        if file in wanted:
                            found[file] = parse.parse_episode(elem, file)
                            sections_hit.add(section.id)
            if not found:
                return found
            keys = {ep.rating_key for ep in found.values()}
            watchers: dict[str, set[str]] = {}
            accounts = parse.parse_accounts(self._query(server, "/accounts"))
            for section_id in sorted(sections_hit):
                args = {"sort": "viewedAt:desc", "librarySectionID": section_id}
                for record in self._history_pages(server, args, accounts):
                    if record.rating_key in keys:
                        watchers.setdefault(record.rating_key, set()).add(record.user)
            return {
                file: _with_watchers(ep, watchers.get(ep.rating_key, set())) for file, ep in found.items()
            }

        return self._run(call)

    def history(
        self, *, rating_key: str | None = None, mindate: datetime | None = None, maxresults: int = 5000
    ) -> list[WatchRecord]:
        """Return plays from the server's history, newest first."""
        args: dict[str, Any] = {"sort": "viewedAt:desc"}
        if rating_key:
            args["metadataItemID"] = rating_key

        def call(server: PlexServer) -> list[WatchRecord]:
            accounts = parse.parse_accounts(self._query(server, "/accounts"))
            records: list[WatchRecord] = []
            for record in self._history_pages(server, args, accounts, mindate):
                if rating_key and record.rating_key != rating_key:
                    continue
                records.append(record)
                if len(records) >= maxresults:
                    break
            return records

        return self._run(call)

    def _history_pages(
        self,
        server: PlexServer,
        args: Mapping[str, Any],
        accounts: dict[int, str],
        mindate: datetime | None = None,
    ) -> Iterator[WatchRecord]:
        """Yield history records page by page."""
        key = "/status/sessions/history/all"
        if mindate is not None:
            # Plex reads the operator from the raw key ("viewedAt>=N"), so it must not be percent-encoded.
            key += f"?viewedAt>={int(mindate.timestamp())}"
        for elem in self._paged(server, key, args):
            record = parse.parse_history_entry(elem, accounts)
            if record is not None:
                yield record

    def sessions(self) -> list[Session]:
        """Return the active playback sessions."""
        return self._run(lambda s: parse.parse_sessions(self._query(s, "/status/sessions")))

    def clients(self) -> list[Client]:
        """Return the players the server can see."""
        return self._run(lambda s: parse.parse_clients(self._query(s, "/clients")))

    def transcode_count(self) -> int:
        """Return how many sessions transcode video right now."""
        return self._run(lambda s: parse.count_video_transcodes(self._query(s, "/transcode/sessions")))

    def snapshot(self, now: datetime) -> Snapshot:
        """Poll everything at once; server trouble comes back as `error`, never as an exception."""
        try:
            info = self.info()
            sessions = self.sessions()
            clients = self.clients()
            transcodes = self.transcode_count()
        except UserError as exc:
            return Snapshot(taken_at=now, info=None, error=self._clean(str(exc.message)))
        return Snapshot(
            taken_at=now,
            info=info,
            sessions=tuple(sessions),
            clients=tuple(clients),
            transcode_sessions=transcodes,
        )

    def command(self, client_id: str, action: str, arg: int | None = None) -> str:
        """Send a playback command to a player, directly or through the server; return "direct" or "proxy"."""
        if action not in ACTIONS:
            raise UserError(f"Unknown player action {action!r}", f"Use one of: {', '.join(ACTIONS)}")
        command, arg_name = ACTIONS[action]
        params: dict[str, Any] = {"type": "video"}
        if arg_name:
            if arg is None:
                raise UserError(
                    f"The {action} action needs a value", "seek takes milliseconds, volume 0..100"
                )
            if action == "volume" and not 0 <= arg <= 100:
                raise UserError(f"Volume {arg} is out of range", "Use 0..100")
            params[arg_name] = max(0, arg)
        clients = self.clients()
        client = next((c for c in clients if c.machine_id == client_id), None)
        if client is None:
            known = ", ".join(f"{c.title} ({c.machine_id})" for c in clients) or "none"
            raise NotFound(f"Plex at {self.url} has no player {client_id!r}", f"Known players: {known}")
        if not client.can_play:
            raise UserError(
                f"{client.title} does not accept playback commands",
                "Start playback on the player itself; it does not offer remote control",
            )
        with self._lock:
            self._command_id += 1
            params["commandID"] = self._command_id
        return self._send(client, f"/player/{command}", params)

    def _send(self, client: Client, key: str, params: Mapping[str, Any]) -> str:
        """Try the player itself, then the server's companion proxy; raise naming both failures."""
        if client.port:
            host = f"[{client.address}]" if ":" in client.address else client.address
            headers = dict(BASE_HEADERS)
            headers["X-Plex-Token"] = self._token  # players check the token too
            headers["X-Plex-Target-Client-Identifier"] = client.machine_id
            try:
                response = self._session.get(
                    f"http://{host}:{client.port}{key}",
                    params=params,
                    headers=headers,
                    timeout=min(self._timeout, 5.0),
                )
                response.close()
                if 200 <= response.status_code < 300:
                    return "direct"
                direct_error = f"answered {response.status_code}"
            except requests.exceptions.RequestException as exc:
                direct_error = short_reason(exc)
        else:
            direct_error = "it advertises no port"
        target = {"X-Plex-Target-Client-Identifier": client.machine_id}
        try:
            self._run(lambda s: self._query(s, key, params=params, headers=target))
        except UserError as exc:
            raise UserError(
                self._clean(
                    f"{client.title} did not take the command: directly, {direct_error}; "
                    f"through the server, {exc.message}"
                ),
                "Check that the player is on and signed in to this server",
            ) from None
        return "proxy"

    def image(self, path: str, *, width: int | None = None, height: int | None = None) -> bytes:
        """Return a server image as bytes, resized by the server's transcoder when a size is given."""
        if width is None and height is None:
            return self._run(lambda s: self._get_bytes(s, path))
        params = {
            "url": path,
            "width": width or height,
            "height": height or width,
            "minSize": 1,
            "upscale": 1,
        }
        return self._run(lambda s: self._get_bytes(s, "/photo/:/transcode", params))

    def dvrs(self) -> list[Dvr]:
        """Return the Live TV DVRs."""
        return self._run(lambda s: parse.parse_dvrs(self._query(s, "/livetv/dvrs")))

    def lineup_channels(self, lineup: str) -> list[LineupChannel]:
        """Return the channels of a guide lineup."""
        return self._run(
            lambda s: parse.parse_lineup_channels(
                self._query(s, "/livetv/epg/lineupchannels", params={"lineup": lineup})
            )
        )

    def close(self) -> None:
        """Drop the connection pool."""
        self._server = None
        self._session.close()


def _with_watchers(episode: EpisodeWatch, users: set[str]) -> EpisodeWatch:
    """Return the episode with its watchers set."""
    return replace(episode, watched_by=tuple(sorted(users)))
