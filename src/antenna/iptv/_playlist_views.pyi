"""Types of the C module built from _playlist_views.c (see there)."""

from typing import Any

def feed(data: bytes, state: list[Any], config: tuple[Any, ...]) -> list[Any]: ...
def markers(data: bytes) -> tuple[list[int], int]: ...
def run(
    views: list[Any],
    i: int,
    seen: set[str],
    presets: set[str],
    claimed: dict[str, int],
    next_free: int,
    limit: int,
    heap_top: tuple[int, int] | None,
    out: list[bytes],
    duplicates: list[str],
    prefix: str,
    next_line: int,
) -> tuple[int, int, int]: ...
