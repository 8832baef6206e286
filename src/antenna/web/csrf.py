"""CSRF protection for the UI: a per-session token required on every unsafe request with a cookie session."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(request: Request) -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = request.session.get(FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return token


async def csrf_ok(request: Request) -> bool:
    """Return True when the request carries the session's token in the header or the form."""
    expected = request.session.get(FIELD)
    if not isinstance(expected, str):
        return False
    supplied = request.headers.get(HEADER)
    if not supplied:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            supplied = value if isinstance(value, str) else None
    return bool(supplied) and hmac.compare_digest(str(supplied), expected)
