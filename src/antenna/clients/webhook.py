"""POST a JSON body to a webhook URL and report the HTTP status."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from antenna.errors import Unavailable
from antenna.redact import redact


async def post_json(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Return the HTTP status of one POST; raise Unavailable when the receiver cannot be reached."""
    shown = redact(url)
    try:
        if client is not None:
            response = await client.post(url, content=body, headers=dict(headers), timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as own:
                response = await own.post(url, content=body, headers=dict(headers))
    except httpx.TimeoutException:
        # `from None`: httpx's own message may repeat the URL with its credentials
        raise Unavailable(f"webhook {shown} did not answer within {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise Unavailable(f"webhook {shown} cannot be reached ({_reason(exc)})") from None
    except httpx.UnsupportedProtocol:
        raise Unavailable(f"webhook {shown} is not a usable http:// or https:// URL") from None
    except httpx.InvalidURL:
        raise Unavailable(f"webhook URL {shown} is not valid") from None
    except httpx.HTTPError as exc:
        raise Unavailable(f"webhook {shown} failed ({_reason(exc)})") from None
    return response.status_code


def _reason(exc: Exception) -> str:
    """Return a short, redacted cause of a transport error."""
    text = str(exc).strip()
    return redact(text) if text else exc.__class__.__name__
