"""Plex HTTP plumbing: one-line Antenna errors for every way a request to Plex can fail."""

from __future__ import annotations

import os
import re
import warnings
from http import HTTPStatus as _Status
from typing import Any
from xml.etree.ElementTree import ParseError

import requests
from plexapi.exceptions import BadRequest, PlexApiException, Unauthorized
from plexapi.exceptions import NotFound as PlexNotFound
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning

from antenna.errors import NotFound, Unavailable, UserError
from antenna.redact import redact

TOKEN_HINT = "Copy a fresh X-Plex-Token from Plex Web (Get Info → View XML, the X-Plex-Token in the address)"
TLS_HINT = "Use the server's plex.direct URL, or turn off TLS verification for this server"
DOWN_HINT = "Check the URL and that the server is running"


class HttpStatus(Exception):
    """A non-2xx answer to a request made outside plexapi."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


# Everything a Plex request raises for server trouble; anything else is a bug and propagates.
PLEX_FAILURES = (PlexApiException, requests.exceptions.RequestException, ParseError, HttpStatus)


class InsecureAdapter(HTTPAdapter):
    """Skip certificate checks and silence urllib3's warning, for the one session it is mounted on."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Send unverified; the user turned TLS verification off for this server."""
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override session.verify=False; this does not.
        kwargs["verify"] = False
        # Per request, so the filter never covers other sessions in the process.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            return super().send(request, *args, **kwargs)


def one_line(message: str) -> str:
    """Collapse whitespace so a message fits on one line."""
    return " ".join(message.split())


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
# Most useful first: the verify complaint, then a hostname mismatch, then any [SSL: ...] reason.
_SSL = (
    re.compile(r"certificate verify failed[^'\")(]*"),
    re.compile(r"hostname [^'\")(]*"),
    re.compile(r"\[SSL[^\]]*\][^'\")(]*"),
)


def short_reason(exc: BaseException) -> str:
    """Return the innermost useful words of a network error ("connection refused", "timed out")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            # asyncio words its strerror "Connect call failed (...)"; the errno says what happened.
            return os.strerror(current.errno).lower()
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror).strip().lower()
        current = current.__cause__ or current.__context__
    message = str(exc)
    if "timed out" in message.lower() or isinstance(exc, TimeoutError | requests.exceptions.Timeout):
        return "timed out"
    match = _ERRNO.search(message)
    if match:
        return match.group(1).strip().lower()
    return one_line(message)[:160] or type(exc).__name__


def ssl_reason(exc: BaseException) -> str:
    """Return the certificate complaint of a TLS error."""
    message = str(exc)
    for pattern in _SSL:
        match = pattern.search(message)
        if match:
            return one_line(match.group(0)).strip().rstrip(".")
    return one_line(message)[:160]


def status_of(exc: BaseException) -> int:
    """Return the HTTP status of a failure, 0 when it has none (plexapi writes "(503) name; url ...")."""
    if isinstance(exc, HttpStatus):
        return exc.status
    match = re.match(r"\((\d{3})\)", str(exc))
    return int(match.group(1)) if match else 0


def status_error(url: str, status: int) -> UserError:
    """Return the error for an HTTP status Plex answered with."""
    if status == 401:
        return UserError(f"Plex at {url} rejected the token (401 Unauthorized)", TOKEN_HINT)
    if status == 404:
        return NotFound(f"Plex at {url} has no such item (404)")
    if status in (0, 400, 503):
        # Plex answers 503, and some builds 400, while it starts up or runs a database migration.
        return Unavailable(
            f"Plex at {url} is starting or busy ({status or 'bad request'})", "It will be retried"
        )
    try:
        label = _Status(status).phrase
    except ValueError:
        label = "error"
    if status >= 500:
        return Unavailable(f"Plex at {url} failed ({status} {label})", "It will be retried")
    return UserError(f"Plex at {url} refused the request ({status} {label})")


def to_error(exc: BaseException, url: str, token: str) -> UserError:
    """Translate a failure from one of PLEX_FAILURES into a one-line Antenna error without the token."""
    if isinstance(exc, Unauthorized):
        error = status_error(url, 401)
    elif isinstance(exc, PlexNotFound):
        error = status_error(url, 404)
    elif isinstance(exc, BadRequest | HttpStatus):
        error = status_error(url, status_of(exc))
    elif isinstance(exc, requests.exceptions.SSLError):
        error = UserError(f"TLS check failed for {url}: {ssl_reason(exc)}", TLS_HINT)
    elif isinstance(exc, requests.exceptions.RequestException):
        error = Unavailable(f"Plex at {url} does not answer: {short_reason(exc)}", DOWN_HINT)
    elif isinstance(exc, ParseError):
        error = Unavailable(f"Plex at {url} answered with malformed XML", "It will be retried")
    else:
        error = Unavailable(f"Plex at {url} failed: {one_line(str(exc))[:160]}", "It will be retried")
    error.message = one_line(redact(error.message, [token]))
    error.args = (error.message,)
    return error
