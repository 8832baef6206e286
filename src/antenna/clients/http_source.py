"""HTTP downloads of playlists and guides: conditional GET, redirects, gzip, a User-Agent, one-line errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from antenna import __version__
from antenna.errors import Unavailable, UserError
from antenna.redact import redact

DEFAULT_USER_AGENT = f"Antenna/{__version__}"
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """The answer to a (conditional) GET: 304 means unchanged and carries no body."""

    status: int
    url: str  # after redirects
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    permanent_redirect: str = ""  # where a 301/308 sent us, to update the stored URL

    @property
    def unchanged(self) -> bool:
        """Return True for 304 Not Modified."""
        return self.status == 304


@contextlib.contextmanager
def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    user_agent: str = "",
    timeout: float = 60.0,
    secrets: tuple[str, ...] = (),
) -> Iterator[tuple[Fetched, Iterator[bytes]]]:
    """GET url and yield (what came back, the body in chunks); errors are one line with credentials masked."""
    headers = {"User-Agent": user_agent or DEFAULT_USER_AGENT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    shown = redact(url, secrets)
    try:
        with (
            httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            permanent = ""
            for hop in response.history:
                if hop.status_code in (301, 308):
                    permanent = str(hop.headers.get("location") and response.url)
            if response.status_code == 410:
                raise UserError(
                    f"{shown} is gone (410).", "The provider removed it; update or delete the source."
                )
            if response.status_code >= 400:
                raise Unavailable(f"{shown} answered {response.status_code} {response.reason_phrase}.")
            fetched = Fetched(
                status=response.status_code,
                url=str(response.url),
                etag=response.headers.get("etag", ""),
                last_modified=response.headers.get("last-modified", ""),
                content_type=response.headers.get("content-type", ""),
                permanent_redirect=permanent,
            )
            yield fetched, response.iter_bytes(CHUNK)
    except httpx.TimeoutException:
        raise Unavailable(f"{shown} did not answer within {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        raise Unavailable(
            f"{shown} could not be fetched: {redact(str(exc) or type(exc).__name__, secrets)}."
        ) from None
