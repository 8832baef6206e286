"""Jinja2 templates with the helpers every page uses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from antenna import __version__
from antenna.web.csrf import csrf_token


def _page_context(request: Request) -> dict[str, Any]:
    return {"csrf_token": csrf_token(request), "user": request.session.get("user"), "path": request.url.path}


templates = Jinja2Templates(
    directory=Path(__file__).with_name("templates"), context_processors=[_page_context]
)


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _size(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


templates.env.filters["when"] = _when
templates.env.filters["size"] = _size
templates.env.globals["version"] = __version__


def is_hx(request: Request) -> bool:
    """Return True for a request made by HTMX (it wants a fragment, not a page)."""
    return bool(request.headers.get("hx-request"))


def flash(kind: str, message: str) -> str:
    """Return a flash message as an out-of-band swap into #flash."""
    html = templates.get_template("partials/flash.html").render(kind=kind, message=message)
    return f'<div id="flash" hx-swap-oob="innerHTML">{html}</div>'


def fragment(
    request: Request, name: str, context: dict[str, Any], *, note: str = "", trigger: str = ""
) -> HTMLResponse:
    """Return a rendered partial, with an out-of-band flash note and an HX-Trigger event when given."""
    body = bytes(templates.TemplateResponse(request, name, context).body)
    return HTMLResponse(body + note.encode(), headers={"HX-Trigger": trigger} if trigger else None)
