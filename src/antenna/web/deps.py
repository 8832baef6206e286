"""FastAPI dependencies: the container, login and API-key checks, CSRF."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from antenna.container import Container
from antenna.errors import AuthError
from antenna.web.auth import AuthService
from antenna.web.csrf import SAFE_METHODS, csrf_ok


class LoginRequired(Exception):
    """Raised for a UI request without a logged-in session; answered with a redirect to /login."""


class CsrfFailed(Exception):
    """Raised for an unsafe UI request without the session's CSRF token; answered with 403."""


def get_container(request: Request) -> Container:
    """Return the app's container."""
    container: Container = request.app.state.container
    return container


def get_auth(request: Request) -> AuthService:
    """Return the app's auth service."""
    auth: AuthService = request.app.state.auth
    return auth


ContainerDep = Annotated[Container, Depends(get_container)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


async def require_login(request: Request) -> None:
    """Let logged-in sessions through; check CSRF on unsafe methods."""
    if request.session.get("user") != "admin":
        raise LoginRequired()
    if request.method not in SAFE_METHODS and not await csrf_ok(request):
        raise CsrfFailed()


async def require_csrf(request: Request) -> None:
    """Check CSRF on unsafe methods (for the login form, before there is a user)."""
    if request.method not in SAFE_METHODS and not await csrf_ok(request):
        raise CsrfFailed()


def require_api_key(request: Request, auth: AuthDep) -> None:
    """Let requests with the right X-Api-Key through."""
    if not auth.check_api_key(request.headers.get("x-api-key")):
        raise AuthError("Missing or wrong X-Api-Key header.", "Copy the API key from Settings.")


def require_media_token(request: Request, container: ContainerDep) -> None:
    """Let media consumers (players, dashboards) through, with ?token= when media_token is set."""
    token = container.settings.media_token
    if token is not None and not hmac.compare_digest(
        request.query_params.get("token", ""), token.get_secret_value()
    ):
        raise AuthError("Missing or wrong ?token=.", "Add the media_token from antenna.toml to the URL.")
