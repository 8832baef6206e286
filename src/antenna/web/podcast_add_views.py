"""Add a podcast: a feed URL or search words → preview with exact file names → options → subscribe."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from antenna.container import Container
from antenna.errors import UserError
from antenna.podcasts.service import Subscribed
from antenna.podcasts.subscriptions import Preview
from antenna.web.deps import ContainerDep, require_login
from antenna.web.podcast_forms import OPTION_FIELDS, form_values, read_options
from antenna.web.templating import is_hx, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_login)])
PREVIEW_ROWS = 50  # episodes listed in the preview table; the count covers the whole feed
# A bare host or path such as "feeds.example.com/show.xml": a URL without its scheme, not search words.
BARE_URL = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?$")


def bookmarklet(request: Request, container: Container) -> str:
    """Return the javascript: link that sends the page open in the browser to this add page."""
    base = (container.settings.public_url or str(request.base_url)).rstrip("/")
    return f"javascript:location.href='{base}/podcasts/add?url='+encodeURIComponent(location.href)"


def as_url(text: str) -> str | None:
    """Return the text as a URL to preview, or None when it reads as search words."""
    text = text.strip()
    if "://" in text:
        return text
    if BARE_URL.match(text):
        return f"https://{text}"
    return None


def add_context(container: Container, request: Request, **values: Any) -> dict[str, Any]:
    """Return the add page's context; values carry the query, a preview, search results or errors."""
    context: dict[str, Any] = {
        "q": "",
        "preview": None,
        "results": None,
        "errors": {},
        "form": form_values(container.podcasts.defaults),
        "folder": "",
        "paused": False,
        "fields": OPTION_FIELDS,
        "bookmarklet": bookmarklet(request, container),
        "has_podcasts": bool(container.podcasts.podcasts()),
        "subscribed": None,
        "rows": PREVIEW_ROWS,
    }
    context.update(values)
    return context


def _duplicate_id(container: Container, preview: Preview) -> int | None:
    for podcast in container.podcasts.podcasts():
        if podcast.title == preview.duplicate_of:
            return podcast.id
    return None


def find(
    container: Container, request: Request, q: str, form: dict[str, str], folder: str, paused: bool
) -> dict[str, Any]:
    """Preview a URL or search the directory; a failure becomes an error on the search field."""
    context = add_context(container, request, q=q, form=form, folder=folder, paused=paused)
    if not q.strip():
        context["errors"] = {"q": "Paste a podcast's feed URL, or type words to search for it."}
        return context
    url = as_url(q)
    changes, errors = read_options(form, container.podcasts.defaults, bulk=False)
    if errors:
        context["errors"] = errors
        changes = {}
    try:
        if url is None:
            context["results"] = container.podcasts.search(q)
            return context
        preview = container.podcasts.preview(url, changes, folder.strip())
    except UserError as exc:
        where = "search" if url is None else "preview"
        context["errors"] = {**context["errors"], "q": str(exc), "where": where}
        return context
    context.update(preview=preview, q=url, duplicate_id=_duplicate_id(container, preview))
    if not folder.strip():
        context["folder"] = preview.folder
    return context


def _form(container: Container, values: dict[str, str]) -> dict[str, str]:
    """Return the option fields of a posted form; a field it lacks takes the default (an unticked box: no).

    Only the subscribe form carries the options (marked by its hidden `options` field); the search field's
    form does not, and then every option is the default.
    """
    defaults = form_values(container.podcasts.defaults)
    if values.get("options") != "1":
        return defaults
    return {f.name: values.get(f.name, "" if f.kind == "flag" else defaults[f.name]) for f in OPTION_FIELDS}


@router.get("/podcasts/add", response_class=HTMLResponse)
def add_page(request: Request, container: ContainerDep, url: str = "", q: str = "") -> Response:
    """Show the add page; ?url= (the bookmarklet) or ?q= fills the field and previews or searches at once."""
    text = url or q
    if text:
        defaults = form_values(container.podcasts.defaults)
        context = find(container, request, text, defaults, "", False)
    else:
        context = add_context(container, request)
    return templates.TemplateResponse(request, "podcast_add.html", context)


@router.post("/podcasts/add/preview", response_class=HTMLResponse)
async def preview(request: Request, container: ContainerDep) -> Response:
    """Preview a feed (or search for one) and return the add area with the result."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    context = await asyncio.to_thread(
        find,
        container,
        request,
        values.get("q", ""),
        _form(container, values),
        values.get("folder", ""),
        values.get("paused") == "on",
    )
    name = "partials/podcast_add_body.html" if is_hx(request) else "podcast_add.html"
    return templates.TemplateResponse(request, name, context)


def _subscribe(
    container: Container, request: Request, url: str, form: dict[str, str], folder: str, paused: bool
) -> tuple[Subscribed | None, dict[str, Any]]:
    changes, errors = read_options(form, container.podcasts.defaults, bulk=False)
    if not errors:
        try:
            return container.podcasts.subscribe(url, changes, folder.strip(), paused=paused), {}
        except UserError as exc:
            errors = {"subscribe": str(exc)}
    context = find(container, request, url, form, folder, paused)
    context["errors"] = {**context["errors"], **errors}
    return None, context


@router.post("/podcasts/add", response_class=HTMLResponse)
async def subscribe(request: Request, container: ContainerDep) -> Response:
    """Subscribe with the chosen options; wanted episodes are queued for download at once."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    url = values.get("url", "").strip()
    if not url:
        raise UserError("There is no feed to subscribe to.", "Preview a feed first.")
    done, context = await asyncio.to_thread(
        _subscribe,
        container,
        request,
        url,
        _form(container, values),
        values.get("folder", ""),
        values.get("paused") == "on",
    )
    if done is not None and not is_hx(request):
        return RedirectResponse(f"/podcasts/{done.podcast.id}", status_code=303)
    if done is not None:
        context = add_context(container, request, subscribed=done)
    name = "partials/podcast_add_body.html" if is_hx(request) else "podcast_add.html"
    return templates.TemplateResponse(request, name, context, status_code=200 if is_hx(request) else 400)
