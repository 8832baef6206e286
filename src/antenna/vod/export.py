"""One export, a chunk at a time: each chunk's files compared with the manifest, written, recorded, reported.

Memory stays bounded by a chunk (a thousand movies or one series), not by the tree: the manifest rows of a
chunk are looked up when it comes, changes are stored as it goes, and report rows go straight to the CSV.
Files are written with a temp file renamed into place (never half a file; no fsync each, which would make a
700k-file first run take hours), only when their content changed; unchanged files are known from the
manifest without reading the disk. Series the provider says are unchanged are not in any chunk: their files
and manifest rows stay as they are.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from antenna.fs import LibraryRoot, atomic_move, make_dirs, prune_empty_dirs, remove_file, write_generated
from antenna.vod.models import Cleanup
from antenna.vod.plan import TreeFile, UrlFor, cleanup_decision

BATCH = 256  # files a worker writes per task: per-file tasks cost more in the pool than the write itself
IN_FLIGHT = 16  # write batches waiting at most (4k files)
FLUSH = 20_000  # manifest changes stored per transaction: one commit per series cost more than its files
REPORT_FIELDS = (
    "type",
    "series_name",
    "season",
    "title",
    "uuid",
    "action",
    "reason",
    "strm_path",
    "nfo_path",
)
Row = tuple[str, str, str, str, str]  # path, digest, item, role, series id


class Store(Protocol):
    """The manifest of one source, as the exporter reads and changes it (db/repos/vod.py behind it)."""

    def known(self, items: Sequence[str], paths: Sequence[str]) -> Mapping[str, tuple[str, str, str, str]]:
        """Return the rows of these items or at these paths: path -> (digest, item, role, series id)."""
        ...

    def change(self, put: Sequence[Row], drop: Sequence[str]) -> None:
        """Record files written or moved, forget removed ones."""
        ...

    def rows(self) -> Iterator[Row]:
        """Yield every row."""
        ...

    def any(self) -> bool:
        """Return True when the manifest has a row."""
        ...


@dataclass(frozen=True, slots=True)
class Job:
    """An export's settings."""

    root: LibraryRoot
    movie_url: UrlFor
    episode_url: UrlFor
    cleanup: Cleanup = Cleanup.OFF
    threshold: float = 0.2
    force: bool = False
    workers: int = 1
    scope: str = "all"  # "all", "movies" or "series": files of the other kind are left alone


@dataclass(slots=True)
class Outcome:
    """What an export did."""

    counts: dict[str, int] = field(default_factory=dict)
    series_files: dict[str, int] = field(default_factory=dict)  # files a series has after this run
    cleanup: str = ""

    def add(self, key: str, n: int = 1) -> None:
        """Count n more of key."""
        self.counts[key] = self.counts.get(key, 0) + n


class Exporter:
    """Writes chunks of a tree and keeps what the final cleanup needs: which (item, role) pairs were made."""

    def __init__(
        self,
        job: Job,
        store: Store,
        report: TextIO,
        check_cancelled: Callable[[], None] = lambda: None,
    ) -> None:
        self.job = job
        self.store = store
        self.out = Outcome()
        self.check_cancelled = check_cancelled
        self.where = job.root.resolver()
        # hash((item, role)) of every file made, 8 bytes each: a set of 700k ints cost 50 MB more.
        self.seen = array("q")
        self.vacated: set[Path] = set()  # folders files were moved out of: removed at the end when empty
        self.put: list[Row] = []
        self.drop: list[str] = []
        self.report = csv.DictWriter(
            report, fieldnames=REPORT_FIELDS, extrasaction="ignore", lineterminator="\n"
        )
        self.report.writeheader()
        self.pool = ThreadPoolExecutor(max_workers=max(1, job.workers))
        # Writes run while the next chunk is made (rendering and the provider's answers overlap the disk);
        # at most IN_FLIGHT batches wait, so memory stays bounded.
        self.inflight: deque[tuple[list[TreeFile], Mapping[str, object], Future[list[bool]]]] = deque()
        self.empty = not store.any()  # a first export: no chunk needs its manifest rows looked up

    def close(self) -> None:
        """Stop the writers."""
        self.pool.shutdown()

    def add(self, files: list[TreeFile]) -> None:
        """Bring one chunk's files to disk and to the manifest (written in the background)."""
        self.check_cancelled()
        paths = [f.path for f in files]
        known = {} if self.empty else self.store.known(sorted({f.item for f in files}), paths)
        by_role = {(item, role): path for path, (_d, item, role, _s) in known.items()}
        wanted = set(paths)
        put: list[Row] = []
        drop: list[str] = []
        write: list[TreeFile] = []
        for file in files:
            self.seen.append(hash((file.item, file.role)))
            row = known.get(file.path)
            if row is not None:
                if row[0] == file.digest and row[1] == file.item:
                    self.out.add("unchanged")
                    continue
                write.append(file)
                continue
            old = by_role.get((file.item, file.role))
            # The same item's file under its old name: move it (a media server keeps what it knew of it),
            # unless this chunk makes a file at that name too.
            if old is not None and old not in wanted:
                source = Path(self.where(old))
                atomic_move(source, Path(self.where(file.path)))
                self.vacated.add(source.parent)
                if known[old][0] != file.digest:
                    write_generated(self.where(file.path), file.data)
                drop.append(old)
                put.append((file.path, file.digest, file.item, file.role, file.series))
                self.out.add("renamed")
                self._row(file, "renamed", f"was {old}")
            else:
                write.append(file)
        self.put.extend(put)
        self.drop.extend(drop)
        for file in files:
            if file.series:
                self.out.series_files[file.series] = self.out.series_files.get(file.series, 0) + 1
        if write:
            make_dirs({Path(self.where(f.path)).parent for f in write})
            for i in range(0, len(write), BATCH):
                batch = write[i : i + BATCH]
                self.inflight.append((batch, known, self.pool.submit(self._write, batch)))
        self._collect(keep=IN_FLIGHT)

    def _collect(self, *, keep: int | None) -> None:
        """Record finished writes, oldest first, waiting while more than `keep` are pending (None: none)."""
        while self.inflight:
            batch, known, future = self.inflight[0]
            if not future.done() and (keep is None or len(self.inflight) <= keep):
                break
            self.inflight.popleft()
            for file, created in zip(batch, future.result(), strict=True):
                self.put.append((file.path, file.digest, file.item, file.role, file.series))
                action = ("updated" if file.path in known else "created") if created else "unchanged"
                self.out.add(action)
                if created:
                    self._row(file, action, "content changed" if file.path in known else "new")
        if len(self.put) + len(self.drop) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        """Store the manifest changes made so far (of the writes that finished)."""
        if self.put or self.drop:
            self.store.change(self.put, self.drop)
            self.put, self.drop = [], []

    def _write(self, batch: list[TreeFile]) -> list[bool]:
        self.check_cancelled()
        return [write_generated(self.where(file.path), file.data) for file in batch]

    def finish(self, kept_series: Iterable[str], *, complete: bool) -> Outcome:
        """Find the files no chunk made (written before, not listed now) and clean them up as the job says."""
        self._collect(keep=0)
        self.flush()
        made_keys = sorted(self.seen)
        self.seen = array("q")
        kept = set(kept_series)
        stale: list[Row] = []
        made = 0
        for row in self.store.rows():
            path, _digest, item, role, series = row
            if self._left_alone(item, series, kept):
                continue
            key = hash((item, role))
            at = bisect.bisect_left(made_keys, key)
            if at < len(made_keys) and made_keys[at] == key:
                made += 1
            else:
                stale.append(row)
        verdict = cleanup_decision(
            self.job.cleanup, len(stale), made + len(stale), complete=complete, threshold=self.job.threshold,
            force=self.job.force,
        )  # fmt: skip
        self.out.cleanup = verdict.reason
        removed: list[str] = []
        for path, _digest, item, role, _series in stale:
            if verdict.remove:
                with contextlib.suppress(FileNotFoundError):
                    remove_file(Path(self.where(path)))
                removed.append(path)
                self.out.add("deleted")
            else:
                self.out.add("stale")
            if role in ("strm", "tvshow"):
                kind, _, uuid = item.partition(":")
                action = (
                    "deleted"
                    if verdict.remove
                    else "would delete"
                    if self.job.cleanup is Cleanup.PREVIEW
                    else "stale"
                )
                self.report.writerow(
                    {"type": kind, "series_name": path.split("/")[1] if kind != "movie" else "", "season": "",
                     "title": Path(path).stem, "uuid": uuid, "action": action, "reason": verdict.reason,
                     "strm_path": path if role == "strm" else "", "nfo_path": ""}
                )  # fmt: skip
        if removed:
            self.store.change([], removed)
        prune_empty_dirs(self.job.root.path, self.vacated | {Path(self.where(p)).parent for p in removed})
        return self.out

    def _left_alone(self, item: str, series: str, kept: set[str]) -> bool:
        """Return True for a file this run does not judge: an unchanged series', or the other scope's."""
        movie = item.startswith("movie:")
        if (self.job.scope == "movies" and not movie) or (self.job.scope == "series" and movie):
            return True
        return bool(series) and series in kept

    def _row(self, file: TreeFile, action: str, reason: str) -> None:
        if file.role not in ("strm", "tvshow"):
            return
        kind, _, uuid = file.item.partition(":")
        parts = file.path.split("/")
        season = (
            parts[2].removeprefix("Season ").split(" ")[0] if kind == "episode" and len(parts) > 3 else ""
        )
        self.report.writerow(
            {
                "type": kind,
                "series_name": parts[1] if kind in ("episode", "series") else "",
                "season": season,
                "title": Path(file.path).stem if kind != "series" else parts[1],
                "uuid": uuid,
                "action": action,
                "reason": reason,
                "strm_path": file.path if file.role == "strm" else "",
                "nfo_path": file.path[: -len(".strm")] + ".nfo" if file.role == "strm" else file.path,
            }
        )
