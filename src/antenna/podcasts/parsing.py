"""Parsing many feeds at once in worker processes: the parsers hold the GIL, so threads cannot share them."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from antenna.formats.feed import Feed, parse_feed

log = logging.getLogger(__name__)


class ParsePool:
    """Parses feeds in up to `workers` processes, started on first use; falls back to this process."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._broken = self._workers < 2  # one core: a worker process would only add copying

    def parse(self, data: bytes, url: str, now: datetime) -> Feed:
        """Parse one feed (FeedError as parse_feed raises it)."""
        pool = self._get()
        if pool is None:
            return parse_feed(data, url, now=now)
        try:
            return pool.submit(parse_feed, data, url, now).result()
        except BrokenProcessPool:
            log.warning("feed parser process died; parsing in this process from now on")
            self._broken = True
            return parse_feed(data, url, now=now)

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._broken:
                # spawn, not fork: the daemon has threads (event loop, scheduler) that fork would copy badly
                self._pool = ProcessPoolExecutor(
                    self._workers, mp_context=multiprocessing.get_context("spawn")
                )
            return None if self._broken else self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
