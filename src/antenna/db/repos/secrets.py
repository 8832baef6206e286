"""App secrets: admin password hash, API key, session signing key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from antenna.db.tables import AppSecret


class SecretRepository:
    """Reads and writes named secrets."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, name: str) -> str | None:
        """Return a secret's value, or None."""
        with self._sessions() as session:
            row = session.get(AppSecret, name)
            return row.value if row else None

    def set(self, name: str, value: str, *, now: datetime) -> None:
        """Create or replace a secret."""
        with self._sessions.begin() as session:
            row = session.get(AppSecret, name)
            if row is None:
                session.add(AppSecret(name=name, value=value, updated_at=now))
            else:
                row.value = value
                row.updated_at = now

    def set_if_missing(self, name: str, value: str, *, now: datetime) -> bool:
        """Store value unless the secret exists; return True if stored."""
        with self._sessions.begin() as session:
            if session.get(AppSecret, name) is not None:
                return False
            session.add(AppSecret(name=name, value=value, updated_at=now))
            return True
