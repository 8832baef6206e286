"""A real HTTP media server for tests: files with Range, ETag, conditional GET, broken behaviours by path.

Paths are `/<name>` or behaviour prefixes before it, which may be chained (`/redirect/2/throttle/1000/a.mp3`):

- `/throttle/<bytes_per_sec>/…`  send the body at about that rate
- `/drop/<after_bytes>/…`        close the connection after that many body bytes, the first time this exact
                                 path is asked for (a resume then succeeds); `/dropevery/<n>/…` every time
- `/lie/…`                       announce 1000 bytes more than the file has (in Content-Range too), then close
- `/norange/…`                   ignore Range and If-Range: always 200 with the whole file
- `/badrange/…`                  answer a Range request with a 206 that starts at half the asked offset
- `/redirect/<n>/…`              n 302 hops, then the rest of the path
- `/moved/…`                     a 301 (permanent) to the rest of the path
- `/slow-headers/<seconds>/…`    wait before sending the status line
- `/status/<code>`               answer that status (`?retry_after=N` adds a Retry-After header)

Every request is logged (method, path, Range, status, body bytes sent), and the server keeps the high-water
mark of requests being answered at the same time.
"""

from __future__ import annotations

import contextlib
import email.utils
import mimetypes
import os
import random
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

LIE_EXTRA = 1000
TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".mp4": "video/mp4", ".rss": "application/rss+xml"}
EPOCH = 1_700_000_000  # Last-Modified of version 0 of every file; each set_content adds a second


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it."""

    method: str
    path: str
    range: str
    if_range: str
    status: int
    sent: int  # body bytes written to the socket


@dataclass
class _File:
    path: Path
    size: int
    version: int
    content_type: str

    @property
    def etag(self) -> str:
        return f'"{self.size:x}-{self.version}"'

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(EPOCH + self.version, usegmt=True)


@dataclass
class _Plan:
    """What a path asks for once its behaviour prefixes are read."""

    name: str = ""
    rate: int = 0
    drop_after: int = -1
    drop_every: bool = False
    lie: bool = False
    norange: bool = False
    badrange: bool = False
    redirects: int = 0
    moved: bool = False
    delay: float = 0.0
    status: int = 0


def _plan(path: str) -> _Plan:
    plan, parts = _Plan(), [p for p in path.split("/") if p]
    while parts:
        head = parts.pop(0)
        if head == "throttle":
            plan.rate = int(parts.pop(0))
        elif head in ("drop", "dropevery"):
            plan.drop_after, plan.drop_every = int(parts.pop(0)), head == "dropevery"
        elif head in ("lie", "norange", "badrange"):
            setattr(plan, head, True)
        elif head in ("redirect", "moved"):
            plan.redirects, plan.moved = (int(parts.pop(0)), False) if head == "redirect" else (1, True)
            plan.name = "/".join(parts)
            return plan
        elif head == "slow-headers":
            plan.delay = float(parts.pop(0))
        elif head == "status":
            plan.status = int(parts.pop(0))
        else:
            plan.name = "/".join([head, *parts])
            return plan
    return plan


class MediaServer:
    """Serve files from a directory on 127.0.0.1 in a background thread; see the module docstring."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="mediaserver-"))
        self._files: dict[str, _File] = {}
        self._lock = threading.Lock()
        self._logged = threading.Condition(self._lock)
        self._unlogged = 0  # requests begun and not yet in the log
        self._log: list[Logged] = []
        self._dropped: set[str] = set()
        self._active = 0
        self.max_concurrent = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mediaserver", daemon=True)

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """Return the full URL of a path such as "a.mp3" or "/drop/1000/a.mp3"."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> MediaServer:
        """Start answering requests."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and remove its directory if it made it."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def add_file(
        self, name: str, data: bytes | None = None, *, size: int = 0, content_type: str = ""
    ) -> Path:
        """Serve data (or `size` pseudo-random bytes seeded by name) as /name; return its path."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            if data is not None:
                out.write(data)
            else:
                rng, left = random.Random(name), size
                while left > 0:
                    out.write(rng.randbytes(min(left, 1 << 20)))
                    left -= 1 << 20
        kind = content_type or TYPES.get(path.suffix) or mimetypes.guess_type(name)[0]
        old = self._files.get(name)
        with self._lock:
            self._files[name] = _File(
                path, path.stat().st_size, old.version + 1 if old else 0, kind or "application/octet-stream"
            )
        return path

    def set_content(self, name: str, data: bytes) -> None:
        """Replace a file's bytes: its ETag and Last-Modified change (conditional GETs then return 200)."""
        kind = self._files[name].content_type if name in self._files else ""
        self.add_file(name, data, content_type=kind)

    def data(self, name: str) -> bytes:
        """Return the bytes served as /name."""
        return self._files[name].path.read_bytes()

    def log(self, settle: float = 2.0) -> list[Logged]:
        """Return the requests answered so far.

        A handler logs its request after the last byte has gone out, so a client can hold the whole answer
        before the entry exists: wait up to ``settle`` seconds for requests in progress to be logged.
        """
        with self._logged:
            self._logged.wait_for(lambda: self._unlogged == 0, timeout=settle)
            return list(self._log)

    def requests_for(self, name: str, method: str = "GET") -> list[Logged]:
        """Return the logged requests with this method whose path ends in /name."""
        return [r for r in self.log() if r.method == method and r.path.split("?")[0].endswith("/" + name)]

    def sent(self, name: str) -> int:
        """Return the body bytes sent for paths ending in /name, over all requests."""
        return sum(r.sent for r in self.requests_for(name))

    def reset(self) -> None:
        """Clear the log, the high-water mark and the drop-once memory."""
        with self._lock:
            self._log.clear()
            self._dropped.clear()
            self.max_concurrent = self._active

    def _enter(self) -> None:
        with self._lock:
            self._unlogged += 1
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)

    def _release(self) -> None:
        with self._lock:
            self._active -= 1

    def _leave(self, entry: Logged) -> None:
        with self._logged:
            self._log.append(entry)
            self._unlogged -= 1
            self._logged.notify_all()

    def _lookup(self, name: str) -> _File | None:
        with self._lock:
            return self._files.get(name)

    def _should_drop(self, path: str, every: bool) -> bool:
        with self._lock:
            if every or path not in self._dropped:
                self._dropped.add(path)
                return True
            return False


def _handler(server: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        media = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    media: MediaServer
    _busy = False

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet; the request log is what tests read."""

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        self.media._enter()
        self._busy = True
        status, sent = 500, 0
        try:
            status, sent = self._answer(body)
        except OSError:  # the client went away while we sent the headers
            self.close_connection = True
        finally:
            self._done()
            self.media._leave(
                Logged(
                    self.command,
                    self.path,
                    self.headers.get("Range", ""),
                    self.headers.get("If-Range", ""),
                    status,
                    sent,
                )
            )

    def _answer(self, body: bool) -> tuple[int, int]:
        url = urlsplit(self.path)
        plan = _plan(url.path)
        if plan.delay:
            time.sleep(plan.delay)
        if plan.status:
            return self._status(plan.status, parse_qs(url.query).get("retry_after", [""])[0])
        if plan.redirects:
            rest = f"/redirect/{plan.redirects - 1}/{plan.name}" if plan.redirects > 1 else f"/{plan.name}"
            self.send_response(301 if plan.moved else 302)
            self.send_header("Location", rest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return (301 if plan.moved else 302), 0
        file = self.media._lookup(plan.name)
        if file is None:
            return self._status(404)
        if self._not_modified(file):
            self.send_response(304)
            self.send_header("ETag", file.etag)
            self.send_header("Last-Modified", file.last_modified)
            self.end_headers()
            return 304, 0
        total = file.size + (LIE_EXTRA if plan.lie else 0)
        start = self._range_start(file, plan)
        if start is not None and start >= total:
            return self._status(416, content_range=f"bytes */{total}")
        status = 200 if start is None else 206
        first = 0 if start is None else (start // 2 if plan.badrange else start)
        self.send_response(status)
        self.send_header("Content-Type", file.content_type)
        self.send_header("Content-Length", str(total - first))
        self.send_header("ETag", file.etag)
        self.send_header("Last-Modified", file.last_modified)
        if not plan.norange:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{total - 1}/{total}")
        self.end_headers()
        if not body:
            return status, 0
        limit = file.size - first
        if plan.drop_after >= 0 and self.media._should_drop(self.path, plan.drop_every):
            limit = min(limit, plan.drop_after)
        sent = self._send_file(file, first, limit, plan.rate)
        if sent < total - first:  # a drop or a lie: the client must see the connection end early
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        return status, sent

    def _done(self) -> None:
        """Stop counting this request as active (before its last byte: a client's next one never overlaps)."""
        if self._busy:
            self._busy = False
            self.media._release()

    def _not_modified(self, file: _File) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return file.etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since:
            with contextlib.suppress(TypeError, ValueError):
                return email.utils.parsedate_to_datetime(since).timestamp() >= EPOCH + file.version
        return False

    def _range_start(self, file: _File, plan: _Plan) -> int | None:
        value = self.headers.get("Range", "")
        if plan.norange or not value.startswith("bytes=") or "," in value:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range not in (file.etag, file.last_modified):
            return None  # the file changed since the client's partial copy: send all of it
        first = value[len("bytes=") :].partition("-")[0]
        return int(first) if first.isdigit() else None

    def _status(self, code: int, retry_after: str = "", content_range: str = "") -> tuple[int, int]:
        try:
            payload = f"{code} {HTTPStatus(code).phrase}\n".encode()
        except ValueError:
            payload = f"{code}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        if retry_after:
            self.send_header("Retry-After", retry_after)
        if content_range:
            self.send_header("Content-Range", content_range)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        return code, 0

    def _send_file(self, file: _File, first: int, limit: int, rate: int) -> int:
        """Send up to limit bytes from first; return how many went out (fewer if the client left)."""
        sent = 0
        try:
            with file.path.open("rb") as src:
                src.seek(first)
                if not rate and limit == file.size - first:
                    self._done()
                    self.wfile.flush()
                    # sendfile keeps the server out of the way when benchmarks measure the client
                    while sent < limit:
                        n = os.sendfile(self.connection.fileno(), src.fileno(), first + sent, limit - sent)
                        if n == 0:
                            break
                        sent += n
                    return sent
                step = max(1, rate // 20) if rate else 1 << 20
                while sent < limit:
                    chunk = src.read(min(step, limit - sent))
                    if not chunk:
                        break
                    if sent + len(chunk) >= limit:
                        self._done()
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if rate and sent < limit:
                        time.sleep(len(chunk) / rate)
        except OSError:  # the client hung up (a test killed it, or it gave up): log what went out
            self.close_connection = True
        return sent


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    """A started MediaServer with an empty directory of its own."""
    server = MediaServer().start()
    try:
        yield server
    finally:
        server.stop()
