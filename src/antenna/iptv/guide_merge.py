"""Streaming guide merge: programmes from guide sources in priority order, gaps filled, overlaps dropped."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from antenna.formats.guide import Programme
from antenna.iptv import plan
from antenna.iptv.models import Channel, ChannelReport


@dataclass
class _Coverage:
    programmes: int = 0
    seconds: float = 0.0
    # Sorted (start, stop) epoch seconds; only kept for channels fed by more than one guide source.
    intervals: list[tuple[int, int]] = field(default_factory=list)


class GuideMerger:
    """Turns source programmes into Plex-correct output programmes for the merged channels."""

    def __init__(
        self, channels: Sequence[Channel], *, window_start: datetime, window_end: datetime, lang: str = "en"
    ) -> None:
        self._start = window_start
        self._end = window_end
        # Epoch seconds; the end rounded up, so a programme starting before it in the same second stays.
        self.window = (int(window_start.timestamp()), math.ceil(window_end.timestamp()))
        self._lang = lang
        self._targets: dict[tuple[int, str], list[str]] = {}
        sources_per_channel: dict[str, int] = {}
        self._names: dict[str, Channel] = {}
        for channel in channels:
            if not channel.enabled:
                continue
            self._names[channel.xmltv_id] = channel
            for source_id, guide_id in channel.guide_ids:
                self._targets.setdefault((source_id, guide_id), []).append(channel.xmltv_id)
            sources_per_channel[channel.xmltv_id] = len(channel.guide_ids)
        self._shared = {cid for cid, count in sources_per_channel.items() if count > 1}
        self._coverage: dict[str, _Coverage] = {cid: _Coverage() for cid in self._names}
        self._source_order: list[int] = []
        self._epoch: dict[datetime, int] = {}
        self.untitled = 0  # accepted but dropped for want of a title (finisher.merge_batch counts them)

    def wanted(self, source_id: int) -> set[str]:
        """Return the guide channel ids worth reading from a source (the reader skips the rest cheaply)."""
        return {guide_id for (sid, guide_id) in self._targets if sid == source_id}

    def feed(self, source_id: int, programmes: Iterable[Programme]) -> Iterator[Programme]:
        """Yield the output programmes from one source; call sources in priority order, highest first."""
        later = self.begin(source_id)
        epoch = self.epoch
        for programme in programmes:
            start = epoch(programme.start)
            stop = epoch(programme.stop) if programme.stop is not None else -1
            for channel_id in self.accept(source_id, programme.channel, start, stop, later):
                yield plan.plex_programme(programme, channel_id, lang=self._lang)

    def epoch(self, at: datetime) -> int:
        """Return a time as epoch seconds; neighbouring programmes share times, so they are cached."""
        cache = self._epoch
        value = cache.get(at)
        if value is None:
            if len(cache) > 1 << 15:
                cache.clear()
            value = cache[at] = int(at.timestamp())
        return value

    def begin(self, source_id: int) -> bool:
        """Start the next source (priority order); return True when an earlier one may already cover times."""
        later = bool(self._source_order)
        self._source_order.append(source_id)
        if later:
            for coverage in self._coverage.values():
                coverage.intervals.sort()
        return later

    def accept(self, source_id: int, channel: str, start: int, stop: int, later: bool) -> list[str]:
        """Return the merged channels a programme goes to (epoch seconds; stop -1 when unknown), counted."""
        targets = self._targets.get((source_id, channel))
        if not targets:
            return []
        if stop < 0:
            stop = start
        if not (start < self.window[1] and stop > self.window[0]):
            return []
        accepted = []
        for channel_id in targets:
            coverage = self._coverage[channel_id]
            if channel_id in self._shared:
                if later and _overlaps(coverage.intervals, start, stop):
                    continue  # a higher-priority source already covers this time
                if later:
                    bisect.insort(coverage.intervals, (start, stop))
                else:
                    coverage.intervals.append((start, stop))
            coverage.programmes += 1
            coverage.seconds += max(0, stop - start)
            accepted.append(channel_id)
        return accepted

    def state(self) -> tuple[dict[str, _Coverage], list[int], int]:
        """Return what the merge has counted so far (for a merger copy in another process to hand back)."""
        return self._coverage, self._source_order, self.untitled

    def adopt(self, state: tuple[dict[str, _Coverage], list[int], int]) -> None:
        """Take over a copy's counts (see state)."""
        self._coverage, self._source_order, self.untitled = state

    def placeholders(self, *, hours: int = 2) -> Iterator[Programme]:
        """Yield filler programmes for channels no guide covers (Plex hides channels without any)."""
        first = self._start.replace(minute=0, second=0, microsecond=0)
        for channel_id, cov in self._coverage.items():
            if cov.programmes:
                continue
            channel = self._names[channel_id]
            start = first
            while start < self._end:
                stop = start + timedelta(hours=hours)
                yield plan.plex_programme(
                    Programme(
                        channel=channel_id,
                        start=start,
                        stop=stop,
                        titles=((channel.name, self._lang),),
                        descs=(("No guide data for this channel.", self._lang),),
                    ),
                    channel_id,
                    lang=self._lang,
                )
                start = stop

    def coverage(self) -> list[ChannelReport]:
        """Return guide hours and programme counts per channel, in channel order."""
        return [
            ChannelReport(channel.number, channel.name, round(cov.seconds / 3600, 1), cov.programmes)
            for channel_id, cov in self._coverage.items()
            for channel in (self._names[channel_id],)
        ]

    @property
    def programmes(self) -> int:
        """Return how many programmes were yielded so far."""
        return sum(c.programmes for c in self._coverage.values())


def _overlaps(intervals: list[tuple[int, int]], start: int, stop: int) -> bool:
    index = bisect.bisect_left(intervals, (start, start))
    if index > 0 and intervals[index - 1][1] > start:
        return True
    return index < len(intervals) and intervals[index][0] < stop
