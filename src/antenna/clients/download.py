"""Resumable episode downloads: Range + If-Range, retries with backoff, size checks, one-line errors.

Each transfer runs in a worker thread through libcurl (clients/curl.py): the body loop is C with the GIL
released, so three downloads share two cores the way three curl processes do (see BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

from antenna import __version__
from antenna.clients import curl
from antenna.redact import redact

Progress = Callable[[int, int | None], None]
DEFAULT_USER_AGENT = f"Antenna/{__version__}"
PROGRESS_EVERY = 0.25  # seconds: at most ~4 progress calls a second
WRITE_BATCH = 256 * 1024  # bytes gathered per writev(): libcurl hands over 16 KiB at a time; 256 KiB
# measured best (1 MiB and 4 MiB no longer fit the CPU cache and were slower, one write per chunk slowest)
RETRY_AFTER_CAP = 60.0  # seconds: a server may ask us to wait, but not for an hour inside one job
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True)
class DownloadRequest:
    """One file to fetch into dest (a temp file); the bytes already in dest are the resume point.

    key names the content (an episode GUID): a partial file whose sidecar names another key is discarded.
    expected_size (a feed's enclosure length, often wrong) is checked only when the server gives no length.
    """

    url: str
    dest: Path
    expected_size: int | None = None
    key: str = ""


@dataclass(frozen=True)
class DownloadResult:
    """A complete file at path; resumed_from is how many bytes from an earlier run were kept."""

    path: Path
    size: int
    content_type: str
    resumed_from: int
    restarted: bool
    final_url: str


class DownloadError(Exception):
    """A failed download: reason is one sentence without credentials; retryable says if later may work."""

    def __init__(self, reason: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def meta_path(dest: Path) -> Path:
    """Return the sidecar that remembers the validators and total size of a partial download."""
    return dest.with_name(dest.name + ".meta")


def forget(dest: Path) -> None:
    """Remove a partial or finished temp file and its sidecar."""
    for path in (dest, meta_path(dest)):
        path.unlink(missing_ok=True)


def _load_meta(dest: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path(dest).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _describe(exc: curl.TransferError, host: str, timeout: float) -> DownloadError:
    """Turn a libcurl failure into one sentence."""
    code = exc.code
    if code == curl.OPERATION_TIMEDOUT:
        return DownloadError(f"no answer from {host} within {timeout:g} s", retryable=True)
    if code == curl.COULDNT_RESOLVE_HOST:
        return DownloadError(f"could not resolve the host name {host} (DNS lookup failed)", retryable=True)
    if code in curl.TLS_ERRORS:
        detail = exc.message.split(": ", 1)[-1] if ": " in exc.message else exc.message
        return DownloadError(f"TLS handshake with {host} failed: {redact(detail)}", retryable=False)
    if code == curl.UNSUPPORTED_PROTOCOL:
        return DownloadError(f"{host} pointed to a non-HTTP address: {redact(exc.message)}", retryable=False)
    if code == curl.TOO_MANY_REDIRECTS:
        return DownloadError(f"too many redirects from {host}", retryable=False)
    if code == curl.COULDNT_CONNECT:
        reason = os.strerror(exc.os_errno) if exc.os_errno else exc.message
        return DownloadError(f"could not connect to {host}: {redact(reason).lower()}", retryable=True)
    return DownloadError(f"the connection to {host} failed: {redact(exc.message)}", retryable=True)


def _retry_after(value: str) -> float | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError, IndexError):
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    return None


def _content_range(value: str) -> tuple[int | None, int | None]:
    """Return (first byte, total) of a Content-Range header, None where absent or unknown."""
    unit, _, spec = value.strip().partition(" ")
    if unit.lower() != "bytes":
        return None, None
    span, _, total = spec.partition("/")
    first = span.partition("-")[0]
    return (int(first) if first.isdigit() else None), (int(total) if total.isdigit() else None)


class _Cancelled(Exception):
    """The awaiting task was cancelled; the worker thread stops at the next chunk."""


class _Restart(Exception):
    """The answer cannot continue the partial file: the attempt ends and the next one starts over."""


@dataclass
class _Outcome:
    """What one attempt achieved, besides the file on disk."""

    result: DownloadResult | None = None
    start: int | None = None  # where this attempt's bytes began in the file
    received: int = 0
    restart: bool = False


class _Attempt:
    """One HTTP request for a DownloadRequest, run in a worker thread."""

    def __init__(
        self, owner: Downloader, req: DownloadRequest, notify: Progress, cancel: threading.Event
    ) -> None:
        self.owner, self.req, self.notify, self.cancel = owner, req, notify, cancel
        self.host = urlsplit(req.url).hostname or req.url
        self.shown = redact(req.url)
        self.outcome = _Outcome()
        self._offset = 0
        self._allow_restart = True
        self._meta: dict[str, Any] = {}
        self._out: IO[bytes] | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._size = 0
        self._total: int | None = None
        self._next_tick = 0.0

    def run(self, allow_restart: bool) -> _Outcome:
        """Fetch from where dest ends; the file grows even if this raises (the next attempt resumes)."""
        try:
            self._run(allow_restart)
        except _Restart:
            pass
        except curl.TransferError as exc:
            raise self._failed(exc) from None
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                forget(self.req.dest)
                raise DownloadError(f"disk full while writing {self.req.dest}", retryable=False) from None
            raise DownloadError(f"could not write {self.req.dest}: {exc.strerror or exc}", False) from None
        finally:
            if self._out is not None:  # a failed attempt: keep what arrived, the next one resumes after it
                with contextlib.suppress(OSError):
                    self._close()
        return self.outcome

    def _failed(self, exc: curl.TransferError) -> DownloadError:
        if exc.code in curl.DROPPED and self.outcome.start is not None:
            if self._total is None:
                return DownloadError(f"the connection to {self.host} dropped after {self._size} bytes", True)
            return DownloadError(
                f"the server sent {self._size} bytes but announced {self._total} for {self.shown}", True
            )
        return _describe(exc, self.host, self.owner.timeout)

    def _run(self, allow_restart: bool) -> None:
        req, dest = self.req, self.req.dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        meta = _load_meta(dest)
        offset = dest.stat().st_size if dest.exists() else 0
        if offset and (meta.get("key", req.key) != req.key or meta.get("resumable") is False):
            offset = 0  # another episode's bytes, or an encoded body whose offsets mean nothing
        total = meta.get("total") if offset else None
        if isinstance(total, int) and offset > total:
            offset = 0  # longer than the file it claims to be: nothing in it can be trusted
        if isinstance(total, int) and offset == total:
            self._finish(offset, meta, resumed_from=offset, restarted=False, fsync=False)
            return
        headers = {}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            etag = str(meta.get("etag", ""))
            validator = etag if etag and not etag.startswith("W/") else str(meta.get("last_modified", ""))
            if validator:
                headers["If-Range"] = validator
        self._offset, self._allow_restart = offset, allow_restart
        final_url = curl.get(
            req.url,
            headers=headers,
            timeout=self.owner.timeout,
            user_agent=self.owner.user_agent,
            on_head=self._head,
            on_chunk=self._chunk,
        )
        start = self.outcome.start
        if start is None or self.outcome.result is not None or self.outcome.restart:
            return  # answered without a body to keep: a restart, or the file was already complete
        self._close()
        size, total = self._size, self._total
        if total is not None and size != total:
            raise DownloadError(f"the server sent {size} bytes but announced {total} for {self.shown}", True)
        if total is None and req.expected_size and size < req.expected_size:
            raise DownloadError(
                f"the server sent {size} bytes but the feed announced {req.expected_size} for {self.shown}",
                True,
            )
        meta = {**self._meta, "url": final_url}
        self._finish(size, meta, resumed_from=start, restarted=offset > 0 and start == 0, fsync=True)

    def _head(self, head: curl.Head) -> None:
        """Look at the final response before its body: refuse it, or open the file where the body goes."""
        self._check_status(head)
        start, total = self._start_and_total(head)
        if start is None:
            return
        self.outcome.start = start
        self._meta = {
            "key": self.req.key,
            "url": self.req.url,
            "etag": head.headers.get("etag", ""),
            "last_modified": head.headers.get("last-modified", ""),
            "content_type": head.headers.get("content-type", ""),
            "total": total,
            "resumable": "content-encoding" not in head.headers,
        }
        meta_path(self.req.dest).write_text(json.dumps(self._meta))
        out = open(self.req.dest, "ab", buffering=0)  # noqa: SIM115 - closed by run() whatever happens
        self._out = out
        out.truncate(start)
        self._size, self._total = start, total
        self._next_tick = time.monotonic() + PROGRESS_EVERY

    def _chunk(self, chunk: bytes) -> None:
        if self._out is None:
            return  # the body of an answer _head dealt with (a 416 page)
        # One writev() per WRITE_BATCH instead of a write() per 16 KiB: each system call gives the GIL away
        # and takes it back, which the other transfer threads then wait for.
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= WRITE_BATCH:
            self._flush()
        self._size += len(chunk)
        self.outcome.received += len(chunk)
        if self.cancel.is_set():
            raise _Cancelled
        now = time.monotonic()
        if now >= self._next_tick:
            self._next_tick = now + PROGRESS_EVERY
            self.notify(self._size, self._total)

    def _flush(self) -> None:
        assert self._out is not None
        pending, self._pending, self._pending_size = self._pending, [], 0
        if pending:
            written = os.writev(self._out.fileno(), pending)
            total = sum(len(b) for b in pending)
            if written < total:  # a short write (rare on files): write the rest plainly
                self._out.write(b"".join(pending)[written:])

    def _close(self) -> None:
        """Write what is pending and close the file."""
        out = self._out
        if out is None:
            return
        try:
            self._flush()
        finally:
            self._out = None
            out.close()

    def _check_status(self, head: curl.Head) -> None:
        status = head.status
        if status == 416 or status in (200, 206):
            return
        if status >= 400:
            reason = f"HTTP {status} {head.reason} from {self.host}"
            retry_after = _retry_after(head.headers.get("retry-after", ""))
            raise DownloadError(
                reason, retryable=status in RETRY_STATUSES or status >= 500, retry_after=retry_after
            )
        raise DownloadError(f"unexpected HTTP {status} {head.reason} from {self.host}", False)

    def _start_and_total(self, head: curl.Head) -> tuple[int | None, int | None]:
        """Return where this body starts in the file and the file's total size (None, None: handled)."""
        dest, offset = self.req.dest, self._offset
        if head.status == 416:
            _first, total = _content_range(head.headers.get("content-range", ""))
            if offset and total == offset:
                meta = {**_load_meta(dest), "total": total}
                self._finish(offset, meta, resumed_from=offset, restarted=False, fsync=False)
                return None, None
            self._restart(f"{self.host} refused the range bytes={offset}-")
            return None, None
        length = head.headers.get("content-length", "")
        encoded = head.headers.get("content-encoding", "identity").lower() != "identity"
        body_length = int(length) if length.isdigit() and not encoded else None
        if head.status == 200:
            return 0, body_length  # a 200 to a Range request is the whole file again: start over with it
        first, total = _content_range(head.headers.get("content-range", ""))
        if first == 0 or (first == offset and offset):
            return first, total
        if not offset:
            raise DownloadError(f"{self.host} answered a plain request with a partial response", False)
        self._restart(f"{self.host} sent a range starting at {first} instead of {offset}")
        return None, None

    def _restart(self, reason: str) -> None:
        if not self._allow_restart:
            raise DownloadError(reason, retryable=False)
        self.req.dest.unlink(missing_ok=True)
        self.outcome.restart = True
        raise _Restart  # no need to read a body we will not keep

    def _finish(
        self, size: int, meta: dict[str, Any], *, resumed_from: int, restarted: bool, fsync: bool
    ) -> None:
        if fsync:  # the bytes must be on disk before anyone records the episode as downloaded
            with open(self.req.dest, "rb") as done:
                os.fsync(done.fileno())
        meta_path(self.req.dest).write_text(json.dumps({**meta, "total": size}))
        if self.outcome.start is None:
            self.outcome.start = resumed_from
        self.outcome.result = DownloadResult(
            path=self.req.dest,
            size=size,
            content_type=str(meta.get("content_type", "")),
            resumed_from=resumed_from,
            restarted=restarted,
            final_url=str(meta.get("url", self.req.url)),
        )


class Downloader:
    """Fetch files over HTTP with resume, retries and limits on concurrent downloads overall and per host."""

    def __init__(
        self,
        *,
        concurrency: int = 3,
        per_host: int = 2,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 30.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.per_host, self.user_agent = per_host, user_agent
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="antenna-download")

    async def __aenter__(self) -> Downloader:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the worker threads (each transfer closes its own connection)."""
        await asyncio.to_thread(self._threads.shutdown, wait=True)

    async def fetch(self, req: DownloadRequest, progress: Progress | None = None) -> DownloadResult:
        """Download req.url into req.dest (resuming what is there); raise DownloadError when it cannot."""
        host = urlsplit(req.url).hostname or ""
        # Limits go by the feed's host: redirect targets (CDNs, trackers) are not known before the request.
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with self._slots, per_host:
            result = await self._with_retries(req, progress)
        if progress is not None:
            progress(result.size, result.size)
        return result

    async def _with_retries(self, req: DownloadRequest, progress: Progress | None) -> DownloadResult:
        loop = asyncio.get_running_loop()

        def notify(done: int, total: int | None) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, done, total)

        failures, attempts, restarted, allow_restart = 0, 0, False, True
        first_start: int | None = None  # the bytes of an earlier run that the first attempt kept
        while True:
            attempts += 1
            cancel = threading.Event()
            attempt = _Attempt(self, req, notify, cancel)
            future = loop.run_in_executor(self._threads, attempt.run, allow_restart)
            try:
                try:
                    outcome = await asyncio.shield(future)
                finally:
                    if first_start is None:
                        first_start = attempt.outcome.start
            except asyncio.CancelledError:
                cancel.set()  # the thread stops at its next chunk; the partial file stays for a resume
                with contextlib.suppress(BaseException):
                    await asyncio.wait([future])
                raise
            except DownloadError as exc:
                # An attempt that moved the file forward starts the count again: flaky links still finish.
                failures = 1 if attempt.outcome.received else failures + 1
                if not exc.retryable or failures > self.retries or attempts > 4 * (self.retries + 1):
                    raise
                delay = self.backoff * 2 ** (failures - 1)
                if exc.retry_after is not None:
                    delay = min(exc.retry_after, RETRY_AFTER_CAP)
                await asyncio.sleep(delay)
                continue
            if outcome.restart:
                restarted, allow_restart = True, False
                continue
            assert outcome.result is not None
            restarted = restarted or outcome.result.restarted
            resumed_from = 0 if restarted else (first_start or 0)
            return replace(outcome.result, resumed_from=resumed_from, restarted=restarted)
