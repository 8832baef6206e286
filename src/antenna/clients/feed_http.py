"""HTTP for podcast feeds, artwork and directory search: one pooled client, conditional GET, clear errors."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from antenna import __version__
from antenna.errors import Unavailable, UserError
from antenna.redact import redact

DEFAULT_USER_AGENT = f"Antenna/{__version__} (podcasts)"
MAX_FEED_BYTES = 64 * 1024 * 1024  # a 5,000-item feed is ~10 MB; anything far bigger is not a feed
MAX_IMAGE_BYTES = 20 * 1024 * 1024


class FeedGone(UserError):
    """The server says the feed is gone for good (410)."""

    http_status = 410


@dataclass(frozen=True, slots=True)
class FeedResponse:
    """A feed answer: 304 carries no body; permanent_redirect is where a 301/308 sent us."""

    status: int
    url: str
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    permanent_redirect: str = ""

    @property
    def unchanged(self) -> bool:
        """Return True for 304 Not Modified."""
        return self.status == 304


class FeedHttp:
    """GETs feeds, images and directory searches over one connection pool (safe to share between threads)."""

    def __init__(self, *, user_agent: str = "", timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._client = httpx.Client(
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": user_agent or DEFAULT_USER_AGENT, "Accept-Encoding": "gzip"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get_feed(self, url: str, *, etag: str = "", last_modified: str = "") -> FeedResponse:
        """GET a feed, conditionally when etag/last_modified are known."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response, body = self._get(url, headers, MAX_FEED_BYTES)
        return FeedResponse(
            status=response.status_code,
            url=str(response.url),
            body=body,
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
            content_type=response.headers.get("content-type", ""),
            permanent_redirect=_permanent_target(response),
        )

    def get_bytes(self, url: str, *, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
        """GET a small resource (artwork, search results) whole."""
        return self._get(url, {}, max_bytes)[1]

    def get_json_bytes(self, url: str, params: dict[str, str]) -> bytes:
        """GET a directory search answer."""
        request_url = str(httpx.URL(url, params=params))
        return self._get(request_url, {"Accept": "application/json"}, MAX_FEED_BYTES)[1]

    def _get(self, url: str, headers: dict[str, str], max_bytes: int) -> tuple[httpx.Response, bytes]:
        shown = redact(url)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 410:
                    raise FeedGone(
                        f"{shown} is gone (410).", "The publisher removed it; delete the subscription."
                    )
                if response.status_code >= 400:
                    raise Unavailable(f"{shown} answered {response.status_code} {response.reason_phrase}.")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes(256 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UserError(
                            f"{shown} is larger than {max_bytes // (1024 * 1024)} MB.",
                            "This is not a podcast feed or image.",
                        )
                    chunks.append(chunk)
                return response, b"".join(chunks)
        except httpx.TimeoutException:
            raise Unavailable(f"{shown} did not answer within {self._timeout:g} s.") from None
        except httpx.ConnectError as exc:
            raise Unavailable(f"{shown} cannot be reached: {_reason(exc)}.") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"{shown} could not be fetched: {_reason(exc)}.") from None


def _permanent_target(response: httpx.Response) -> str:
    """Return the final URL when the chain began with a permanent redirect (the feed moved for good)."""
    if response.history and response.history[0].status_code in (301, 308):
        return str(response.url)
    return ""


def _reason(exc: Exception) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate problem ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS problem ({cause.reason or cause})"
        cause = cause.__cause__ or cause.__context__
    return redact(str(exc) or type(exc).__name__)
