"""Plex use cases for web, API and CLI: servers, library chores, watched state, commands, Live TV."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from antenna.clients.plex import PlexClient
from antenna.db.repos.plex import Columns, PlexRepository
from antenna.errors import NotFound, UserError
from antenna.plex import plan
from antenna.plex.models import (
    Dvr,
    EpisodeWatch,
    LineupChannel,
    PathMap,
    Section,
    ServerConfig,
    ServerInfo,
    WatchedPolicy,
)

ClientFactory = Callable[[ServerConfig], PlexClient]


def server_config(row: Columns) -> ServerConfig:
    """Build a ServerConfig from its stored columns."""
    return ServerConfig(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        token=row["token"],
        verify_tls=row["verify_tls"],
        path_maps=tuple(PathMap(local=m["local"], server=m["server"]) for m in row["path_maps"] or []),
        watched_policy=WatchedPolicy(row["watched_policy"]),
        watched_users=tuple(row["watched_users"] or []),
        enabled=row["enabled"],
        machine_id=row["machine_id"],
    )


def check_url(url: str) -> str:
    """Return a normalised server URL or raise a UserError saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(
            f"{url!r} is not a Plex server URL.", "Use http://HOST:32400 or https://….plex.direct:32400"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class WatchedFile:
    """A local file's watched state under the server's policy."""

    path: str
    server_path: str
    episode: EpisodeWatch | None
    watched: bool


class PlexService:
    """Every Plex action the shells offer; methods block (call them from a thread in async code)."""

    def __init__(
        self, repo: PlexRepository, *, client_factory: ClientFactory, clock: Callable[[], datetime]
    ) -> None:
        self.repo = repo
        self._factory = client_factory
        self._clock = clock
        self._clients: dict[tuple[int, str, str, bool], PlexClient] = {}
        self._lock = threading.Lock()
        self.on_secret: Callable[[str], None] | None = None  # the log redactor learns every token we load

    def _seen(self, config: ServerConfig) -> ServerConfig:
        if self.on_secret is not None:
            self.on_secret(config.token)
        return config

    # servers -------------------------------------------------------------------------------------
    def servers(self) -> list[ServerConfig]:
        """Return every configured server."""
        return [self._seen(server_config(row)) for row in self.repo.servers()]

    def server(self, ref: str | int | None = None) -> ServerConfig:
        """Return a server by id or name; with no ref, the only one (or a clear error)."""
        if ref is None or ref == "":
            servers = self.servers()
            if len(servers) == 1:
                return servers[0]
            if not servers:
                raise NotFound(
                    "No Plex server is set up yet.", "Add one: antenna plex server add URL --token TOKEN"
                )
            names = ", ".join(s.name for s in servers)
            raise UserError("Several Plex servers are set up; say which.", f"Use --server NAME ({names}).")
        return self._seen(server_config(self.repo.server(ref)))

    def client(self, config: ServerConfig) -> PlexClient:
        """Return the (cached) client for a server."""
        key = (config.id, config.url, config.token, config.verify_tls)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._clients[key] = self._factory(config)
            return found

    def add_server(
        self,
        url: str,
        token: str,
        *,
        name: str = "",
        verify_tls: bool = True,
        path_maps: Sequence[PathMap] = (),
    ) -> tuple[ServerConfig, ServerInfo]:
        """Check the server answers with this token, then store it (named after the server by default)."""
        url = check_url(url)
        if not token.strip():
            raise UserError("A Plex token is required.", "Find it as X-Plex-Token in Plex Web's XML view.")
        probe = self._seen(
            ServerConfig(id=0, name=name or url, url=url, token=token.strip(), verify_tls=verify_tls)
        )
        client = self._factory(probe)
        try:
            info = client.info()
        finally:
            client.close()
        row = self.repo.add_server(
            {
                "name": name or info.name or url,
                "url": url,
                "token": token.strip(),
                "verify_tls": verify_tls,
                "path_maps": [{"local": m.local, "server": m.server} for m in path_maps],
                "machine_id": info.machine_id,
            },
            self._clock(),
        )
        return server_config(row), info

    def update_server(self, ref: str | int, **changes: Any) -> ServerConfig:
        """Change a server's settings (url, token, name, verify_tls, path_maps, watched policy, enabled)."""
        config = self.server(ref)
        values = dict(changes)
        if "url" in values:
            values["url"] = check_url(values["url"])
        if "path_maps" in values:
            values["path_maps"] = [{"local": m.local, "server": m.server} for m in values["path_maps"]]
        if "watched_policy" in values:
            values["watched_policy"] = WatchedPolicy(values["watched_policy"]).value
        if "watched_users" in values:
            values["watched_users"] = [u for u in values["watched_users"] if u]
        return self._seen(server_config(self.repo.update_server(config.id, values)))

    def remove_server(self, ref: str | int) -> ServerConfig:
        """Forget a server."""
        config = self.server(ref)
        self.repo.delete_server(config.id)
        return config

    def test(self, ref: str | int | None = None) -> ServerInfo:
        """Connect and return what the server says about itself (raises a clear error otherwise)."""
        config = self.server(ref)
        info = self.client(config).info()
        if info.machine_id and info.machine_id != config.machine_id:
            self.repo.update_server(config.id, {"machine_id": info.machine_id})
        return info

    # library -------------------------------------------------------------------------------------
    def sections(self, ref: str | int | None = None) -> list[Section]:
        """Return the server's library sections."""
        return self.client(self.server(ref)).sections()

    def section(self, config: ServerConfig, wanted: str) -> Section:
        """Find a section by id or title."""
        sections = self.client(config).sections()
        for section in sections:
            if wanted in (section.id, section.title):
                return section
        titles = ", ".join(f"{s.title} ({s.id})" for s in sections) or "none"
        raise NotFound(f"No section '{wanted}' on {config.name}.", f"Sections: {titles}.")

    def create_show_section(
        self, name: str, folder: str, *, ref: str | int | None = None, language: str = "en-US"
    ) -> Section:
        """Create a TV section for a local folder with the best local-metadata agent the server offers."""
        config = self.server(ref)
        client = self.client(config)
        choice = plan.pick_show_agent(client.agents(2))
        if choice is None:
            raise UserError(
                f"{config.name} offers no local-metadata TV agent.",
                "Update Plex (1.43.1+ has Plex NFO Series) or turn on Settings > Library > "
                "Show Legacy Agents.",
            )
        agent, scanner = choice
        location = plan.map_path(folder, config.path_maps, to_server=True)
        return client.create_section(name, location, agent=agent, scanner=scanner, language=language)

    def refresh(
        self, *, ref: str | int | None = None, section: str = "", path: str = ""
    ) -> tuple[Section, str | None]:
        """Scan a section, or only one folder of it (the section is found from the path when not given)."""
        config = self.server(ref)
        server_path = plan.map_path(path, config.path_maps, to_server=True) if path else None
        if section:
            target = self.section(config, section)
        elif server_path:
            target = self._section_for(config, server_path)
        else:
            raise UserError("Say which section or folder to refresh.", "Use --section NAME or --path FOLDER.")
        self.client(config).refresh(target.id, server_path)
        return target, server_path

    def _section_for(self, config: ServerConfig, server_path: str) -> Section:
        best: tuple[int, Section] | None = None
        for section in self.client(config).sections():
            for location in section.locations:
                root = location.rstrip("/\\")
                if (server_path == root or server_path.startswith((root + "/", root + "\\"))) and (
                    best is None or len(root) > best[0]
                ):
                    best = (len(root), section)
        if best is None:
            raise NotFound(
                f"No section on {config.name} contains {server_path}.",
                "Create one (antenna plex library create) or add a path map for this server.",
            )
        return best[1]

    def empty_trash(self, section: str, *, ref: str | int | None = None) -> Section:
        """Empty a section's trash."""
        config = self.server(ref)
        target = self.section(config, section)
        self.client(config).empty_trash(target.id)
        return target

    def watched(self, paths: Iterable[str], *, ref: str | int | None = None) -> list[WatchedFile]:
        """Return the watched state of local episode files under the server's watched policy."""
        config = self.server(ref)
        client = self.client(config)
        local = list(paths)
        to_server = {p: plan.map_path(p, config.path_maps, to_server=True) for p in local}
        episodes = client.episodes_by_files(set(to_server.values()))
        result = []
        for path in local:
            episode = episodes.get(to_server[path])
            watched = episode is not None and plan.is_watched(
                episode, config.watched_policy, config.watched_users, owner=""
            )
            result.append(WatchedFile(path, to_server[path], episode, watched))
        return result

    # players -----------------------------------------------------------------------------------
    def command(
        self, client_id: str, action: str, arg: int | None = None, *, ref: str | int | None = None
    ) -> str:
        """Send a playback command to a player, directly first, then via the server; return the route."""
        return self.client(self.server(ref)).command(client_id, action, arg)

    def image(
        self, path: str, *, ref: str | int | None = None, width: int | None = None, height: int | None = None
    ) -> bytes:
        """Fetch an image path from the server, resized by its transcoder when a size is given."""
        return self.client(self.server(ref)).image(path, width=width, height=height)

    # live TV -------------------------------------------------------------------------------------
    def dvrs(self, ref: str | int | None = None) -> list[Dvr]:
        """Return the server's DVRs."""
        return self.client(self.server(ref)).dvrs()

    def lineup_channels(self, lineup: str, *, ref: str | int | None = None) -> list[LineupChannel]:
        """Return the channels of a guide lineup."""
        return self.client(self.server(ref)).lineup_channels(lineup)

    def channel_map(
        self, lineup: str, numbers: Sequence[str], *, ref: str | int | None = None
    ) -> dict[str, LineupChannel | None]:
        """Return the best lineup channel for each channel number."""
        return plan.best_channel_map(numbers, self.lineup_channels(lineup, ref=ref))

    def close(self) -> None:
        """Close every cached client."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
