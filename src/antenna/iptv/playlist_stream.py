"""The channel merge streamed from reader to playlist writer, for merges that need no channel list in memory.

Same decisions as plan.merge_channels followed by engine.write_playlist (duplicates, filters, overrides,
numbers: the user's, then the source's tvg-chno first come first served, then free numbers per group start
or from the first free one; output in number order), but each channel is written as soon as its number and
place are certain. A number is certain once no entry still unread could claim it as its preset: a cheap byte
scan of the sources (number_scan.scan_numbers) lists every line that may carry one. Playlists whose presets
come in number order (the usual case) then hold a handful of channels at a time instead of all of them.
"""

from __future__ import annotations

import heapq
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from antenna.formats.m3u_write import format_header, format_value
from antenna.iptv.models import Override, SourceConfig, plex_safe_id
from antenna.iptv.number_scan import Candidate, Unread
from antenna.iptv.plan import keep_name, number_or_empty, sort_key
from antenna.iptv.playlist_views import RunWriter, View, choose_logo, compose, run_writer

_DIGIT_SUMS = bytes(sum(map(int, str(n))) for n in range(10000))


@dataclass
class StreamStats:
    """What a streamed merge decided, for the report."""

    channels: int = 0
    enabled: int = 0
    written: int = 0
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    without_guide: list[str] = field(default_factory=list)  # "N name" per enabled channel, when asked for


# A channel waiting for its place: (seq, group start key or None, name, rest of the entry or None, enabled);
# the rest is everything after the tvg-chno attribute as UTF-8, None when the channel is not written.
_Draft = tuple[int, tuple[int, str] | None, str, bytes | None, bool]


class _Merge:
    """plan.merge_channels' two numbering passes run as one, with a reorder heap in front of the writer."""

    def __init__(
        self,
        sources: Sequence[tuple[SourceConfig, Iterable[list[View]], Sequence[Candidate]]],
        overrides: Mapping[tuple[int, str], Override],
        stats: StreamStats,
        names: bool,
        first_number: int,
        write_run: RunWriter | None,
    ) -> None:
        self.sources = sources
        self.overrides = overrides
        self.stats = stats
        self.names = names
        self.unread = Unread()
        self.ends: list[tuple[str, ...]] = []  # per source: numbers its overrides may claim, known at its end
        for source, _records, candidates in sources:
            for _line, numbers in candidates:
                self.unread.add(numbers)
            chosen = {
                number_or_empty(o.number or "") for (sid, _), o in overrides.items() if sid == source.id
            }
            chosen.discard("")
            self.ends.append(tuple(chosen))
            self.unread.add(self.ends[-1])
        self.starts = {
            (source.id, group.lower()): start
            for source, _, _ in sources
            for group, start in source.group_starts
        }
        self.counters: dict[tuple[int, str], int] = {}
        self.next_free = first_number
        self.first = first_number
        self.presets: set[str] = set()  # numbers claimed by presets; assigned ones are the runs below
        self.queue: deque[_Draft] = deque()
        self.scan = 0  # where the first queued channel's search for a free number has got to
        self.blocked = ""  # the number that search waits for
        self.heap: list[tuple[tuple[int, int], int, str, _Draft]] = []
        self.out: list[bytes] = []
        self.unread_floor = self.unread.floor()  # kept up to date as lines are read
        self.write_run = write_run

    def run(self) -> Iterator[list[bytes]]:
        for index, (source, blocks, candidates) in enumerate(self.sources):
            yield from self._source(source, blocks, candidates)
            self.unread.remove(self.ends[index])
            self.unread_floor = self.unread.floor()
            self._drain()
        # Every line is read now: nothing waits (the queue drained) and the heap holds the rest in order.
        while self.heap:
            _key, _seq, number, draft = heapq.heappop(self.heap)
            self._write(number, draft)
        yield self.out

    def _source(
        self, source: SourceConfig, blocks: Iterable[list[View]], candidates: Sequence[Candidate]
    ) -> Iterator[list[bytes]]:
        stats, unread, overrides, starts, out = self.stats, self.unread, self.overrides, self.starts, self.out
        presets, queue, heap, unread_counts = self.presets, self.queue, self.heap, unread.counts
        seen: set[str] = set()
        pending = len(candidates)
        next_line = candidates[0][0] if candidates else sys.maxsize
        index = 0
        rules = source.filter
        filtered = bool(rules.include_groups or rules.exclude_groups or rules.include_regex)
        filtered = filtered or bool(rules.exclude_regex)
        grouped = any(sid == source.id for sid, _ in starts)
        source_id, icon, base_url = source.id, source.icon, source.base_url
        seq = stats.channels
        enabled_count = stats.enabled - seq  # plus seq: every channel counts as enabled but the disabled
        written = 0
        names, sums = self.names, _DIGIT_SUMS
        owed = False
        limit = _limit(self.unread_floor)  # (n, 0) sorts before the lowest unread preset when n < limit
        # The C reader's module also writes runs of usual channels (the inline path below) when nothing
        # else applies to this source: no filters, overrides, group starts or names to report.
        write_run = self.write_run
        fast = write_run is not None and not (filtered or overrides or starts or names)
        prefix = f"{source.name}: "
        for views in blocks:
            i, count = 0, len(views)
            while i < count:
                if owed:  # lines read since may have freed the number a queued channel waits for
                    owed = False
                    if queue or heap:
                        self._drain()
                if fast and not (queue or unread.unknown):
                    top = heap[0][0] if heap else None
                    i, self.next_free, added = write_run(  # type: ignore[misc]
                        views,
                        i,
                        seen,
                        presets,
                        unread_counts,
                        self.next_free,
                        limit,
                        top,
                        out,
                        stats.duplicates,
                        prefix,
                        next_line,
                    )
                    seq += added
                    written += added
                    if i == count:
                        break
                key, name, out_name, wanted, groups, logo, mid, tail, rest, line = views[i]
                i += 1
                if line >= next_line:
                    # This entry and the lines before it are read: their numbers are known once this entry
                    # has claimed its own, so the queue is drained at the next entry (or the source's end).
                    while index < pending and candidates[index][0] <= line:
                        unread.remove(candidates[index][1])
                        index += 1
                    next_line = candidates[index][0] if index < pending else sys.maxsize
                    self.unread_floor = unread.floor()
                    limit = _limit(self.unread_floor)
                    owed = True
                if key in seen:
                    stats.duplicates.append(f"{source.name}: {key}")
                    continue
                seen.add(key)
                if filtered and not keep_name(name, groups, rules):
                    continue
                seq += 1
                enabled = True
                if overrides and (override := overrides.get((source_id, key))) is not None:
                    if override.number and (number := number_or_empty(override.number)):
                        wanted = number
                    out_name = override.name or out_name
                    if override.group:
                        groups = (override.group, *[g for g in groups if g != override.group])
                    if override.enabled is not None:
                        enabled = override.enabled
                        enabled_count -= not enabled
                    logo = choose_logo(override.logo or logo, icon, base_url)
                    rest = compose(out_name, logo, groups, mid, tail) if enabled else None
                elif rest is None:
                    rest = compose(out_name, choose_logo(logo, icon, base_url), groups, mid, tail)
                if wanted:
                    if wanted in presets:
                        stats.warnings.append(
                            f"{source.name}: {name} wanted number {wanted}, already taken; renumbered"
                        )
                        wanted = ""
                    else:
                        presets.add(wanted)
                start_key = None
                if grouped:
                    start_key = (source_id, groups[0].lower())
                    if start_key not in starts:
                        start_key = None
                if wanted:
                    self._place(wanted, (seq, start_key, out_name, rest, enabled))
                elif queue or starts:
                    queue.append((seq, start_key, out_name, rest, enabled))
                    self._drain()
                else:
                    # The usual channel, _drain and _place inlined: nothing queued, no group starts.
                    candidate = self.next_free
                    number = str(candidate)
                    while number in presets:
                        candidate += 1
                        number = str(candidate)
                    if unread.unknown or number in unread_counts:
                        queue.append((seq, start_key, out_name, rest, enabled))
                        self.scan, self.blocked = candidate, number
                    else:
                        self.next_free = candidate + 1
                        if candidate < limit and (not heap or (candidate, 0) < heap[0][0]):
                            if rest is None or names:
                                self._write(number, (seq, start_key, out_name, rest, enabled))
                            else:  # _write inlined
                                if candidate < 100_000_000:
                                    check = (sums[candidate % 10000] + sums[candidate // 10000]) % 10
                                    xmltv_id = f"C{number}.{check}.antenna"
                                else:
                                    xmltv_id = plex_safe_id(number)
                                if '"' in out_name or "\n" in out_name or "\r" in out_name:
                                    out_name = format_value(out_name)
                                out.append(
                                    f'#EXTINF:-1 tvg-id="{xmltv_id}" tvg-name="{out_name}" '
                                    f'tvg-chno="{number}"'.encode(errors="replace")
                                    + rest
                                )
                                written += 1
                        else:
                            draft = (seq, start_key, out_name, rest, enabled)
                            heapq.heappush(heap, ((candidate, 0), seq, number, draft))
                            self._flush_heap()
            if len(out) >= 2048:
                stats.channels, stats.enabled = seq, enabled_count + seq
                stats.written += written
                written = 0
                yield out
                out.clear()
        stats.channels, stats.enabled = seq, enabled_count + seq
        stats.written += written
        while index < pending:
            unread.remove(candidates[index][1])
            index += 1
        self.unread_floor = unread.floor()

    def _drain(self) -> None:
        """Number queued channels in order while their numbers are certain; then write what may go out."""
        queue, unread, presets, starts, counters = (
            self.queue,
            self.unread,
            self.presets,
            self.starts,
            self.counters,
        )
        if self.blocked:
            if unread.may_claim(self.blocked):
                return
            self.blocked = ""
        while queue:
            start_key = queue[0][1]
            if self.scan:
                candidate = self.scan
            elif start_key is None:
                candidate = self.next_free
            else:
                candidate = counters.get(start_key, starts[start_key])
            # Every number of [first, next_free) and of each group's [start, counter) is taken: plan's search
            # for a number not in `taken` is this one, without a set of 200k assigned numbers.
            while True:
                number = str(candidate)
                if number in presets or (
                    starts
                    and (
                        self.first <= candidate < self.next_free
                        or any(start <= candidate < counters.get(k, start) for k, start in starts.items())
                    )
                ):
                    candidate += 1
                elif unread.may_claim(number):
                    self.scan, self.blocked = candidate, number
                    self._flush_heap()
                    return
                else:
                    break
            self.scan = 0
            if start_key is None:
                self.next_free = candidate + 1
            else:
                counters[start_key] = candidate + 1
            self._place(number, queue.popleft())
        self._flush_heap()

    def _floor(self) -> tuple[int, int]:
        """Return the lowest sort key a channel not placed yet may get."""
        low = min(self.unread_floor, (self.next_free, 0))
        for start_key, start in self.starts.items():
            low = min(low, (self.counters.get(start_key, start), 0))
        return low

    def _place(self, number: str, draft: _Draft) -> None:
        key = sort_key(number)
        heap = self.heap
        if (not heap or key < heap[0][0]) and key < self._floor():
            self._write(number, draft)
        else:
            heapq.heappush(heap, (key, draft[0], number, draft))

    def _flush_heap(self) -> None:
        heap = self.heap
        if heap:
            floor = self._floor()
            while heap and heap[0][0] < floor:
                _key, _seq, number, draft = heapq.heappop(heap)
                self._write(number, draft)

    def _write(self, number: str, draft: _Draft) -> None:
        rest = draft[3]
        if rest is not None:
            if number.isascii() and number.isdigit() and len(number) < 9:  # plex_safe_id, by table
                value = int(number)
                check = (_DIGIT_SUMS[value % 10000] + _DIGIT_SUMS[value // 10000]) % 10
                xmltv_id = f"C{number}.{check}.antenna"
            else:
                xmltv_id = plex_safe_id(number)
            name = format_value(draft[2])
            head = f'#EXTINF:-1 tvg-id="{xmltv_id}" tvg-name="{name}" tvg-chno="{number}"'
            self.out.append(head.encode(errors="replace") + rest)
            self.stats.written += 1
        if self.names and draft[4]:
            self.stats.without_guide.append(f"{number} {draft[2]}")


def _limit(floor: tuple[int, int]) -> int:
    """Return the first n whose (n, 0) does not sort before floor (at most sys.maxsize, for the C writer)."""
    return min(floor[0] + (floor[1] > 0), sys.maxsize)


def stream_playlist(
    sources: Sequence[tuple[SourceConfig, Iterable[list[View]], Sequence[Candidate]]],
    overrides: Mapping[tuple[int, str], Override],
    *,
    header: Sequence[tuple[str, str]],
    stats: StreamStats,
    names: bool = False,
    first_number: int = 1,
    use_c: bool | None = None,
) -> Iterator[bytes]:
    """Yield the playlist as UTF-8 (header, then one piece per written channel) of the merged channel sources.

    Each source comes as its views in blocks (playlist_views.iter_views) with its `scan_numbers` result;
    `stats` fills in as the playlist is consumed. use_c: as playlist_views.iter_views takes it.
    """
    yield format_header(header).encode(errors="replace")
    for batch in _Merge(sources, overrides, stats, names, first_number, run_writer(use_c)).run():
        yield from batch
