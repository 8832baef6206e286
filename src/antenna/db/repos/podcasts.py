"""Podcast rows: subscriptions and episodes, as plain column dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from antenna.db.repos.plex import Columns, columns_of
from antenna.db.tables import EpisodeRow, PodcastRow
from antenna.errors import NotFound

# Feed fields refreshed on every check; naming fields (season, number, relpath) are never touched here.
_FEED_FIELDS = (
    "guid",
    "title",
    "description",
    "published",
    "enclosure_url",
    "mime_type",
    "size",
    "duration",
    "image_url",
)


_EDITABLE = ("title", "description", "published")  # what a user may have changed in the episode NFO


class PodcastRepository:
    """Reads and writes podcast subscriptions and their episodes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # subscriptions

    def podcasts(self) -> list[Columns]:
        """Return every subscription by title."""
        with self._sessions() as session:
            query = sa.select(PodcastRow).order_by(sa.func.lower(PodcastRow.title), PodcastRow.id)
            return [columns_of(r) for r in session.scalars(query)]

    def podcast(self, podcast_id: int) -> Columns:
        """Return one subscription; NotFound when there is none with that id."""
        with self._sessions() as session:
            row = session.get(PodcastRow, podcast_id)
            if row is None:
                raise NotFound(f"No podcast with id {podcast_id}.", "See `antenna podcast list`.")
            return columns_of(row)

    def find_duplicate(self, url_key: str, identity: str) -> Columns | None:
        """Return the subscription with the same normalised URL or feed identity, if any."""
        condition = PodcastRow.url_key == url_key
        if identity:
            condition = sa.or_(condition, PodcastRow.identity == identity)
        with self._sessions() as session:
            row = session.scalar(sa.select(PodcastRow).where(condition).limit(1))
            return columns_of(row) if row is not None else None

    def add_podcast(self, values: Mapping[str, Any], now: datetime) -> Columns:
        """Insert a subscription."""
        with self._sessions.begin() as session:
            row = PodcastRow(**values, created_at=now)
            session.add(row)
            session.flush()
            return columns_of(row)

    def update_podcast(self, podcast_id: int, values: Mapping[str, Any]) -> Columns:
        """Change some columns of a subscription."""
        with self._sessions.begin() as session:
            row = session.get(PodcastRow, podcast_id)
            if row is None:
                raise NotFound(f"No podcast with id {podcast_id}.")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return columns_of(row)

    def mark_checked(self, podcast_ids: Sequence[int], now: datetime) -> None:
        """Record a successful check that found nothing new (304) for several subscriptions at once."""
        if not podcast_ids:
            return
        with self._sessions.begin() as session:
            session.execute(
                sa.update(PodcastRow)
                .where(PodcastRow.id.in_(list(podcast_ids)))
                .values(checked_at=now, status="ok", status_message="")
                .execution_options(synchronize_session=False)
            )

    def delete_podcast(self, podcast_id: int) -> None:
        """Remove a subscription and its episodes."""
        with self._sessions.begin() as session:
            session.execute(sa.delete(EpisodeRow).where(EpisodeRow.podcast_id == podcast_id))
            session.execute(sa.delete(PodcastRow).where(PodcastRow.id == podcast_id))

    # episodes

    def episodes(self, podcast_id: int | None = None, states: Iterable[str] | None = None) -> list[Columns]:
        """Return episodes (of one podcast, in some states), newest first."""
        table = EpisodeRow.__table__
        # Core rows, not ORM objects: a feed check reads every episode of a podcast, thousands at a time.
        query = sa.select(table)
        if podcast_id is not None:
            query = query.where(table.c.podcast_id == podcast_id)
        if states is not None:
            query = query.where(table.c.state.in_(list(states)))
        query = query.order_by(table.c.published.desc(), table.c.id.desc())
        with self._sessions() as session:
            return [dict(row) for row in session.execute(query).mappings()]

    def seasons(self, podcast_id: int) -> set[int]:
        """Return the season numbers the podcast's episodes were given."""
        query = sa.select(EpisodeRow.season).where(
            EpisodeRow.podcast_id == podcast_id, EpisodeRow.season.is_not(None)
        )
        with self._sessions() as session:
            return {int(s) for s in session.scalars(query.distinct()) if s is not None}

    def episode(self, episode_id: int) -> Columns:
        """Return one episode; NotFound when there is none with that id."""
        with self._sessions() as session:
            row = session.get(EpisodeRow, episode_id)
            if row is None:
                raise NotFound(f"No podcast episode with id {episode_id}.")
            return columns_of(row)

    def merge_feed(
        self, podcast_id: int, items: Sequence[Mapping[str, Any]], now: datetime
    ) -> tuple[int, int]:
        """Insert new feed items as available episodes and refresh changed ones; return (added, updated)."""
        table = EpisodeRow.__table__
        columns = [table.c[name] for name in ("id", "key", "edited", *_FEED_FIELDS)]
        with self._sessions.begin() as session:
            existing = {
                row["key"]: row
                for row in session.execute(
                    sa.select(*columns).where(table.c.podcast_id == podcast_id)
                ).mappings()
            }
            new_rows: list[dict[str, Any]] = []
            changes: list[dict[str, Any]] = []
            for item in items:
                row = existing.get(item["key"])
                if row is None:
                    new_rows.append(
                        {
                            **{name: item.get(name) for name in _FEED_FIELDS},
                            "key": item["key"],
                            "podcast_id": podcast_id,
                            "state": item.get("state", "available"),
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    continue
                changed = {
                    name: item[name]
                    for name in _FEED_FIELDS
                    if name in item and row[name] != item[name] and not (row["edited"] and name in _EDITABLE)
                }
                if changed:
                    changes.append({"row_id": row["id"], **changed, "updated_at": now})
            if new_rows:
                session.execute(sa.insert(EpisodeRow), new_rows)
            for change in changes:  # few per check: feeds rarely edit old items
                row_id = change.pop("row_id")
                session.execute(sa.update(EpisodeRow).where(EpisodeRow.id == row_id).values(**change))
            return len(new_rows), len(changes)

    def update_episode(self, episode_id: int, values: Mapping[str, Any], now: datetime) -> Columns:
        """Change some columns of an episode."""
        with self._sessions.begin() as session:
            row = session.get(EpisodeRow, episode_id)
            if row is None:
                raise NotFound(f"No podcast episode with id {episode_id}.")
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            session.flush()
            return columns_of(row)

    def set_states(self, episode_ids: Iterable[int], state: str, now: datetime, **values: Any) -> int:
        """Move several episodes to one state (plus other columns); return how many changed."""
        ids = list(episode_ids)
        if not ids:
            return 0
        with self._sessions.begin() as session:
            result = session.execute(
                sa.update(EpisodeRow)
                .where(EpisodeRow.id.in_(ids))
                .values(state=state, updated_at=now, **values)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def reset_states(self, from_states: Iterable[str], to_state: str, now: datetime) -> int:
        """Move every episode in some states to another (recovery after a crash); return how many."""
        with self._sessions.begin() as session:
            result = session.execute(
                sa.update(EpisodeRow)
                .where(EpisodeRow.state.in_(list(from_states)))
                .values(state=to_state, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def state_counts(self) -> dict[int, dict[str, int]]:
        """Return {podcast id: {state: episodes}}."""
        query = sa.select(EpisodeRow.podcast_id, EpisodeRow.state, sa.func.count()).group_by(
            EpisodeRow.podcast_id, EpisodeRow.state
        )
        counts: dict[int, dict[str, int]] = {}
        with self._sessions() as session:
            for podcast_id, state, count in session.execute(query):
                counts.setdefault(podcast_id, {})[state] = count
        return counts

    def integrity_problems(self) -> list[str]:
        """Check the database file (SQLite) and the podcast rows for damage; return what is wrong."""
        problems: list[str] = []
        with self._sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                rows = [str(r[0]) for r in session.execute(sa.text("PRAGMA integrity_check"))]
                problems += [f"SQLite: {r}" for r in rows if r != "ok"]
            orphans = session.scalar(
                sa.select(sa.func.count())
                .select_from(EpisodeRow)
                .where(~EpisodeRow.podcast_id.in_(sa.select(PodcastRow.id)))
            )
            if orphans:
                problems.append(f"{orphans} episodes belong to no podcast")
            unnamed = session.scalar(
                sa.select(sa.func.count())
                .select_from(EpisodeRow)
                .where(
                    EpisodeRow.state.in_(["unwatched", "watched", "marked_for_delete"]),
                    EpisodeRow.relpath == "",
                )
            )
            if unnamed:
                problems.append(f"{unnamed} episodes are in the library without a file name")
        return problems
