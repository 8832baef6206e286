"""Jinja2 templates with the helpers every page uses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
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
