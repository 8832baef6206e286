"""A byte scan of M3U sources for the lines that may give a channel its number, and what is still unread.

playlist_stream fixes a channel's number only once no entry still unread could claim it as a preset
(tvg-chno or ch-number); this scan, run before the merge, says which lines could and with which numbers.
"""

from __future__ import annotations

import heapq
import re
import sys
from collections.abc import Iterable

from antenna.formats.m3u import byte_blocks
from antenna.iptv import native
from antenna.iptv.plan import number_or_empty, sort_key

# A line that may give its entry a number: its line number and the numbers it could give (None: unknown).
Candidate = tuple[int, tuple[str, ...] | None]
_MARKER = re.compile(rb"ch(?:no|-number)")  # in lower-cased data: tvg-chno or ch-number, in any case
# The value as m3u._ATTR reads it, on one line; anything else makes the line's number unknown.
_MARKED_VALUE = re.compile(rb"""\s*=(?:\s*"([^"\r\n]*)"|\s*'([^'\r\n]*)'|(?!\s*["'])([^\s,]*))""")
_BARE_CR = re.compile(rb"\r(?!\n|\Z)")  # a CR that ends a block ends a line cut before its LF
_TOP = (sys.maxsize, sys.maxsize)
_BOTTOM = (-1, -1)


def scan_numbers(chunks: Iterable[bytes]) -> list[Candidate] | None:
    """Return the lines of an M3U that may carry a tvg-chno/ch-number, in order; None when line numbers
    cannot be matched to the reader's (a bare CR splits lines differently)."""
    found: list[Candidate] = []
    line = 1
    for block in byte_blocks(chunks):
        newlines = _scan(block, line, found)
        if newlines is None:
            return None
        line += newlines + 1
    return found


def _scan(data: bytes, line: int, found: list[Candidate]) -> int | None:
    """Add a block's candidates to found; return its newlines (None: it has a bare CR)."""
    if b"\r" in data and _BARE_CR.search(data):
        return None
    marks, newlines = _markers(data)
    for index in range(0, len(marks), 2):
        at, start = line + marks[index], marks[index + 1]
        value = _MARKED_VALUE.match(data, start + (4 if data[start + 2] in b"nN" else 9))
        numbers: tuple[str, ...] | None
        if value is None:
            numbers = None
        else:
            raw = next(v for v in value.groups() if v is not None)
            number = number_or_empty(raw.decode("utf-8", errors="replace"))
            numbers = (number,) if number else ()
        if found and found[-1][0] == at:
            before = found[-1][1]
            numbers = None if before is None or numbers is None else before + numbers
            found[-1] = (at, numbers)
        elif numbers is None or numbers:
            found.append((at, numbers))
    return newlines


def _markers(data: bytes) -> tuple[list[int], int]:
    """Return where "tvg-chno" (from its "chno") and "ch-number" start, in any case, as a flat list of
    (newlines before, start) pairs; and the newlines in data."""
    c = native.module()
    if c is not None:
        found: tuple[list[int], int] = c.markers(data)
        return found
    marks: list[int] = []
    pos = line = 0
    lowered = data.lower()  # same offsets; a case-blind regex would be ten times slower
    for m in _MARKER.finditer(lowered):
        start = m.start()
        if m.end() - start == 4 and (start < 4 or lowered[start - 4 : start] != b"tvg-"):
            continue  # "chno" inside another word or key
        line += data.count(b"\n", pos, start)
        pos = start
        marks += (line, start)
    return marks, line + data.count(b"\n", pos)


class Unread:
    """The numbers that entries not read yet may still claim as presets."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.unknown = 0
        self._heap: list[tuple[tuple[int, int], str]] = []

    def add(self, numbers: Iterable[str] | None) -> None:
        """Count a line's numbers as unread (None: it may claim any number)."""
        if numbers is None:
            self.unknown += 1
            return
        for number in numbers:
            count = self.counts.get(number, 0)
            self.counts[number] = count + 1
            if not count:
                heapq.heappush(self._heap, (sort_key(number), number))

    def remove(self, numbers: Iterable[str] | None) -> None:
        """Count a line's numbers as read."""
        if numbers is None:
            self.unknown -= 1
            return
        for number in numbers:
            count = self.counts[number] - 1
            if count:
                self.counts[number] = count
            else:
                del self.counts[number]

    def may_claim(self, number: str) -> bool:
        """Return True when an unread line may still claim number."""
        return self.unknown > 0 or number in self.counts

    def floor(self) -> tuple[int, int]:
        """Return the lowest sort key an unread preset may have."""
        if self.unknown:
            return _BOTTOM
        heap = self._heap
        while heap and heap[0][1] not in self.counts:
            heapq.heappop(heap)
        return heap[0][0] if heap else _TOP
