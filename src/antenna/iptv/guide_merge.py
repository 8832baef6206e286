"""Streaming guide merge: programmes from guide sources in priority order, gaps filled, overlaps dropped."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from antenna.formats.guide import Programme
from antenna.iptv import plan, plex_xml
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
        self.untitled = 0  # accepted programmes dropped for want of a title (counted by the caller)

    def wanted(self, source_id: int) -> set[str]:
        """Return the guide channel ids worth reading from a source (the reader skips the rest cheaply)."""
        return {guide_id for (sid, guide_id) in self._targets if sid == source_id}

    def feed(self, source_id: int, programmes: Iterable[Programme]) -> Iterator[Programme]:
        """Yield the output programmes from one source; call sources in priority order, highest first."""
        later = self._begin(source_id)
        for programme in programmes:
            for channel_id in self._accept(
                source_id, programme.channel, programme.start, programme.stop, later
            ):
                yield plan.plex_programme(programme, channel_id, lang=self._lang)

    def feed_elements(
        self, source_id: int, elements: Iterable[tuple[Any, str, datetime, datetime | None]]
    ) -> Iterator[tuple[bytes, bytes, str]]:
        """Like feed, for XMLTV elements: yields each output programme prepared for plex_xml.finish."""
        later = self._begin(source_id)
        prepare, accept = plex_xml.prepare, self._accept
        for el, channel, start, stop in elements:
            for channel_id in accept(source_id, channel, start, stop, later):
                yield prepare(el, channel_id, start, stop)

    def _begin(self, source_id: int) -> bool:
        later = bool(self._source_order)
        self._source_order.append(source_id)
        if later:
            for coverage in self._coverage.values():
                coverage.intervals.sort()
        return later

    def _accept(
        self, source_id: int, channel: str, start_at: datetime, stop_at: datetime | None, later: bool
    ) -> list[str]:
        targets = self._targets.get((source_id, channel))
        if not targets:
            return []
        stop_at = stop_at or start_at
        if not (start_at < self._end and stop_at > self._start):
            return []
        # Neighbouring programmes share times (the reader hands out the same datetime objects).
        epoch = self._epoch
        start = epoch.get(start_at)
        if start is None:
            start = epoch[start_at] = int(start_at.timestamp())
        stop = epoch.get(stop_at)
        if stop is None:
            stop = epoch[stop_at] = int(stop_at.timestamp())
        if len(epoch) > 1 << 15:
            epoch.clear()
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
