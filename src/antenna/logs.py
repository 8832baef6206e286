"""Logging: a rotating file in the data dir plus the console, secrets masked, recent events readable."""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from antenna.redact import RedactingFilter

LOG_FILE = "logs/antenna.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ (?P<level>[A-Z]+) (?P<logger>\S+): (?P<message>.*)$"
)


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One line of the activity log."""

    at: str
    level: str
    logger: str
    message: str


def configure_logging(
    data_dir: Path | None,
    *,
    level: str = "INFO",
    max_bytes: int = 5_000_000,
    backups: int = 3,
    secrets: Iterable[str] = (),
    console_level: str | None = None,
    console_tracebacks: bool = True,
) -> RedactingFilter:
    """Send logs to data_dir/logs/antenna.log (and stderr at console_level); return the redaction filter."""
    redactor = RedactingFilter(secrets)
    root = logging.getLogger("antenna")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    root.propagate = False
    formatter = logging.Formatter(_FORMAT)
    if console_level:
        stream = logging.StreamHandler()  # stderr, so --json output on stdout stays clean
        stream.setLevel(console_level)
        stream.setFormatter(formatter if console_tracebacks else _OneLineFormatter(_FORMAT))
        stream.addFilter(redactor)
        root.addHandler(stream)
    if data_dir is not None:
        path = data_dir / LOG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        rotating.setFormatter(formatter)
        rotating.addFilter(redactor)
        root.addHandler(rotating)
    # Third-party loggers write through the same handlers, so the same mask covers URLs they echo.
    for name, floor in (
        ("uvicorn", logging.INFO),
        ("uvicorn.access", logging.WARNING),
        ("apscheduler", logging.WARNING),
        ("alembic", logging.WARNING),
    ):
        logger = logging.getLogger(name)
        logger.handlers = list(root.handlers)
        logger.setLevel(floor)
        logger.propagate = False
    return redactor


class _OneLineFormatter(logging.Formatter):
    """Format only the message line; the traceback stays in the log file."""

    def formatException(self, ei: object) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_text
        record.exc_text = ""
        try:
            return super().format(record).rstrip()
        finally:
            record.exc_text = saved


def log_path(data_dir: Path) -> Path:
    """Return the path of the current log file."""
    return data_dir / LOG_FILE


def recent_activity(data_dir: Path, *, limit: int = 200, min_level: str = "INFO") -> list[ActivityEntry]:
    """Return the newest log entries at min_level or above, newest first, read from the log file."""
    order = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
    floor = order.get(min_level, 20)
    path = log_path(data_dir)
    if not path.exists():
        return []
    entries: list[ActivityEntry] = []
    for line in reversed(_tail_lines(path, 4000)):
        match = _LINE.match(line)
        if not match or order.get(match["level"], 0) < floor:
            continue
        entries.append(ActivityEntry(match["at"], match["level"], match["logger"], match["message"]))
        if len(entries) >= limit:
            break
    return entries


def _tail_lines(path: Path, count: int) -> list[str]:
    # Reading the last ~1 MB is enough for `count` lines and keeps a huge log cheap to show.
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 1_000_000))
        data = handle.read()
    return data.decode("utf-8", errors="replace").splitlines()[-count:]
