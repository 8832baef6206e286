"""Backup values shown by the CLI and the web UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup archive: where it is, when it was made, how big, and which database engine it holds."""

    path: Path
    name: str
    created_at: datetime
    size_bytes: int
    engine: str


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did: the archive used, and whether antenna.toml was replaced; where the old one went."""

    archive: Path
    engine: str
    settings_restored: bool
    previous_settings: Path | None
