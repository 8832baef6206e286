"""The JobContext a running job sees: progress, item failures and cancellation, safe from any thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from antenna.db.repos.jobs import JobRepository
from antenna.jobs.models import JobCancelled

# Progress is stored at most this often; every report still goes on the bus at once.
STORE_EVERY_SECONDS = 0.5


class RunContext:
    """Implements JobContext for one running job."""

    def __init__(
        self,
        job_id: int,
        params: dict[str, Any],
        repo: JobRepository,
        publish: Callable[[int, int, int, str], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._job_id = job_id
        self._params = params
        self._repo = repo
        self._publish = publish
        self._clock = clock
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._stored_at = 0.0
        self.shutting_down = False
        self.foreground = False
        self.done = 0
        self.total = 0
        self.message = ""

    @property
    def job_id(self) -> int:
        """Return the id of the running job."""
        return self._job_id

    @property
    def params(self) -> dict[str, Any]:
        """Return the parameters the job was started with."""
        return self._params

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress: published at once, stored at most every half second."""
        with self._lock:
            self.done, self.total = done, total
            if message:
                self.message = message
            now = time.monotonic()
            store = now - self._stored_at >= STORE_EVERY_SECONDS or (total > 0 and done >= total)
            if store:
                self._stored_at = now
        if store:
            self._repo.progress(self._job_id, done, total, self.message)
        self._publish(self._job_id, done, total, self.message)

    def item_failed(self, item: str, reason: str) -> None:
        """Record a failed item; the job goes on."""
        self._repo.record_failure(self._job_id, item, reason, now=self._clock())

    def request_cancel(self) -> None:
        """Ask the job to stop at its next check (a user cancelled it)."""
        self._cancel.set()

    def request_shutdown(self) -> None:
        """Ask the job to stop because Antenna stops; it ends interrupted, not cancelled."""
        self.shutting_down = True
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Return True once the job was asked to stop."""
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise JobCancelled when the job was asked to stop."""
        if self._cancel.is_set():
            raise JobCancelled(f"job {self._job_id} was cancelled")
