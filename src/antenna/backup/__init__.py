"""Backup and restore of the database and settings into timestamped archives in the data dir."""

from antenna.backup.models import BackupInfo, RestoreResult
from antenna.backup.service import BackupService

__all__ = ["BackupInfo", "BackupService", "RestoreResult"]
