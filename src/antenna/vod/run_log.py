"""A VOD export's debug log: every decision of one run, in a file beside its report (a source's toggle).

Its own logger, not propagated: thousands of lines a run go to that file only, never to the daemon's log.
Credentials are masked like everywhere else (redact), the source's password and user name included.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from antenna.redact import RedactingFilter

LOGGER = logging.getLogger("antenna.vod.debug")
LOGGER.propagate = False


def active() -> bool:
    """Return True while a run records its debug log (callers skip building lines otherwise)."""
    return bool(LOGGER.handlers)


def say(message: str) -> None:
    """Record one line in the running export's debug log, if it has one."""
    if LOGGER.handlers:
        LOGGER.debug(message)


@contextlib.contextmanager
def recording(path: Path | None, secrets: Sequence[str]) -> Iterator[None]:
    """Record the lines said meanwhile into path (None: record nothing). Written as it goes: a failed run's
    log is the one most wanted, so it is not a temp file renamed at the end."""
    if path is None:
        yield
        return
    with open(path, "w", encoding="utf-8", errors="replace") as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        handler.addFilter(RedactingFilter(secrets))
        LOGGER.addHandler(handler)
        LOGGER.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            LOGGER.removeHandler(handler)
            LOGGER.setLevel(logging.NOTSET)
