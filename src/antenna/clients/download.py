"""Resumable episode downloads: Range + If-Range, retries with backoff, size checks, one-line errors.

Each transfer runs in a worker thread with a blocking httpx client: the body loop is then two system calls
per chunk (recv, write) that release the GIL, and three downloads share two cores the way three curl
processes do; the asyncio event-loop path measured at about half that throughput (see BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from antenna import __version__
from antenna.redact import redact

Progress = Callable[[int, int | None], None]
DEFAULT_USER_AGENT = f"Antenna/{__version__}"
READ_SIZE = 256 * 1024  # per recv(); httpcore's 64 KiB costs ~40% throughput in per-read overhead
PROGRESS_EVERY = 0.25  # seconds: at most ~4 progress calls a second
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


class _WideStream(httpcore.NetworkStream):
    """A socket stream that reads READ_SIZE bytes whatever httpcore asks for."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max(max_bytes, READ_SIZE), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _WideStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _WideBackend(httpcore.NetworkBackend):
    """httpcore's socket backend handing out _WideStream connections."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _WideStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))


class _Transport(httpx.HTTPTransport):
    """httpx's transport with wide socket reads (httpx has no network_backend parameter)."""

    def __init__(self, connections: int) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=5.0,
            network_backend=_WideBackend(),
        )


def _describe(exc: httpx.HTTPError, host: str, timeout: float) -> DownloadError:
    """Turn an httpx failure into one sentence, looking at the OS error underneath for DNS and TLS."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        return DownloadError(f"no answer from {host} within {timeout:g} s", retryable=True)
    if any(isinstance(c, socket.gaierror) for c in chain):
        return DownloadError(f"could not resolve the host name {host} (DNS lookup failed)", retryable=True)
    tls = next((c for c in chain if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        detail = getattr(tls, "verify_message", "") or getattr(tls, "reason", "") or type(tls).__name__
        return DownloadError(f"TLS handshake with {host} failed: {detail}", retryable=False)
    if isinstance(exc, httpx.TooManyRedirects):
        return DownloadError(f"too many redirects from {host}", retryable=False)
    if isinstance(exc, httpx.ConnectError):
        reason = next((c.strerror for c in chain if isinstance(c, OSError) and c.strerror), "") or str(exc)
        return DownloadError(f"could not connect to {host}: {redact(reason).lower()}", retryable=True)
    return DownloadError(f"the connection to {host} failed: {redact(str(exc) or type(exc).__name__)}", True)


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

    def run(self, allow_restart: bool) -> _Outcome:
        """Fetch from where dest ends; the file grows even if this raises (the next attempt resumes)."""
        try:
            self._run(allow_restart)
        except httpx.HTTPError as exc:
            failure = _describe(exc, self.host, self.owner.timeout)
            raise failure from None
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                forget(self.req.dest)
                raise DownloadError(f"disk full while writing {self.req.dest}", retryable=False) from None
            raise DownloadError(f"could not write {self.req.dest}: {exc.strerror or exc}", False) from None
        return self.outcome

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
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            etag = str(meta.get("etag", ""))
            validator = etag if etag and not etag.startswith("W/") else str(meta.get("last_modified", ""))
            if validator:
                headers["If-Range"] = validator
        with self.owner.client.stream("GET", req.url, headers=headers) as response:
            self._check_status(response)
            start, total = self._start_and_total(response, offset, allow_restart)
            if start is None:
                return
            self.outcome.start = start
            meta = {
                "key": req.key,
                "url": str(response.url),
                "etag": response.headers.get("etag", ""),
                "last_modified": response.headers.get("last-modified", ""),
                "content_type": response.headers.get("content-type", ""),
                "total": total,
                "resumable": "content-encoding" not in response.headers,
            }
            meta_path(dest).write_text(json.dumps(meta))
            size = self._write_body(response, start, total)
        if total is not None and size != total:
            raise DownloadError(f"the server sent {size} bytes but announced {total} for {self.shown}", True)
        if total is None and req.expected_size and size < req.expected_size:
            raise DownloadError(
                f"the server sent {size} bytes but the feed announced {req.expected_size} for {self.shown}",
                True,
            )
        self._finish(size, meta, resumed_from=start, restarted=offset > 0 and start == 0, fsync=True)

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 416 or status in (200, 206):
            return
        if status >= 400:
            reason = f"HTTP {status} {response.reason_phrase} from {self.host}"
            retry_after = _retry_after(response.headers.get("retry-after", ""))
            raise DownloadError(
                reason, retryable=status in RETRY_STATUSES or status >= 500, retry_after=retry_after
            )
        raise DownloadError(f"unexpected HTTP {status} {response.reason_phrase} from {self.host}", False)

    def _start_and_total(
        self, response: httpx.Response, offset: int, allow_restart: bool
    ) -> tuple[int | None, int | None]:
        """Return where this body starts in the file and the file's total size (None, None: handled)."""
        dest = self.req.dest
        if response.status_code == 416:
            _first, total = _content_range(response.headers.get("content-range", ""))
            if offset and total == offset:
                meta = {**_load_meta(dest), "total": total}
                self._finish(offset, meta, resumed_from=offset, restarted=False, fsync=False)
                return None, None
            self._restart(allow_restart, f"{self.host} refused the range bytes={offset}-")
            return None, None
        length = response.headers.get("content-length", "")
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        body_length = int(length) if length.isdigit() and not encoded else None
        if response.status_code == 200:
            return 0, body_length  # a 200 to a Range request is the whole file again: start over with it
        first, total = _content_range(response.headers.get("content-range", ""))
        if first == 0 or (first == offset and offset):
            return first, total
        if not offset:
            raise DownloadError(f"{self.host} answered a plain request with a partial response", False)
        self._restart(allow_restart, f"{self.host} sent a range starting at {first} instead of {offset}")
        return None, None

    def _restart(self, allow_restart: bool, reason: str) -> None:
        if not allow_restart:
            raise DownloadError(reason, retryable=False)
        self.req.dest.unlink(missing_ok=True)
        self.outcome.restart = True

    def _write_body(self, response: httpx.Response, start: int, total: int | None) -> int:
        chunks: Iterator[bytes]
        if "content-encoding" in response.headers:
            chunks = response.iter_bytes(self.owner.chunk_size)
        else:
            chunks = response.iter_raw()
        size = start
        next_tick = time.monotonic() + PROGRESS_EVERY
        with open(self.req.dest, "ab", buffering=0) as out:
            out.truncate(start)
            try:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                    self.outcome.received += len(chunk)
                    if self.cancel.is_set():
                        raise _Cancelled
                    now = time.monotonic()
                    if now >= next_tick:
                        next_tick = now + PROGRESS_EVERY
                        self.notify(size, total)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if total is None:
                    raise DownloadError(
                        f"the connection to {self.host} dropped after {size} bytes", True
                    ) from exc
                raise DownloadError(
                    f"the server sent {size} bytes but announced {total} for {self.shown}", True
                ) from exc
        return size

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
        chunk_size: int = 1 << 20,
    ) -> None:
        self.retries, self.backoff, self.timeout, self.chunk_size = retries, backoff, timeout, chunk_size
        self.per_host = per_host
        self.client = httpx.Client(
            transport=_Transport(concurrency),
            follow_redirects=True,
            max_redirects=10,
            timeout=timeout,
            headers={"User-Agent": user_agent},
        )
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
        """Close connections and stop the worker threads."""
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        self.client.close()

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
