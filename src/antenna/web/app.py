"""FastAPI application factory: middleware, routers, error pages, lifespan of runner and scheduler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from antenna import __version__
from antenna.container import Container
from antenna.errors import UserError
from antenna.web import api, iptv_api, pages, plex_api, podcast_api, sse, vod_api
from antenna.web.auth import AuthService
from antenna.web.deps import CsrfFailed, LoginRequired
from antenna.web.templating import templates

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")


def create_app(container: Container, *, start_background: bool = True) -> FastAPI:
    """Return the web app for container; start_background runs the job runner and scheduler."""
    auth = AuthService(container.secrets, container.clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_background:
            await container.runner.start()
            await container.scheduler.start()
            await container.plex_hub.start()
        log.info("Antenna %s ready", __version__)
        try:
            yield
        finally:
            if start_background:
                await container.plex_hub.stop()
                await container.scheduler.stop()
                await container.runner.stop()

    app = FastAPI(
        title="Antenna",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from local assets: FastAPI's default page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.container = container
    app.state.auth = auth
    app.add_middleware(
        SessionMiddleware,
        secret_key=auth.session_key(),
        session_cookie="antenna_session",
        max_age=container.settings.session_days * 86400,
        same_site="lax",
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Antenna API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.include_router(api.router)
    app.include_router(plex_api.router)
    app.include_router(plex_api.inbound)
    app.include_router(plex_api.media)
    app.include_router(iptv_api.router)
    app.include_router(iptv_api.media)
    app.include_router(podcast_api.router)
    app.include_router(vod_api.router)
    app.include_router(vod_api.media)
    app.include_router(sse.router)
    app.include_router(pages.router)
    _install_error_handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        target = "/login?next=" + request.url.path
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _exc: CsrfFailed) -> Response:
        message = "This form expired or did not come from Antenna. Reload the page and try again."
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=403)
        return templates.TemplateResponse(
            request, "error.html", {"title": "Refused", "message": message}, status_code=403
        )

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        if _is_api(request):
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=exc.http_status)
        if request.headers.get("hx-request"):
            return templates.TemplateResponse(
                request,
                "partials/flash.html",
                {"kind": "error", "message": str(exc)},
                status_code=200,
                headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
            )
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": "Cannot do that", "message": str(exc)},
            status_code=exc.http_status,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": ["?"], "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", [])[1:]) or "request"
        return JSONResponse({"error": f"{field}: {first.get('msg', 'invalid')}"}, status_code=422)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = "Antenna hit an internal error; details are in the log file (Activity page)."
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=500)
        return templates.TemplateResponse(
            request, "error.html", {"title": "Internal error", "message": message}, status_code=500
        )
