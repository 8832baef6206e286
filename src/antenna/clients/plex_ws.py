"""Plex's notification websocket: parsed messages out, one-line Antenna errors when it fails."""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncGenerator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from antenna.clients.plex_http import DOWN_HINT, TLS_HINT, TOKEN_HINT, one_line, short_reason
from antenna.errors import Unavailable, UserError
from antenna.redact import redact

log = logging.getLogger(__name__)

NOTIFICATIONS_PATH = "/:/websockets/notifications"


@dataclass(frozen=True)
class Notification:
    """One message of the notification stream; type "invalid" carries why in `error`."""

    type: str
    items: tuple[dict[str, Any], ...]
    error: str = ""


class _RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """The websockets logger with the token masked: at DEBUG it logs every handshake header."""

    def __init__(self, token: str) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})
        self._token = token

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Render the message, mask the token and any secret parameter, then log it."""
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = str(msg)
        kwargs.pop("extra", None)
        self.logger.log(level, "%s", redact(text, [self._token]), **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        """Pass messages through unchanged (log() has already masked them)."""
        return msg, kwargs


def websocket_url(url: str) -> str:
    """Return the notification endpoint for a server URL (http -> ws, https -> wss)."""
    parts = urlsplit(url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + NOTIFICATIONS_PATH, "", ""))


def parse_notification(raw: str | bytes) -> Notification:
    """Parse one websocket message; garbage becomes a Notification of type "invalid"."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Notification("invalid", (), error=f"not JSON: {one_line(str(exc))[:120]}")
    container = data.get("NotificationContainer") if isinstance(data, dict) else None
    if not isinstance(container, dict):
        return Notification("invalid", (), error="no NotificationContainer")
    kind = container.get("type")
    if not isinstance(kind, str) or not kind:
        return Notification("invalid", (), error="NotificationContainer has no type")
    found: list[dict[str, Any]] = []
    for key, value in container.items():
        if not (key.endswith("Notification") or key == "TimelineEntry"):
            continue
        entries = value if isinstance(value, list) else [value]
        found.extend(entry for entry in entries if isinstance(entry, dict))
    return Notification(kind, tuple(found))


def _tls_context(url: str, verify_tls: bool) -> ssl.SSLContext | None:
    """Return the TLS context for wss:// (None for ws://, where websockets refuses one)."""
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context()
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _open(url: str, token: str, verify_tls: bool, open_timeout: float) -> ClientConnection:
    """Connect, turning every handshake failure into an Antenna error."""
    ws_url = websocket_url(url)
    try:
        return await connect(
            ws_url,
            # In a header, not ?X-Plex-Token=, so the token stays out of URLs and access logs.
            additional_headers={"X-Plex-Token": token, "Accept": "application/json"},
            ssl=_tls_context(ws_url, verify_tls),
            open_timeout=open_timeout,
            max_size=8 * 2**20,
            proxy=None,
            logger=_RedactingLogger(token),
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status == 401:
            raise UserError(f"Plex at {url} rejected the token (401 Unauthorized)", TOKEN_HINT) from None
        raise Unavailable(
            f"Plex at {url} refused the notification websocket ({status})", "It will be retried"
        ) from None
    except ssl.SSLError as exc:
        detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        reason = one_line(redact(str(detail), [token]))
        raise UserError(f"TLS check failed for {url}: {reason}", TLS_HINT) from None
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        reason = one_line(redact(short_reason(exc), [token]))
        raise Unavailable(f"Plex at {url} notifications do not answer: {reason}", DOWN_HINT) from None


async def notifications(
    url: str, token: str, *, verify_tls: bool = True, open_timeout: float = 10.0
) -> AsyncGenerator[Notification, None]:
    """Yield notifications until the connection drops, which raises Unavailable (reconnect with backoff).

    The first item is always Notification("connected", ()) so the caller knows the websocket is live.
    """
    url = url.rstrip("/")
    connection = await _open(url, token, verify_tls, open_timeout)
    try:
        yield Notification("connected", ())
        while True:
            try:
                raw = await connection.recv()
            except ConnectionClosed as exc:
                reason = f"closed ({exc.rcvd.code})" if exc.rcvd else "connection lost"
                raise Unavailable(f"Plex at {url} closed the notification websocket: {reason}") from None
            notification = parse_notification(raw)
            if notification.type == "invalid":
                log.debug("Plex at %s sent an unusable notification: %s", url, notification.error)
            yield notification
    finally:
        await connection.close()
