"""IPTV channels page (search, filter, sort, paging, bulk changes, inline edit) and guide coverage page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from antenna.container import Container
from antenna.errors import NotFound, UserError
from antenna.iptv.models import Override
from antenna.iptv.plan import valid_number
from antenna.web.deps import ContainerDep, require_login
from antenna.web.iptv_views import refresh_context
from antenna.web.paging import page_of
from antenna.web.templating import flash, fragment, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
PAGE_SIZE = 100
SORTS = {"number": "Number", "name": "Name", "group": "Group"}
BULK_ACTIONS = ("enable", "disable", "group", "renumber")
GUIDE_DAYS = 7  # the guide window a refresh writes (IptvService's default)


def _number_key(number: str) -> tuple[int, float]:
    try:
        return (0, float(number))
    except ValueError:
        return (1, 0.0)  # channels without a number go last


def _sort_key(sort: str) -> Any:
    if sort == "name":
        return lambda c: (c["name"].casefold(), _number_key(c["number"]))
    if sort == "group":
        return lambda c: (c["group"].casefold(), _number_key(c["number"]))
    return lambda c: (_number_key(c["number"]), c["name"].casefold())


def _guide_id(channel: dict[str, Any]) -> str:
    guide = channel.get("guide") or []
    return str(guide[0]).split(":", 1)[1] if guide else ""


def _pending(channel: dict[str, Any], override: Override | None) -> dict[str, Any]:
    """Return the overridden fields whose value differs from the last refresh (they apply at the next)."""
    if override is None:
        return {}
    shown = {
        "name": channel["name"],
        "number": channel["number"],
        "group": channel["group"],
        "guide_id": _guide_id(channel),
        "enabled": channel["enabled"],
    }
    wanted = {
        "name": override.name,
        "number": override.number,
        "group": override.group,
        "guide_id": override.guide_id,
        "enabled": override.enabled,
    }
    return {k: v for k, v in wanted.items() if v is not None and v != shown[k]}


def channel_rows(container: Container) -> list[dict[str, Any]]:
    """Return every merged channel with its source name, identity and pending changes."""
    names = {s.id: s.name for s in container.iptv.sources()}
    overrides = container.iptv.overrides()
    rows = []
    for channel in container.iptv.channels():
        key = (int(channel["source_id"]), str(channel["key"]))
        rows.append(
            {
                **channel,
                "id": f"{key[0]}:{key[1]}",
                "source": names.get(key[0], f"#{key[0]}"),
                "guide_id": _guide_id(channel),
                "guide_source": names.get(int(str(channel["guide"][0]).split(":")[0]), "")
                if channel.get("guide")
                else "",
                "pending": _pending(channel, overrides.get(key)),
            }
        )
    return rows


def table_context(
    container: Container, q: str = "", group: str = "", sort: str = "number", page: int = 1
) -> dict[str, Any]:
    """Return one page of channels under the search, the group filter and the sort."""
    every = channel_rows(container)
    groups = sorted({c["group"] for c in every if c["group"]}, key=str.casefold)
    needle = q.strip().casefold()
    shown = [
        c
        for c in every
        if (not group or c["group"] == group)
        and (
            not needle
            or any(needle in str(c[f]).casefold() for f in ("name", "number", "group", "tvg_id", "source"))
        )
    ]
    sort = sort if sort in SORTS else "number"
    shown.sort(key=_sort_key(sort))
    channels, page, pages = page_of(shown, page, PAGE_SIZE)
    return {
        "channels": channels,
        "total": len(shown),
        "all_count": len(every),
        "disabled_count": sum(1 for c in every if not c["enabled"]),
        "groups": groups,
        "q": q,
        "group": group,
        "sort": sort,
        "sorts": SORTS,
        "page": page,
        "pages": pages,
        "filtered": bool(needle or group),
    }


def _identity(value: str) -> tuple[int, str]:
    source, _, key = value.partition(":")
    if not source.isdigit() or not key:
        raise UserError(f"{value!r} is not a channel.", "Reload the page and select the channels again.")
    return int(source), key


def _find(container: Container, source_id: int, key: str) -> dict[str, Any]:
    for row in channel_rows(container):
        if row["source_id"] == source_id and row["key"] == key:
            return row
    raise NotFound("That channel is not in the channel list any more.", "Reload the page.")


@router.get("/iptv/channels", response_class=HTMLResponse)
def channels_page(
    request: Request,
    container: ContainerDep,
    q: str = "",
    group: str = "",
    sort: str = "number",
    page: int = 1,
) -> Response:
    """Show the merged channels with search, group filter, sort, paging and bulk changes."""
    context = {**table_context(container, q, group, sort, page), **refresh_context(container)}
    context["has_sources"] = bool(container.iptv.sources())
    return templates.TemplateResponse(request, "iptv_channels.html", context)


@router.get("/iptv/channels/table", response_class=HTMLResponse)
def channels_table(
    request: Request,
    container: ContainerDep,
    q: str = "",
    group: str = "",
    sort: str = "number",
    page: int = 1,
) -> Response:
    """Return only the channel table (HTMX: search, filter, sort, paging, after a refresh)."""
    return templates.TemplateResponse(
        request, "partials/iptv_channels_table.html", table_context(container, q, group, sort, page)
    )


def _apply_bulk(container: Container, action: str, ids: Iterable[str], group_name: str, start: str) -> str:
    chosen = [_identity(i) for i in ids]
    if not chosen:
        raise UserError("No channel is selected.", "Tick the channels to change first.")
    if action in ("enable", "disable"):
        for source_id, key in chosen:
            container.iptv.set_override(source_id, key, enabled=action == "enable")
        return f"{action.capitalize()}d {len(chosen)} channel(s)"
    if action == "group":
        if not group_name.strip():
            raise UserError("Type the group to move the channels to.")
        for source_id, key in chosen:
            container.iptv.set_override(source_id, key, group_name=group_name.strip())
        return f"Moved {len(chosen)} channel(s) to {group_name.strip()}"
    first = start.strip()
    if not first.isdigit() or int(first) < 1:
        raise UserError(
            f"{first!r} is not a channel number to start from.", "Use a whole number such as 101."
        )
    for offset, (source_id, key) in enumerate(chosen):
        container.iptv.set_override(source_id, key, number=str(int(first) + offset))
    return f"Renumbered {len(chosen)} channel(s) from {first}"


@router.post("/iptv/channels/bulk", response_class=HTMLResponse)
async def bulk_change(
    request: Request,
    container: ContainerDep,
    action: Annotated[str, Form()] = "",
    ids: Annotated[list[str] | None, Form()] = None,
    group_name: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    q: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
    sort: Annotated[str, Form()] = "number",
    page: Annotated[int, Form()] = 1,
) -> Response:
    """Enable, disable, regroup or renumber the selected channels in the order shown (at the next refresh)."""
    if action not in BULK_ACTIONS:
        raise UserError(f"Unknown bulk action {action!r}.", f"Use one of: {', '.join(BULK_ACTIONS)}.")
    done = await asyncio.to_thread(_apply_bulk, container, action, ids or [], group_name, start)
    context = await asyncio.to_thread(table_context, container, q, group, sort, page)
    message = f"{done}. This applies at the next refresh: press Refresh now."
    return fragment(request, "partials/iptv_channels_table.html", context, note=flash("ok", message))


@router.get("/iptv/channels/row", response_class=HTMLResponse)
def channel_row(
    request: Request, container: ContainerDep, source_id: int, key: str, edit: bool = False
) -> Response:
    """Return one channel's row, as shown or as an inline edit form."""
    row = _find(container, source_id, key)
    name = "partials/iptv_channel_edit.html" if edit else "partials/iptv_channel_row.html"
    return templates.TemplateResponse(request, name, {"c": row, "errors": {}, "form": {}})


@router.post("/iptv/channels/row", response_class=HTMLResponse)
async def edit_channel(
    request: Request,
    container: ContainerDep,
    source_id: Annotated[int, Form()],
    key: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    number: Annotated[str, Form()] = "",
    group_name: Annotated[str, Form()] = "",
    guide_id: Annotated[str, Form()] = "",
) -> Response:
    """Save a channel's name, number, group and guide id; a blank field goes back to the source's value."""
    row = await asyncio.to_thread(_find, container, source_id, key)
    form = {"name": name, "number": number, "group_name": group_name, "guide_id": guide_id}
    if number.strip() and not valid_number(number):
        errors = {"number": f"{number.strip()!r} is not a channel number. Use digits, e.g. 101 or 5.1."}
        context = {"c": row, "errors": errors, "form": form}
        return templates.TemplateResponse(request, "partials/iptv_channel_edit.html", context)
    shown = {
        "name": row["name"],
        "number": row["number"],
        "group_name": row["group"],
        "guide_id": row["guide_id"],
    }
    changes: dict[str, str | None] = {}
    for field, value in form.items():
        value = re.sub(r"\s+", " ", value).strip()
        if not value:
            changes[field] = None
        elif value != shown[field] or row["pending"].get(field.removesuffix("_name")):
            changes[field] = value
    await asyncio.to_thread(container.iptv.set_override, source_id, key, **changes)
    updated = await asyncio.to_thread(_find, container, source_id, key)
    message = f"Saved {updated['name']}. Changes apply at the next refresh."
    return fragment(request, "partials/iptv_channel_row.html", {"c": updated}, note=flash("ok", message))


def coverage_context(container: Container, q: str = "", page: int = 1) -> dict[str, Any]:
    """Return the coverage table's context: fewest hours of guide first, one bar per channel."""
    report = container.iptv.report() or {}
    window = GUIDE_DAYS * 24
    rows = sorted(report.get("coverage", []), key=lambda c: (c["guide_hours"], _number_key(str(c["number"]))))
    needle = q.strip().casefold()
    if needle:
        rows = [c for c in rows if needle in str(c["name"]).casefold() or needle in str(c["number"])]
    shown, page, pages = page_of(rows, page, PAGE_SIZE)
    return {
        "coverage": [{**c, "percent": min(100, round(100 * c["guide_hours"] / window))} for c in shown],
        "total": len(rows),
        "page": page,
        "pages": pages,
        "q": q,
        "days": GUIDE_DAYS,
    }


@router.get("/iptv/guide", response_class=HTMLResponse)
def guide_page(request: Request, container: ContainerDep, q: str = "", page: int = 1) -> Response:
    """Show what the last refresh did and how many hours of guide each channel has."""
    report = container.iptv.report()
    context: dict[str, Any] = {"report": report, **coverage_context(container, q, page)}
    context["report_at"] = datetime.fromisoformat(report["at"]) if report and report.get("at") else None
    context["has_sources"] = bool(container.iptv.sources())
    return templates.TemplateResponse(request, "iptv_guide.html", context)


@router.get("/iptv/guide/table", response_class=HTMLResponse)
def guide_table(request: Request, container: ContainerDep, q: str = "", page: int = 1) -> Response:
    """Return only the coverage table (HTMX search and paging)."""
    return templates.TemplateResponse(
        request, "partials/iptv_coverage.html", coverage_context(container, q, page)
    )
