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
import itertools
import os
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from antenna.fs import (
    LibraryRoot,
    make_dirs,
    move_generated,
    prune_empty_dirs,
    remove_abandoned_new_folders,
    remove_file,
    write_generated,
    write_new_folders,
)
from antenna.vod import run_log
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
        """Forget the rows at the paths in drop, then record put (a put path has no row unless dropped)."""
        ...

    def rows(self) -> Iterator[Row]:
        """Yield every row."""
        ...

    def any(self) -> bool:
        """Return True when the manifest has a row."""
        ...

    def count(self) -> int:
        """Return the number of rows."""
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
    folders: tuple[
        str, ...
    ] = ()  # the tree's top folders (Movies, TV): where a killed run's temp folders lie


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
        self.report = csv.writer(report, lineterminator="\n")  # rows in REPORT_FIELDS order
        self.report.writerow(REPORT_FIELDS)
        self.pool = ThreadPoolExecutor(max_workers=max(1, job.workers))
        # Writes run while the next chunk is made (rendering and the provider's answers overlap the disk);
        # at most IN_FLIGHT batches wait, so memory stays bounded.
        self.inflight: deque[tuple[list[TreeFile], Mapping[str, object], Future[list[bool]]]] = deque()
        self.empty = not store.any()  # a first export: no chunk needs its manifest rows looked up
        self.db = ThreadPoolExecutor(max_workers=1)  # one thread: the changes are stored in order
        self.storing: deque[Future[None]] = deque()
        self.parents: set[str] = set()  # folders new item folders go in, known to exist
        for folder in job.folders:
            remove_abandoned_new_folders(Path(self.where(folder)))

    def close(self) -> None:
        """Stop the writers (the stores still waiting are done first)."""
        self.pool.shutdown()
        self.db.shutdown()

    def add(self, files: list[TreeFile], recheck: Collection[str] = ()) -> None:
        """Bring one chunk's files to disk and to the manifest (written in the background).

        Files of the series in recheck are compared with the disk even where the manifest has them unchanged.
        """
        self.check_cancelled()
        paths = [f.path for f in files]
        known = {} if self.empty else self.store.known(sorted({f.item for f in files}), paths)
        by_role = {(item, role): path for path, (_d, item, role, _s) in known.items()}
        wanted = set(paths)
        debug = run_log.active()
        put: list[Row] = []
        drop: list[str] = []
        write: list[TreeFile] = []
        for file in files:
            self.seen.append(hash((file.item, file.role)))
            row = known.get(file.path)
            if row is not None:
                if row[0] == file.digest and row[1] == file.item and file.series not in recheck:
                    self.out.add("unchanged")
                    if debug:
                        run_log.say(f"unchanged {file.path} (the manifest has this content)")
                    continue
                write.append(file)
                continue
            old = by_role.get((file.item, file.role))
            # The same item's file under its old name: move it (a media server keeps what it knew of it),
            # unless this chunk makes a file at that name too.
            if old is not None and old not in wanted:
                source = Path(self.where(old))
                move_generated(source, self.where(file.path))
                self.vacated.add(source.parent)
                if known[old][0] != file.digest:
                    write_generated(self.where(file.path), file.data)
                drop.append(old)
                put.append((file.path, file.digest, file.item, file.role, file.series))
                self.out.add("renamed")
                self._row(file, "renamed", f"was {old}")
                if debug:
                    run_log.say(f"renamed {old} -> {file.path} (moved in place)")
            else:
                write.append(file)
        self.put.extend(put)
        self.drop.extend(drop)
        for file in files:
            if file.series:
                self.out.series_files[file.series] = self.out.series_files.get(file.series, 0) + 1
        if write:
            # A folder none of whose files were known (a new movie or series) is written whole; the writer
            # falls back to file by file when it exists on disk all the same.
            written = {id(f) for f in write}
            fresh = frozenset(
                {_unit(f.path) for f in write} - {_unit(f.path) for f in files if id(f) not in written}
            )
            batch: list[TreeFile] = []
            for file in write:
                if len(batch) >= BATCH and _unit(file.path) != _unit(batch[-1].path):
                    self.inflight.append((batch, known, self.pool.submit(self._write, batch, fresh)))
                    batch = []
                batch.append(file)
            self.inflight.append((batch, known, self.pool.submit(self._write, batch, fresh)))
        self._collect(keep=IN_FLIGHT)

    def _collect(self, *, keep: int | None) -> None:
        """Record finished writes, oldest first, waiting while more than `keep` are pending (None: none)."""
        while self.inflight:
            batch, known, future = self.inflight[0]
            if not future.done() and (keep is None or len(self.inflight) <= keep):
                break
            self.inflight.popleft()
            debug = run_log.active()
            for file, created in zip(batch, future.result(), strict=True):
                if file.path in known:
                    self.drop.append(file.path)  # its old row goes; a new path has none to delete
                self.put.append((file.path, file.digest, file.item, file.role, file.series))
                action = ("updated" if file.path in known else "created") if created else "unchanged"
                self.out.add(action)
                if created:
                    self._row(file, action, _reason(file, known))
                if debug:
                    why = _reason(file, known) if created else "the file on disk already holds it"
                    run_log.say(f"{action} {file.path} ({why})")
        if len(self.put) + len(self.drop) >= FLUSH:
            self.flush()

    def flush(self, *, wait: bool = False) -> None:
        """Store the manifest changes made so far (of the writes that finished), in the background.

        The database works while the next chunk is rendered (SQLite and psycopg let go of the GIL while
        they work); at most two stores wait, and `wait` waits for all of them (a failure is raised here).
        """
        if self.put or self.drop:
            self.storing.append(self.db.submit(self.store.change, self.put, self.drop))
            self.put, self.drop = [], []
        while self.storing and (wait or self.storing[0].done() or len(self.storing) > 2):
            self.storing.popleft().result()

    def _write(self, batch: list[TreeFile], fresh: frozenset[str]) -> list[bool]:
        """Write a batch (whole folders, in order); return for each file whether it was written."""
        self.check_cancelled()
        groups = [
            (unit, list(files)) for unit, files in itertools.groupby(batch, key=lambda f: _unit(f.path))
        ]
        new = [i for i, (unit, _files) in enumerate(groups) if unit and unit in fresh]
        targets = [self.where(groups[i][0]) for i in new]
        for parent in {os.path.dirname(target) for target in targets} - self.parents:
            os.makedirs(parent, exist_ok=True)
            self.parents.add(parent)
        cut = [len(groups[i][0]) + 1 for i in new]
        written = write_new_folders(
            [
                (t, [(f.path[c:], f.data) for f in groups[i][1]])
                for i, t, c in zip(new, targets, cut, strict=True)
            ]
        )
        whole = {i for i, ok in zip(new, written, strict=True) if ok}
        done: list[bool] = []
        for i, (_unit_path, files) in enumerate(groups):
            if i in whole:
                done.extend(True for _ in files)
                continue
            # Not a new folder (or one that appeared on disk all the same): file by file, each compared.
            paths = [self.where(f.path) for f in files]
            make_dirs({os.path.dirname(p) for p in paths})
            done.extend(write_generated(p, f.data) for p, f in zip(paths, files, strict=True))
        return done

    def finish(self, kept_series: Iterable[str], *, complete: bool, kept_files: int | None = None) -> Outcome:
        """Find the files no chunk made (written before, not listed now) and clean them up as the job says.

        kept_files, the files the kept series had, lets a run of the whole tree skip reading the manifest back
        when it holds exactly the files made plus those: then none is stale.
        """
        self._collect(keep=0)
        self.flush(wait=True)
        made_keys = sorted(self.seen)
        self.seen = array("q")
        kept = set(kept_series)
        stale: list[Row] = []
        made = len(made_keys)
        # A first export's manifest holds only this run's files, and one with as many rows as files made and
        # kept holds no others (each made file has one row): no file is stale, so the rows are not read back.
        nothing_stale = self.empty or (
            kept_files is not None and self.job.scope == "all" and self.store.count() == made + kept_files
        )
        for row in () if nothing_stale else self.store.rows():
            path, _digest, item, role, series = row
            if self._left_alone(item, series, kept):
                continue
            key = hash((item, role))
            at = bisect.bisect_left(made_keys, key)
            if at == len(made_keys) or made_keys[at] != key:
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
            run_log.say(
                f"{'deleted' if verdict.remove else 'stale'} {path} (not listed now; {verdict.reason})"
            )
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
                    (kind, path.split("/")[1] if kind != "movie" else "", "", Path(path).stem, uuid, action,
                     verdict.reason, path if role == "strm" else "", "")
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
        strm = file.role == "strm"
        self.report.writerow(
            (
                kind,
                parts[1] if kind in ("episode", "series") else "",
                season,
                parts[-1].rpartition(".")[0] if kind != "series" else parts[1],
                uuid,
                action,
                reason,
                file.path if strm else "",
                file.path[: -len(".strm")] + ".nfo" if strm else file.path,
            )
        )


def _unit(path: str) -> str:
    """Return the item folder a file is in ("Movies/<name>", "TV/<name>"), or "" for a file higher up."""
    parts = path.split("/", 2)
    return f"{parts[0]}/{parts[1]}" if len(parts) == 3 else ""


def _reason(file: TreeFile, known: Mapping[str, object]) -> str:
    """Say why a file was written: new, changed by the provider, or missing or edited on disk."""
    row = known.get(file.path)
    if row is None:
        return "new"
    same = isinstance(row, tuple) and row[0] == file.digest  # the provider's content is what was written
    return "missing or edited on disk" if same else "content changed"
