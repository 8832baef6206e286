"""Helpers for tests that drive the web app through FastAPI's TestClient: login, CSRF token, HTMX headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "correct horse"  # the admin password the web tests set


def csrf_of(html: str) -> str:
    """Return the CSRF token a page carries (a login form field, or the HTMX headers in the page)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', html
    )
    assert match
    return match.group(1)


def htmx_headers(client: TestClient, page: str) -> dict[str, str]:
    """Log in and return the headers an HTMX request from page sends."""
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 303
    return {"X-CSRF-Token": csrf_of(client.get(page).text), "HX-Request": "true"}
