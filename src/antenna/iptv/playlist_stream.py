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

from antenna.formats.m3u import M3URecord
from antenna.formats.m3u_write import format_entry, format_header, format_value, one_line
from antenna.iptv.models import Override, SourceConfig, plex_safe_id
from antenna.iptv.number_scan import Candidate, Unread
from antenna.iptv.plan import PLAYLIST_ATTRS, absolute, keep_name, number_or_empty, sort_key

_NO_OVERRIDE = Override()
_ALIAS = {"tvg-chno": "ch-number"}
_TRUE = frozenset({"true", "1", "yes"})
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
# the rest is everything after the tvg-chno attribute, None when the channel is not written.
_Draft = tuple[int, tuple[int, str] | None, str, str | None, bool]


class _Merge:
    """plan.merge_channels' two numbering passes run as one, with a reorder heap in front of the writer."""

    def __init__(
        self,
        sources: Sequence[tuple[SourceConfig, Iterable[M3URecord], Sequence[Candidate]]],
        overrides: Mapping[tuple[int, str], Override],
        stats: StreamStats,
        names: bool,
        first_number: int,
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
        self.out: list[str] = []
        self.unread_floor = self.unread.floor()  # kept up to date as lines are read

    def run(self) -> Iterator[list[str]]:
        for index, (source, records, candidates) in enumerate(self.sources):
            yield from self._source(source, records, candidates)
            self.unread.remove(self.ends[index])
            self.unread_floor = self.unread.floor()
            self._drain()
        # Every line is read now: nothing waits (the queue drained) and the heap holds the rest in order.
        while self.heap:
            _key, _seq, number, draft = heapq.heappop(self.heap)
            self._write(number, draft)
        yield self.out

    def _source(
        self, source: SourceConfig, records: Iterable[M3URecord], candidates: Sequence[Candidate]
    ) -> Iterator[list[str]]:
        stats, unread, overrides, starts, out = self.stats, self.unread, self.overrides, self.starts, self.out
        presets, queue, heap = self.presets, self.queue, self.heap
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
        enabled_count = stats.enabled
        written = 0
        names, sums = self.names, _DIGIT_SUMS
        owed = False
        for name, url, attrs, _duration, groups, kodiprops, vlcopts, line in records:
            if owed:  # lines read since may have freed the number a queued channel waits for
                owed = False
                if queue or heap:
                    self._drain()
            if line >= next_line:
                # This entry and the lines before it are read: their numbers are known once this entry has
                # claimed its own, so the queue is drained at the next entry (or the source's end).
                while index < pending and candidates[index][0] <= line:
                    unread.remove(candidates[index][1])
                    index += 1
                next_line = candidates[index][0] if index < pending else sys.maxsize
                self.unread_floor = unread.floor()
                owed = True
            found = dict(reversed(attrs))  # the first of each key wins, as in M3UEntry.attr
            keys = "".join(found)
            if keys == keys.lower():
                tvg_id = found.get("tvg-id", "")
                tvg_name = found.get("tvg-name", "")
                key = tvg_id or tvg_name or name
                if key in seen:
                    stats.duplicates.append(f"{source.name}: {key}")
                    continue
                chno = found.get("tvg-chno")
                if chno is None:
                    chno = found.get("ch-number", "")
                logo = found.get("tvg-logo", "")
                radio = found.get("radio", "")
                extras = not PLAYLIST_ATTRS.isdisjoint(found)
            else:
                tvg_id, tvg_name = _attr(attrs, "tvg-id"), _attr(attrs, "tvg-name")
                key = tvg_id or tvg_name or name
                if key in seen:
                    stats.duplicates.append(f"{source.name}: {key}")
                    continue
                chno, logo, radio = _attr(attrs, "tvg-chno"), _attr(attrs, "tvg-logo"), _attr(attrs, "radio")
                extras = True
            seen.add(key)
            groups = groups or (source.name,)
            if filtered and not keep_name(name, groups, rules):
                continue
            override = overrides.get((source_id, key), _NO_OVERRIDE) if overrides else _NO_OVERRIDE
            wanted = number_or_empty(override.number) if override.number else ""
            if not wanted and chno:
                wanted = number_or_empty(chno)
            if wanted:
                if wanted in presets:
                    stats.warnings.append(
                        f"{source.name}: {name} wanted number {wanted}, already taken; renumbered"
                    )
                    wanted = ""
                else:
                    presets.add(wanted)
            out_name = override.name or tvg_name or name
            if override.group:
                group = override.group
                groups = (group, *[g for g in groups if g != group])
            else:
                group = groups[0]
            enabled = override.enabled if override.enabled is not None else True
            seq += 1
            enabled_count += enabled
            rest: str | None = None
            if enabled and url:
                logo = override.logo or logo or icon
                if base_url and logo:
                    logo = absolute(logo, base_url)
                if kodiprops or vlcopts or extras:
                    extra = [("tvg-logo", logo)] if logo else []
                    extra.append(("group-title", ";".join(groups)))
                    if radio and radio.strip().lower() in _TRUE:
                        extra.append(("radio", "true"))
                    extra.extend((k, v) for k, v in attrs if k.lower() in PLAYLIST_ATTRS)
                    rest = format_entry(out_name, url, extra, groups, kodiprops, vlcopts)[10:]
                else:  # as format_entry writes it, spelled out for the usual entry
                    title = groups[0] if len(groups) == 1 else ";".join(groups)
                    if '"' in title or "\n" in title or "\r" in title:
                        title = format_value(title)
                    shown = out_name
                    if "\n" in shown or "\r" in shown:
                        shown = one_line(shown)
                    if "\n" in url or "\r" in url:
                        url = one_line(url)
                    if logo:
                        if '"' in logo or "\n" in logo or "\r" in logo:
                            logo = format_value(logo)
                        rest = f' tvg-logo="{logo}" group-title="{title}"'
                    else:
                        rest = f' group-title="{title}"'
                    if radio and radio.strip().lower() in _TRUE:
                        rest += ' radio="true"'
                    rest = f"{rest},{shown}\n{url}\n"
            start_key = (source_id, group.lower()) if grouped else None
            if start_key is not None and start_key not in starts:
                start_key = None
            draft = (seq, start_key, out_name, rest, enabled)
            if wanted:
                self._place(wanted, draft)
            elif queue or starts:
                queue.append(draft)
                self._drain()
            else:
                # The usual channel, _drain and _place inlined: nothing queued, no group starts.
                candidate = self.next_free
                while True:
                    number = str(candidate)
                    if number in presets:
                        candidate += 1
                    elif unread.unknown or number in unread.counts:
                        queue.append(draft)
                        self.scan, self.blocked = candidate, number
                        break
                    else:
                        self.next_free = candidate + 1
                        order = (candidate, 0)
                        if (not heap or order < heap[0][0]) and order < self.unread_floor:
                            if rest is None or names:
                                self._write(number, draft)
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
                                    f'tvg-chno="{number}"{rest}'
                                )
                                written += 1
                        else:
                            heapq.heappush(heap, (order, seq, number, draft))
                            self._flush_heap()
                        break
            if len(out) >= 2048:
                stats.channels, stats.enabled = seq, enabled_count
                stats.written += written
                written = 0
                yield out
                out.clear()
        stats.channels, stats.enabled = seq, enabled_count
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
            self.out.append(f'#EXTINF:-1 tvg-id="{xmltv_id}" tvg-name="{name}" tvg-chno="{number}"{rest}')
            self.stats.written += 1
        if self.names and draft[4]:
            self.stats.without_guide.append(f"{number} {draft[2]}")


def _attr(attrs: tuple[tuple[str, str], ...], key: str) -> str:
    """Return an attribute as M3UEntry.attr does, for the rare entry with upper-case keys."""
    for k, v in attrs:
        if k == key:
            return v
    alias = _ALIAS.get(key)
    via_alias: str | None = None
    for k, v in attrs:
        lk = k.lower()
        if lk == key:
            return v
        if via_alias is None and lk == alias:
            via_alias = v
    return "" if via_alias is None else via_alias


def stream_playlist(
    sources: Sequence[tuple[SourceConfig, Iterable[M3URecord], Sequence[Candidate]]],
    overrides: Mapping[tuple[int, str], Override],
    *,
    header: Sequence[tuple[str, str]],
    stats: StreamStats,
    names: bool = False,
    first_number: int = 1,
) -> Iterator[str]:
    """Yield the playlist (header, then one string per written channel) of the merged channel sources.

    Each source comes with its `scan_numbers` result; `stats` fills in as the playlist is consumed.
    """
    yield format_header(header)
    for batch in _Merge(sources, overrides, stats, names, first_number).run():
        yield from batch
