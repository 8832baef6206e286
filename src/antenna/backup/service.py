"""Backup use cases: write a timestamped archive of database and settings; list, prune, inspect, restore."""

from __future__ import annotations

import asyncio
import builtins
import io
import logging
import re
import secrets
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import antenna
from antenna.backup.archive import (
    DATABASE_FILES,
    FORMAT,
    Manifest,
    extract_members,
    peek_engine,
    read_manifest,
    utc,
    write_archive,
)
from antenna.backup.models import BackupInfo, RestoreResult
from antenna.db.backup import (
    backup_engine,
    pg_dump_to,
    pg_restore_from,
    sqlite_path_from_url,
    sqlite_restore,
    sqlite_snapshot,
)
from antenna.errors import UserError
from antenna.fs import atomic_writer, ensure_dir, remove_file
from antenna.jobs.models import JobContext
from antenna.settings import SETTINGS_FILE

log = logging.getLogger(__name__)

ARCHIVE_NAME = re.compile(r"^antenna-backup-(\d{8}-\d{6})(?:-(\d{1,4}))?\.tar\.gz$")
STAMP = "%Y%m%d-%H%M%S"
# Progress is reported in thousandths: the database copy is the slow part, the archive the rest.
TOTAL = 1000
DB_SHARE = 900
# Files SQLite may leave beside a database copy if the process dies mid-copy.
_SQLITE_SIDECARS = ("-journal", "-wal", "-shm")

Progress = Callable[[int, int, str], None]


class BackupService:
    """Back up and restore the database and antenna.toml as archives in <data_dir>/backups."""

    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str,
        keep: int,
        pages_per_step: int,
        step_sleep_ms: int,
        clock: Callable[[], datetime],
    ) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1: pruning must never delete the newest backup")
        self._data_dir = data_dir
        self._url = database_url
        self._keep = keep
        self._pages_per_step = pages_per_step
        self._step_sleep_ms = step_sleep_ms
        self._clock = clock

    @property
    def backup_dir(self) -> Path:
        """Return the folder holding the archives."""
        return self._data_dir / "backups"

    async def run(self, ctx: JobContext) -> str:
        """Run the "backup" job: write an archive, prune old ones, and return a one-line summary."""
        info = await asyncio.to_thread(self.create, ctx.progress, ctx.check_cancelled)
        pruned = await asyncio.to_thread(self.prune, lambda path, why: ctx.item_failed(path.name, why))
        noun = "archive" if len(pruned) == 1 else "archives"
        return f"backup {info.name} ({_human_size(info.size_bytes)}), {len(pruned)} old {noun} pruned"

    def create(self, progress: Progress, check_cancelled: Callable[[], None]) -> BackupInfo:
        """Write a new archive (blocking); on failure or cancellation nothing is left behind."""
        engine = backup_engine(self._url)
        check_cancelled()
        created = utc(self._clock()).replace(microsecond=0)
        db_name = DATABASE_FILES[engine]
        with self._scratch(db_name) as db_copy:
            self._copy_database(engine, db_copy, progress, check_cancelled)
            check_cancelled()
            settings_path = self._data_dir / SETTINGS_FILE
            # Read once into memory (it is small) so a concurrent edit cannot change its size mid-archive.
            settings = settings_path.read_bytes() if settings_path.is_file() else None
            manifest = {
                "format": FORMAT,
                "antenna_version": antenna.__version__,
                "created_at": created.isoformat(),
                "engine": engine,
                "database_file": db_name,
                "settings_file": SETTINGS_FILE if settings is not None else None,
            }
            total = max(db_copy.stat().st_size + len(settings or b""), 1)
            counter = _Counter(total, progress, check_cancelled)
            path = self._new_archive_path(created)
            with db_copy.open("rb") as db_file, atomic_writer(path, mode=0o600) as raw:
                members: builtins.list[tuple[str, IO[bytes]]] = [(db_name, db_file)]
                if settings is not None:
                    members.append((SETTINGS_FILE, io.BytesIO(settings)))
                write_archive(raw, manifest, members, created, counter)
        progress(TOTAL, TOTAL, "backup written")
        log.info("backup written: %s", path)
        return BackupInfo(path, path.name, created, path.stat().st_size, engine)

    def list(self) -> list[BackupInfo]:
        """Return the archives in the backup folder, newest first."""
        if not self.backup_dir.is_dir():
            return []
        found: list[tuple[datetime, int, BackupInfo]] = []
        for entry in self.backup_dir.iterdir():
            match = ARCHIVE_NAME.match(entry.name)
            if match is None or entry.is_symlink() or not entry.is_file():
                continue
            created = datetime.strptime(match[1], STAMP).replace(tzinfo=UTC)
            info = BackupInfo(entry, entry.name, created, entry.stat().st_size, peek_engine(entry))
            found.append((created, int(match[2] or 1), info))
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [info for _created, _seq, info in found]

    def prune(self, on_failure: Callable[[Path, str], None] | None = None) -> builtins.list[Path]:
        """Delete all but the newest `keep` archives; return those deleted (a failure skips just that one)."""
        deleted: builtins.list[Path] = []
        for info in self.list()[self._keep :]:
            # Archives are Antenna's own files, not user media, so they are deleted rather than trashed.
            try:
                remove_file(info.path)
            except OSError as exc:
                log.warning("cannot prune old backup %s: %s", info.name, exc.strerror)
                if on_failure is not None:
                    on_failure(info.path, f"cannot delete: {exc.strerror}")
                continue
            log.info("old backup pruned: %s", info.name)
            deleted.append(info.path)
        return deleted

    def inspect(self, archive: Path) -> BackupInfo:
        """Validate an archive and describe it; raise UserError when it is not a sound Antenna backup."""
        manifest = self._manifest(archive)
        return BackupInfo(archive, archive.name, manifest.created_at, archive.stat().st_size, manifest.engine)

    def restore(self, archive: Path) -> RestoreResult:
        """Put the database and antenna.toml from archive back; the caller holds the data-dir lock."""
        manifest = self._manifest(archive)
        current = backup_engine(self._url)
        if manifest.engine != current:
            raise UserError(
                f"{archive} holds a {manifest.engine} database, but this Antenna uses {current}.",
                f"Restore it into an Antenna whose database is {manifest.engine}.",
            )
        with self._scratch(manifest.database_file) as db_copy, self._scratch(SETTINGS_FILE) as toml_copy:
            targets = {manifest.database_file: db_copy}
            if manifest.settings_file:
                targets[SETTINGS_FILE] = toml_copy
            extract_members(archive, targets)
            settings = toml_copy.read_bytes() if manifest.settings_file else None
            if settings is not None:
                _check_toml(archive, settings)  # refuse before the database is touched
            if current == "sqlite":
                sqlite_restore(db_copy, self._sqlite_db())
            else:
                pg_restore_from(self._url, db_copy)
            previous = self._restore_settings(settings) if settings is not None else None
        log.info("backup restored: %s", archive.name)
        return RestoreResult(archive, current, settings is not None, previous)

    def _manifest(self, archive: Path) -> Manifest:
        return read_manifest(archive, f"Pick an archive written by `antenna backup` (in {self.backup_dir}).")

    def _copy_database(
        self, engine: str, dest: Path, progress: Progress, check_cancelled: Callable[[], None]
    ) -> None:
        last = [-1]

        def db_progress(done: int, total: int) -> None:
            step = DB_SHARE * done // max(total, 1)
            if step != last[0]:  # one page per step would otherwise flood the progress bar
                last[0] = step
                progress(step, TOTAL, "copying database")

        if engine == "sqlite":
            sqlite_snapshot(
                self._sqlite_db(),
                dest,
                pages_per_step=self._pages_per_step,
                step_sleep_ms=self._step_sleep_ms,
                on_progress=db_progress,
                check_cancelled=check_cancelled,
            )
        else:
            pg_dump_to(self._url, dest, on_progress=db_progress, check_cancelled=check_cancelled)

    def _sqlite_db(self) -> Path:
        path = sqlite_path_from_url(self._url)
        if path is None:
            raise UserError("An in-memory SQLite database cannot be backed up or restored.")
        return path

    def _new_archive_path(self, created: datetime) -> Path:
        ensure_dir(self.backup_dir, mode=0o700)
        base = f"antenna-backup-{created.strftime(STAMP)}"
        path = self.backup_dir / f"{base}.tar.gz"
        seq = 2
        while path.exists():
            path = self.backup_dir / f"{base}-{seq}.tar.gz"
            seq += 1
        return path

    @contextmanager
    def _scratch(self, name: str) -> Iterator[Path]:
        """Yield a fresh path in <data_dir>/tmp and remove whatever was written there afterwards."""
        # Inside the data dir, so big copies land on the disk that has room for them, not in /tmp.
        scratch = self._data_dir / "tmp"
        ensure_dir(scratch)
        path = scratch / f"backup-{secrets.token_hex(6)}-{name}"
        try:
            yield path
        finally:
            for leftover in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDECARS)):
                remove_file(leftover)

    def _restore_settings(self, content: bytes) -> Path | None:
        current = self._data_dir / SETTINGS_FILE
        previous: Path | None = None
        if current.is_file():
            stamp = utc(self._clock()).strftime(STAMP)
            previous = self._data_dir / f"{SETTINGS_FILE}.before-restore-{stamp}"
            seq = 2
            while previous.exists():
                previous = self._data_dir / f"{SETTINGS_FILE}.before-restore-{stamp}-{seq}"
                seq += 1
            with atomic_writer(previous) as out:
                out.write(current.read_bytes())
        with atomic_writer(current) as out:
            out.write(content)
        return previous


class _Counter:
    """Turn bytes written into the archive's share of the progress bar; each chunk is a cancel point."""

    def __init__(self, total: int, progress: Progress, check_cancelled: Callable[[], None]) -> None:
        self._total = total
        self._done = 0
        self._last = -1
        self._progress = progress
        self._check_cancelled = check_cancelled

    def __call__(self, size: int) -> None:
        """Count size more bytes."""
        self._done += size
        step = min(DB_SHARE + (TOTAL - DB_SHARE) * self._done // self._total, TOTAL - 1)
        if step != self._last:
            self._last = step
            self._progress(step, TOTAL, "writing archive")
        self._check_cancelled()


def _check_toml(archive: Path, content: bytes) -> None:
    try:
        tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(
            f"{archive}: its antenna.toml is not valid TOML ({exc}).", "Pick another backup."
        ) from exc


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
