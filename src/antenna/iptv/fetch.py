"""Fetch one source of any kind into its data file (Xtream also writes a guide file beside it)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from antenna.clients.xtream import XtreamAccount, XtreamClient
from antenna.db.repos.plex import Columns
from antenna.errors import UserError
from antenna.formats.m3u_write import render_m3u
from antenna.fs import atomic_writer, ensure_dir
from antenna.iptv.command_source import run_command_to
from antenna.iptv.models import SourceKind
from antenna.iptv.sources import fetch_to


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch left on disk."""

    path: Path
    changed: bool
    size: int
    etag: str = ""
    last_modified: str = ""
    moved_to: str = ""


def guide_path(data_path: Path) -> Path:
    """Return where a source that has a separate guide (Xtream) keeps it."""
    return data_path.with_suffix(".guide")


def fetch_source(row: Columns, dest: Path, *, conditional: bool) -> Fetched:
    """Fetch a source into dest; on any failure dest keeps its previous content."""
    ensure_dir(dest.parent)
    kind = SourceKind(row["kind"])
    secrets = tuple(s for s in (row["password"],) if s)
    if kind is SourceKind.URL:
        got = fetch_to(
            row["location"],
            dest,
            etag=row["etag"] if conditional else "",
            last_modified=row["last_modified"] if conditional else "",
            user_agent=row["user_agent"],
            timeout=row["timeout_seconds"],
            secrets=secrets,
        )
        return Fetched(dest, got.changed, dest.stat().st_size, got.etag, got.last_modified, got.moved_to)
    if kind is SourceKind.FILE:
        source = Path(row["location"]).expanduser()
        if not source.is_file():
            raise UserError(f"{source}: no such file.", "Fix the source's path.")
        stat = source.stat()
        if conditional and row["last_modified"] == f"{stat.st_mtime_ns}:{stat.st_size}" and dest.exists():
            return Fetched(dest, False, stat.st_size, last_modified=row["last_modified"])
        with source.open("rb") as data, atomic_writer(dest) as out:
            while chunk := data.read(1024 * 1024):
                out.write(chunk)
        # The file's mtime and size stand in for Last-Modified: an unchanged file is not copied again.
        return Fetched(dest, True, stat.st_size, last_modified=f"{stat.st_mtime_ns}:{stat.st_size}")
    if kind is SourceKind.COMMAND:
        with atomic_writer(dest) as out:
            size = run_command_to(shlex.split(row["location"]), out, timeout=row["timeout_seconds"])
        return Fetched(dest, True, size)
    account = XtreamAccount(row["location"], row["username"], row["password"])
    with XtreamClient(account, timeout=row["timeout_seconds"], user_agent=row["user_agent"]) as client:
        client.authenticate()
        entries = client.live_streams() if row["role"] in ("channels", "both") else []
        with atomic_writer(dest) as out:
            out.write("".join(render_m3u([], entries)).encode())
        if row["role"] in ("guide", "both"):
            with atomic_writer(guide_path(dest)) as out:
                client.download_guide(out)
    return Fetched(dest, True, dest.stat().st_size)
