"""The backup archive format: a .tar.gz of manifest.json, the database copy and antenna.toml, flat."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from antenna.errors import UserError
from antenna.fs import atomic_writer
from antenna.settings import SETTINGS_FILE

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "antenna.db", "postgresql": "postgres.dump"}
ALLOWED_MEMBERS = frozenset({MANIFEST, SETTINGS_FILE, *DATABASE_FILES.values()})
MAX_MANIFEST_BYTES = 64 * 1024
CHUNK = 1024 * 1024
# Level 1: about 10x faster than the default 6 on a database file, for archives about 10% larger.
GZIP_LEVEL = 1
# What reading a damaged or foreign file as .tar.gz can raise.
READ_ERRORS = (OSError, EOFError, tarfile.TarError, zlib.error)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an archive says about itself."""

    engine: str
    database_file: str
    settings_file: str | None
    created_at: datetime


def utc(moment: datetime) -> datetime:
    """Return moment in UTC; a naive value is taken as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def write_archive(
    raw: IO[bytes],
    manifest: dict[str, Any],
    members: list[tuple[str, IO[bytes]]],
    created: datetime,
    counted: Callable[[int], None],
) -> None:
    """Write manifest.json then each (name, open file) as a .tar.gz into raw, calling counted per chunk."""
    # filename="" keeps the temp file's name out of the gzip header; level 6 is much faster than 9.
    with (
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=created.timestamp()
        ) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add(tar, MANIFEST, io.BytesIO(json.dumps(manifest, indent=2).encode()), created)
        for name, data in members:
            _add(tar, name, _CountingReader(data, counted), created)


def read_manifest(archive: Path, hint: str) -> Manifest:
    """Validate every member and the manifest; raise UserError saying why archive is not an Antenna backup."""

    def bad(reason: str) -> UserError:
        return UserError(f"{archive} is not an Antenna backup: {reason}.", hint)

    if not archive.is_file():
        raise bad("no such file")
    members: set[str] = set()
    raw: bytes | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                problem = _member_problem(member, members)
                if problem:
                    raise bad(problem)
                members.add(member.name)
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise bad("manifest.json is too large")
                    raw = _read_member(tar, member)
    except READ_ERRORS as exc:
        raise bad(f"cannot be read as a .tar.gz archive ({exc})") from exc
    if raw is None:
        raise bad("manifest.json is missing")
    try:
        data: Any = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r} is not one this Antenna reads ({FORMAT})")
        engine = data.get("engine")
        if engine not in DATABASE_FILES:
            raise ValueError(f"unknown engine {engine!r}")
        created = utc(datetime.fromisoformat(str(data["created_at"])))
        database_file = DATABASE_FILES[engine]
        settings_file = data.get("settings_file")
        if data.get("database_file") != database_file or database_file not in members:
            raise ValueError(f"the database copy {database_file} is missing")
        if settings_file not in (None, SETTINGS_FILE) or (settings_file and settings_file not in members):
            raise ValueError(f"settings file {settings_file!r} is missing or misnamed")
    except (ValueError, KeyError) as exc:
        raise bad(f"manifest.json is invalid: {exc}") from exc
    return Manifest(engine, database_file, settings_file, created)


def extract_members(archive: Path, targets: dict[str, Path]) -> None:
    """Copy the named members to the given paths; the archive never chooses where anything goes."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name, dest in targets.items():
                member = tar.getmember(name)
                source = tar.extractfile(member) if member.isreg() else None
                if source is None:
                    raise tarfile.TarError(f"member {name!r} is not a plain file")
                with source, atomic_writer(dest, mode=0o600) as out:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
    except (*READ_ERRORS, KeyError) as exc:
        raise UserError(f"{archive} is damaged: {exc}.", "Pick another backup.") from exc


def peek_engine(path: Path) -> str:
    """Return the engine an archive's manifest names, reading only the first member ("unknown" if unsure)."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isreg():
                return "unknown"
            if first.size > MAX_MANIFEST_BYTES:
                return "unknown"
            data = json.loads(_read_member(tar, first).decode("utf-8"))
    except (*READ_ERRORS, ValueError):
        return "unknown"
    engine = data.get("engine") if isinstance(data, dict) else None
    return engine if isinstance(engine, str) and engine in DATABASE_FILES else "unknown"


def _add(tar: tarfile.TarFile, name: str, data: IO[bytes] | io.RawIOBase, created: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = data.seek(0, io.SEEK_END)
    data.seek(0)
    info.mode = 0o600  # the database and settings hold secrets
    info.mtime = int(created.timestamp())
    tar.addfile(info, data)


class _CountingReader(io.RawIOBase):
    """Pass reads through, reporting each chunk's size (a progress step and a cancellation point)."""

    def __init__(self, inner: IO[bytes], counted: Callable[[int], None]) -> None:
        super().__init__()
        self._inner = inner
        self._counted = counted

    def readable(self) -> bool:
        """Return True: this is a reader."""
        return True

    def seekable(self) -> bool:
        """Return True when the wrapped file can seek (used to learn the size)."""
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek the wrapped file."""
        return self._inner.seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:
        """Read from the wrapped file and report how much was read."""
        chunk = self._inner.read(-1 if size is None else size)
        self._counted(len(chunk))
        return chunk


def _member_problem(member: tarfile.TarInfo, seen: set[str]) -> str:
    name = member.name
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        return f"member name {name!r} is not a plain file name"
    if not member.isreg():
        return f"member {name!r} is a link, folder or device, not a plain file"
    if name not in ALLOWED_MEMBERS:
        return f"unexpected member {name!r}"
    if name in seen:
        return f"member {name!r} appears twice"
    return ""


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise tarfile.TarError(f"member {member.name!r} cannot be read")
    with handle:
        return handle.read()
