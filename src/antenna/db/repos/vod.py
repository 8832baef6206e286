"""VOD rows: sources, the manifest of written files, series states, streams and runs, as plain values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.base import Base
from antenna.db.repos.plex import Columns, columns_of
from antenna.db.tables import VodFileRow, VodRunRow, VodSeriesRow, VodSourceRow, VodStreamRow
from antenna.errors import Conflict, NotFound

BATCH = 5000  # rows per INSERT: SQLite's variable limit and memory both stay small


_ROW = (VodFileRow.path, VodFileRow.digest, VodFileRow.item, VodFileRow.role, VodFileRow.series_id)


def _table(row: type[Base]) -> sa.Table:
    """Return a row class's table: Core inserts of many rows skip the ORM's per-row work."""
    return cast(sa.Table, row.__table__)


class VodRepository:
    """Reads and writes every VOD table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # sources ---------------------------------------------------------------------------------------
    def sources(self) -> list[Columns]:
        """Return every source by name."""
        with self._sessions() as session:
            return [
                columns_of(r) for r in session.scalars(sa.select(VodSourceRow).order_by(VodSourceRow.name))
            ]

    def source(self, ref: str | int) -> Columns:
        """Return one source by id or name; NotFound names the known sources."""
        with self._sessions() as session:
            query = sa.select(VodSourceRow)
            if isinstance(ref, int) or str(ref).isdigit():
                row = session.scalar(query.where(VodSourceRow.id == int(ref)))
            else:
                row = session.scalar(query.where(VodSourceRow.name == ref))
            if row is None:
                names = ", ".join(session.scalars(sa.select(VodSourceRow.name))) or "none yet"
                raise NotFound(f"No VOD source '{ref}'.", f"Known sources: {names}.")
            return columns_of(row)

    def add_source(self, values: Mapping[str, Any], now: datetime) -> Columns:
        """Insert a source; Conflict when the name is taken."""
        with self._sessions.begin() as session:
            if session.scalar(sa.select(VodSourceRow.id).where(VodSourceRow.name == values["name"])):
                raise Conflict(f"A VOD source named '{values['name']}' already exists.", "Pick another name.")
            row = VodSourceRow(**values, created_at=now)
            session.add(row)
            session.flush()
            return columns_of(row)

    def update_source(self, source_id: int, values: Mapping[str, Any]) -> Columns:
        """Change some columns of a source."""
        with self._sessions.begin() as session:
            row = session.get(VodSourceRow, source_id)
            if row is None:
                raise NotFound(f"No VOD source with id {source_id}.")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return columns_of(row)

    def forget_files(self, source_id: int) -> None:
        """Forget which files a source wrote and its series states (the files stay on disk)."""
        with self._sessions.begin() as session:
            for table in (VodFileRow, VodSeriesRow):
                session.execute(sa.delete(table).where(table.source_id == source_id))

    def delete_source(self, source_id: int) -> None:
        """Remove a source with its manifest, states, streams and runs (its files stay on disk)."""
        with self._sessions.begin() as session:
            for table in (VodFileRow, VodSeriesRow, VodStreamRow, VodRunRow):
                session.execute(sa.delete(table).where(table.source_id == source_id))
            session.execute(sa.delete(VodSourceRow).where(VodSourceRow.id == source_id))

    # manifest --------------------------------------------------------------------------------------
    def count_manifest(self, source_id: int) -> int:
        """Return how many files Antenna wrote for a source."""
        query = sa.select(sa.func.count()).select_from(VodFileRow).where(VodFileRow.source_id == source_id)
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    def has_manifest(self, source_id: int) -> bool:
        """Return True when Antenna wrote anything for a source."""
        with self._sessions() as session:
            query = sa.select(VodFileRow.id).where(VodFileRow.source_id == source_id).limit(1)
            return session.scalar(query) is not None

    def manifest_for(
        self, source_id: int, items: Sequence[str], paths: Sequence[str]
    ) -> dict[str, tuple[str, str, str, str]]:
        """Return the manifest rows of these items or at these paths (one chunk of an export)."""
        query = sa.select(
            VodFileRow.path, VodFileRow.digest, VodFileRow.item, VodFileRow.role, VodFileRow.series_id
        )
        found: dict[str, tuple[str, str, str, str]] = {}
        with self._sessions() as session:
            # By item first; then only the paths those rows did not cover (on a run where little changed,
            # none: a third of the queries).
            for column, values in ((VodFileRow.item, items), (VodFileRow.path, paths)):
                if column is VodFileRow.path:
                    values = [p for p in values if p not in found]
                for start in range(0, len(values), 500):
                    chunk = values[start : start + 500]
                    rows = session.execute(query.where(VodFileRow.source_id == source_id, column.in_(chunk)))
                    for path, digest, item, role, series in rows:
                        found[path] = (digest, item, role, series)
        return found

    def manifest_rows(self, source_id: int) -> Iterator[tuple[str, str, str, str, str]]:
        """Yield every manifest row of a source: (path, digest, item, role, series id), a batch at a time."""
        query = sa.select(
            VodFileRow.path, VodFileRow.digest, VodFileRow.item, VodFileRow.role, VodFileRow.series_id
        )
        with self._sessions() as session:
            result = session.execute(
                query.where(VodFileRow.source_id == source_id).execution_options(yield_per=BATCH)
            )
            yield from ((path, digest, item, role, series) for path, digest, item, role, series in result)

    def change_manifest(
        self, source_id: int, put: Sequence[tuple[str, str, str, str, str]], drop: Iterable[str]
    ) -> None:
        """Forget the rows at the paths in drop, then record put: (path, digest, item, role, series id).

        A put path must have no row but a dropped one (the exporter drops a path it rewrites): deleting every
        put path first cost a first export a delete per file for rows that never existed.
        """
        gone = sorted(set(drop))
        with self._sessions.begin() as session:
            for start in range(0, len(gone), BATCH):
                chunk = gone[start : start + BATCH]
                session.execute(
                    sa.delete(VodFileRow).where(VodFileRow.source_id == source_id, VodFileRow.path.in_(chunk))
                )
            rows = [
                {"source_id": source_id, "path": p, "digest": d, "item": i, "role": r, "series_id": s}
                for p, d, i, r, s in put
            ]
            for start in range(0, len(rows), BATCH):
                session.execute(sa.insert(_table(VodFileRow)), rows[start : start + BATCH])

    # series states ---------------------------------------------------------------------------------
    def series_states(self, source_id: int) -> dict[str, tuple[int, int, str]]:
        """Return series id -> (last_modified the provider said, files written for it, its folders' stamp)."""
        query = sa.select(
            VodSeriesRow.series_id, VodSeriesRow.last_modified, VodSeriesRow.files, VodSeriesRow.disk
        )
        with self._sessions() as session:
            rows = session.execute(query.where(VodSeriesRow.source_id == source_id))
            return {series: (modified, files, disk) for series, modified, files, disk in rows}

    def save_series_states(self, source_id: int, states: Mapping[str, tuple[int, int, str]]) -> None:
        """Replace a source's series states."""
        rows = [
            {"source_id": source_id, "series_id": s, "last_modified": m, "files": f, "disk": d}
            for s, (m, f, d) in states.items()
        ]
        with self._sessions.begin() as session:
            session.execute(sa.delete(VodSeriesRow).where(VodSeriesRow.source_id == source_id))
            for start in range(0, len(rows), BATCH):
                session.execute(sa.insert(_table(VodSeriesRow)), rows[start : start + BATCH])

    # streams ---------------------------------------------------------------------------------------
    def save_streams(self, source_id: int, kind: str, streams: Iterable[tuple[str, str, str]]) -> None:
        """Replace a source's streams of one kind: (stream id, extension, provider URL or ""); the same ones
        are left as they are (a run where nothing changed writes nothing)."""
        wanted = set(streams)
        stored = sa.select(VodStreamRow.stream_id, VodStreamRow.extension, VodStreamRow.url).where(
            VodStreamRow.source_id == source_id, VodStreamRow.kind == kind
        )
        with self._sessions() as session:
            if {tuple(row) for row in session.execute(stored)} == wanted:
                return
        rows = [
            {"source_id": source_id, "kind": kind, "stream_id": s, "extension": e, "url": u}
            for s, e, u in wanted
        ]
        with self._sessions.begin() as session:
            session.execute(
                sa.delete(VodStreamRow).where(VodStreamRow.source_id == source_id, VodStreamRow.kind == kind)
            )
            for start in range(0, len(rows), BATCH):
                session.execute(sa.insert(_table(VodStreamRow)), rows[start : start + BATCH])

    def add_streams(self, source_id: int, kind: str, streams: Iterable[tuple[str, str, str]]) -> None:
        """Add or replace some streams of one kind, leaving the others."""
        rows = [
            {"source_id": source_id, "kind": kind, "stream_id": s, "extension": e, "url": u}
            for s, e, u in streams
        ]
        with self._sessions.begin() as session:
            ids = [row["stream_id"] for row in rows]
            for start in range(0, len(ids), BATCH):
                session.execute(
                    sa.delete(VodStreamRow).where(
                        VodStreamRow.source_id == source_id,
                        VodStreamRow.kind == kind,
                        VodStreamRow.stream_id.in_(ids[start : start + BATCH]),
                    )
                )
            for start in range(0, len(rows), BATCH):
                session.execute(sa.insert(_table(VodStreamRow)), rows[start : start + BATCH])

    def stream(self, source_id: int, kind: str, stream_id: str) -> Columns | None:
        """Return one stream, or None."""
        query = sa.select(VodStreamRow).where(
            VodStreamRow.source_id == source_id,
            VodStreamRow.kind == kind,
            VodStreamRow.stream_id == stream_id,
        )
        with self._sessions() as session:
            row = session.scalar(query)
            return None if row is None else columns_of(row)

    # runs ------------------------------------------------------------------------------------------
    def add_run(self, source_id: int, scope: str, cleanup: str, now: datetime) -> int:
        """Record the start of an export; return its id."""
        with self._sessions.begin() as session:
            row = VodRunRow(source_id=source_id, started_at=now, scope=scope, cleanup=cleanup)
            session.add(row)
            session.flush()
            return row.id

    def finish_run(
        self, run_id: int, *, status: str, message: str, counts: Mapping[str, Any], report: str, now: datetime
    ) -> None:
        """Record how an export ended."""
        with self._sessions.begin() as session:
            row = session.get(VodRunRow, run_id)
            if row is None:
                raise NotFound(f"No VOD run {run_id}.")
            row.status, row.message, row.counts, row.report, row.finished_at = (
                status,
                message,
                dict(counts),
                report,
                now,
            )

    def runs(self, source_id: int | None = None, limit: int = 20) -> list[Columns]:
        """Return the newest runs first."""
        query = sa.select(VodRunRow).order_by(VodRunRow.id.desc()).limit(limit)
        if source_id is not None:
            query = query.where(VodRunRow.source_id == source_id)
        with self._sessions() as session:
            return [columns_of(r) for r in session.scalars(query)]

    def run(self, run_id: int) -> Columns:
        """Return one run."""
        with self._sessions() as session:
            row = session.get(VodRunRow, run_id)
            if row is None:
                raise NotFound(f"No VOD run {run_id}.", "`antenna vod report` lists the runs.")
            return columns_of(row)
