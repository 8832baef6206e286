"""One HTTP(S) GET through libcurl (pycurl): the final response's head first, then its body in chunks.

Downloads use libcurl rather than httpx because the body loop then runs in C with the GIL released: three
concurrent downloads measured at 44% of curl's throughput through httpx (h11 copies every chunk three times
in Python) and at curl's own through libcurl with batched writes (see BENCHMARKS.md). Feeds and APIs stay on
httpx.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from dataclasses import dataclass, field

import certifi
import pycurl

BUFFER_SIZE = 4 * 1024 * 1024  # per recv(): 763 MB/s against 697 MB/s with 512 KiB in the benchmark
# (libcurl still hands the body over 16 KiB at a time whatever this is; see download.WRITE_BATCH)

# libcurl error codes this module gives names to (curl/curl.h).
UNSUPPORTED_PROTOCOL = 1  # also a redirect to file://, ftp:// and the like
COULDNT_RESOLVE_HOST = 6
COULDNT_CONNECT = 7
PARTIAL_FILE = 18
WRITE_ERROR = 23
OPERATION_TIMEDOUT = 28
TOO_MANY_REDIRECTS = 47
GOT_NOTHING = 52
SEND_ERROR = 55
RECV_ERROR = 56
TLS_ERRORS = frozenset({35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98})
DROPPED = frozenset({PARTIAL_FILE, GOT_NOTHING, SEND_ERROR, RECV_ERROR})


@dataclass
class Head:
    """The final response's status line and headers (names lower-cased; a repeated header keeps the last)."""

    status: int = 0
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class TransferError(Exception):
    """libcurl gave up: its error code, its message, and the OS errno underneath (0 when none)."""

    def __init__(self, code: int, message: str, os_errno: int) -> None:
        super().__init__(message)
        self.code, self.message, self.os_errno = code, message, os_errno


class _Headers:
    """Collects header lines; a new status line (a redirect's next hop, a 100 Continue) starts over."""

    def __init__(self) -> None:
        self.head = Head()
        self.complete = False  # the blank line after the current head's headers has arrived

    def line(self, raw: bytes) -> None:
        text = raw.decode("iso-8859-1").rstrip("\r\n")
        if text.startswith("HTTP/"):
            parts = text.split(" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            reason = parts[2] if len(parts) > 2 else ""
            if not reason:  # HTTP/2 has no reason phrase
                try:
                    reason = http.HTTPStatus(status).phrase
                except ValueError:
                    reason = ""
            self.head = Head(status, reason)
            self.complete = False
            return
        if not text:
            self.complete = True
            return
        name, sep, value = text.partition(":")
        if sep and name and not name[0].isspace():
            self.head.headers[name.strip().lower()] = value.strip()


def get(
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    user_agent: str,
    on_head: Callable[[Head], None],
    on_chunk: Callable[[bytes], None],
    max_redirects: int = 10,
) -> str:
    """GET url following redirects; call on_head once, then on_chunk per body chunk; return the final URL.

    An exception raised by a callback stops the transfer and is raised here as it was; libcurl's own
    failures raise TransferError. Only http and https are followed, whatever a redirect says.
    """
    collected = _Headers()
    failure: list[BaseException] = []
    started = False

    def begin() -> None:
        nonlocal started
        started = True
        on_head(collected.head)

    def write(chunk: bytes) -> int | None:
        try:
            if not started:
                begin()
            on_chunk(chunk)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller after perform()
            failure.append(exc)
            return 0  # fewer bytes than given: libcurl stops with CURLE_WRITE_ERROR
        return None

    curl = pycurl.Curl()
    try:
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.FOLLOWLOCATION, 1)
        curl.setopt(pycurl.MAXREDIRS, max_redirects)
        curl.setopt(pycurl.USERAGENT, user_agent)
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in headers.items()])
        # Ask for the file as stored; a server that encodes it anyway is decoded by libcurl.
        curl.setopt(pycurl.ACCEPT_ENCODING, "identity")
        curl.setopt(pycurl.CAINFO, certifi.where())
        curl.setopt(pycurl.NOSIGNAL, 1)  # worker threads: no SIGALRM for DNS timeouts
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(timeout * 1000)))
        # No byte for `timeout` seconds (whole seconds, at least 1) is a timeout, as httpx's read timeout.
        curl.setopt(pycurl.LOW_SPEED_LIMIT, 1)
        curl.setopt(pycurl.LOW_SPEED_TIME, max(1, round(timeout)))
        curl.setopt(pycurl.BUFFERSIZE, BUFFER_SIZE)
        curl.setopt(pycurl.HEADERFUNCTION, collected.line)
        curl.setopt(pycurl.WRITEFUNCTION, write)
        try:
            curl.perform()
        except pycurl.error as exc:
            if failure:
                raise failure[0] from None
            code, message = exc.args if len(exc.args) == 2 else (0, str(exc))
            if not started and collected.complete and 200 <= collected.head.status < 300:
                begin()  # the head came and the body did not: the caller still learns what was announced
            raise TransferError(int(code), str(message), int(curl.getinfo(pycurl.OS_ERRNO))) from None
        if failure:
            raise failure[0]
        if not started:
            begin()  # an empty body: the head still has to be looked at
        final = curl.getinfo(pycurl.EFFECTIVE_URL)
        return str(final) if final else url
    finally:
        curl.close()
