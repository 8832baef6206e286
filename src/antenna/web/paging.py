"""Paging for the tables of the pages: a page number clamped to what exists, and that page's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def page_count(total: int, size: int) -> int:
    """Return how many pages total rows fill (at least one, so an empty table still has page 1)."""
    return max(1, (total + size - 1) // size)


def clamp_page(page: int, total: int, size: int) -> tuple[int, int]:
    """Return (page, pages) with page moved into 1..pages (a stale link past the end shows the last page)."""
    pages = page_count(total, size)
    return min(max(1, page), pages), pages


def page_of(rows: Sequence[T], page: int, size: int) -> tuple[Sequence[T], int, int]:
    """Return the rows of the (clamped) page, the page and the page count."""
    page, pages = clamp_page(page, len(rows), size)
    return rows[(page - 1) * size : page * size], page, pages
