"""The IPTV merge engine: read sources (format found by content), merge, write the M3U and XMLTV."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import BinaryIO

from antenna.errors import UserError
from antenna.formats.detect import describe, detect
from antenna.formats.guide import GuideChannel, ParseWarning, Programme
from antenna.formats.jsonm3u import parse_jsonm3u
from antenna.formats.jsontv import parse_jsontv
from antenna.formats.m3u import M3UEntry, decode_lines, iter_m3u
from antenna.formats.m3u_write import render_m3u
from antenna.formats.xmltv import (
    ReadStats,
    open_stream,
    read_xmltv,
)
from antenna.iptv import plan
from antenna.iptv.guide_merge import GuideMerger
from antenna.iptv.models import Channel, MergeReport, Override, SourceConfig, SourceReport
from antenna.iptv.number_scan import Candidate, scan_numbers
from antenna.iptv.playlist_stream import StreamStats
from antenna.iptv.playlist_stream import stream_playlist as _stream_playlist
from antenna.iptv.playlist_views import View, iter_views

HEAD_BYTES = 64 * 1024
CHUNK = 1 << 18  # small enough that a decoded chunk and its lines stay a few MB
CHANNEL_FORMATS = {"m3u", "jsonm3u"}
GUIDE_FORMATS = {"xmltv", "jsontv"}


@dataclass
class SourceFile:
    """A source's last good data on disk, with the format found in it."""

    config: SourceConfig
    path: Path
    kind: str = ""
    tz: tzinfo | None = None


@dataclass
class Merged:
    """Channels decided by a merge, ready to be written."""

    channels: list[Channel]
    guides: list[SourceFile]
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reports: list[SourceReport] = field(default_factory=list)


@contextlib.contextmanager
def batch_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a merge allocates millions of small, acyclic objects."""
    # It walked the whole 200k-channel object graph again and again: ~40% of the merge (bench/iptv.py).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """Open a source file, decompressing gzip or xz by their magic bytes."""
    with path.open("rb") as raw:
        yield open_stream(raw)


def detect_format(path: Path) -> str:
    """Return the format of a source file from its content (never its name)."""
    with opened(path) as stream:
        head = stream.read(HEAD_BYTES)
    kind = detect(head)
    if kind in CHANNEL_FORMATS | GUIDE_FORMATS:
        return kind
    raise UserError(f"{path.name}: {describe(kind)}.", "Expected M3U, JSON-M3U, XMLTV or JSONTV.")


def _text(path: Path) -> str:
    with opened(path) as stream:
        return stream.read().decode("utf-8-sig", errors="replace")


def load_channels(source: SourceFile) -> tuple[list[M3UEntry], int]:
    """Return a channel source's entries and how many warnings reading them gave."""
    if source.kind == "jsonm3u":
        entries, warnings = parse_jsonm3u(_text(source.path), source_name=source.config.name)
        return entries, len(warnings)
    found: list[ParseWarning] = []
    with opened(source.path) as stream:
        entries = list(iter_m3u(decode_lines(_chunks(stream)), found))
    return entries, len(found)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def load_guide_channels(source: SourceFile) -> list[GuideChannel]:
    """Return a guide source's channels; XMLTV puts them first, so reading stops at the first programme."""
    if source.kind == "jsontv":
        channels, _programmes, _warnings = parse_jsontv(_text(source.path), tz=source.tz or _utc())
        return channels
    found = []
    with opened(source.path) as stream:
        for item in read_xmltv(stream, tz=source.tz or _utc()):
            if isinstance(item, Programme):
                break
            found.append(item)
    return found


def read_programmes(source: SourceFile, wanted: set[str], stats: ReadStats) -> Iterator[Programme]:
    """Yield a guide source's programmes on the wanted channels as values (JSONTV; XMLTV by value)."""
    if source.kind == "jsontv":
        _channels, programmes, warnings = parse_jsontv(_text(source.path), tz=source.tz or _utc())
        stats.warnings.extend(warnings)
        yield from (p for p in programmes if p.channel in wanted)
        return
    with opened(source.path) as stream:
        for item in read_xmltv(stream, tz=source.tz or _utc(), channels=wanted, stats=stats):
            if isinstance(item, Programme):
                yield item


def _utc() -> tzinfo:
    from datetime import UTC

    return UTC


def merge(files: Sequence[SourceFile], overrides: Mapping[tuple[int, str], Override]) -> Merged:
    """Decide the channel list and guide mapping from the sources' files."""
    with batch_gc():
        return _merge(files, overrides)


def _merge(files: Sequence[SourceFile], overrides: Mapping[tuple[int, str], Override]) -> Merged:
    channel_sources: list[tuple[SourceConfig, Sequence[M3UEntry]]] = []
    guides: list[SourceFile] = []
    reports: list[SourceReport] = []
    for source in files:
        began = time.perf_counter()
        source.kind = source.kind or detect_format(source.path)
        count = warnings = 0
        if source.kind in CHANNEL_FORMATS and source.config.role.channels:
            entries, warnings = load_channels(source)
            channel_sources.append((source.config, entries))
            count = len(entries)
        if source.kind in GUIDE_FORMATS and source.config.role.guide:
            guides.append(source)
        reports.append(
            SourceReport(
                source.config.id,
                source.config.name,
                "ok",
                source.kind,
                time.perf_counter() - began,
                channels=count,
                warnings=warnings,
            )
        )
    guide_channels = [(g.config, load_guide_channels(g)) for g in guides]
    if not channel_sources and guide_channels:
        # With guide sources only, the guides' own channels are the channel list.
        channel_sources = [
            (config, [_entry_from_guide(c) for c in chans]) for config, chans in guide_channels
        ]
    channels, duplicates, notes = plan.merge_channels(channel_sources, overrides)
    channels = plan.map_guide(channels, guide_channels, overrides)
    return Merged(channels, guides, duplicates, notes, reports)


def can_stream(files: Sequence[SourceFile]) -> bool:
    """Return True when stream_playlist can merge these sources: M3U channel sources, no guide to map."""
    for source in files:
        source.kind = source.kind or detect_format(source.path)
        if source.kind in GUIDE_FORMATS and source.config.role.guide:
            return False  # guide mapping needs the whole channel list
        if source.kind == "jsonm3u" and source.config.role.channels:
            return False
    return any(s.kind == "m3u" and s.config.role.channels for s in files)


def scan_playlists(files: Sequence[SourceFile]) -> list[Sequence[Candidate]] | None:
    """Return each channel source's number scan for stream_playlist; None when the merge cannot stream
    (see can_stream; or a source's lines cannot be matched, having bare CRs)."""
    if not can_stream(files):
        return None
    scans: list[Sequence[Candidate]] = []
    for source in _channel_files(files):
        with opened(source.path) as stream:
            scan = scan_numbers(_chunks(stream))
        if scan is None:
            return None
        scans.append(scan)
    return scans


def _channel_files(files: Sequence[SourceFile]) -> list[SourceFile]:
    return [s for s in files if s.kind == "m3u" and s.config.role.channels]


def stream_playlist(
    files: Sequence[SourceFile],
    scans: Sequence[Sequence[Candidate]],
    overrides: Mapping[tuple[int, str], Override],
    out: BinaryIO,
    *,
    guide_url: str,
    names: bool = False,
) -> tuple[StreamStats, list[SourceReport]]:
    """Merge M3U sources straight into the playlist (see playlist_stream), with scan_playlists' scans;
    return what it decided and a report line per source. With names, list the channels without guide."""
    channel_files = _channel_files(files)
    reports: dict[int, SourceReport] = {}
    stats = StreamStats()
    header = [("x-tvg-url", guide_url)] if guide_url else []
    with batch_gc():
        sources = [
            (s.config, _views(s, reports, {key for sid, key in overrides if sid == s.config.id}), scan)
            for s, scan in zip(channel_files, scans, strict=True)
        ]
        buffer: list[bytes] = []
        for data in _stream_playlist(sources, overrides, header=header, stats=stats, names=names):
            buffer.append(data)
            if len(buffer) >= 4096:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))
    for s in files:
        if s.config.id not in reports:
            reports[s.config.id] = SourceReport(s.config.id, s.config.name, "ok", s.kind)
    return stats, [reports[s.config.id] for s in files]


def _views(
    source: SourceFile, reports: dict[int, SourceReport], overridden: set[str]
) -> Iterator[list[View]]:
    """Yield a source's entries as the streamed merge reads them, then add its report line."""
    began = time.perf_counter()
    found: list[ParseWarning] = []
    count = 0
    with opened(source.path) as stream:
        for views in iter_views(_chunks(stream), found, source.config, overridden=overridden):
            count += len(views)
            yield views
    seconds = time.perf_counter() - began
    config = source.config
    reports[config.id] = SourceReport(
        config.id, config.name, "ok", source.kind, seconds, channels=count, warnings=len(found)
    )


def _entry_from_guide(channel: GuideChannel) -> M3UEntry:
    attrs = [("tvg-id", channel.id), ("tvg-name", channel.name)]
    if channel.icons:
        attrs.append(("tvg-logo", channel.icons[0]))
    return M3UEntry(name=channel.name, url="", attrs=tuple(attrs))


def write_playlist(merged: Merged, out: BinaryIO, *, guide_url: str) -> int:
    """Write the IPTV Simple playlist; return how many channels it lists."""
    with batch_gc():
        return _write_playlist(merged, out, guide_url=guide_url)


def _write_playlist(merged: Merged, out: BinaryIO, *, guide_url: str) -> int:
    header = [("x-tvg-url", guide_url)] if guide_url else []
    entries = [_playlist_entry(c) for c in merged.channels if c.enabled and c.url]
    buffer: list[str] = []
    for line in render_m3u(header, entries):
        buffer.append(line)
        if len(buffer) >= 4096:
            out.write("".join(buffer).encode())
            buffer.clear()
    out.write("".join(buffer).encode())
    return len(entries)


def _playlist_entry(channel: Channel) -> M3UEntry:
    attrs = [("tvg-id", channel.xmltv_id), ("tvg-name", channel.name), ("tvg-chno", channel.number)]
    if channel.logo:
        attrs.append(("tvg-logo", channel.logo))
    attrs.append(("group-title", ";".join(channel.groups)))
    if channel.radio:
        attrs.append(("radio", "true"))
    attrs.extend(channel.attrs)
    return M3UEntry(
        name=channel.name,
        url=channel.url,
        attrs=tuple(attrs),
        groups=channel.groups,
        kodiprops=channel.kodiprops,
        vlcopts=channel.vlcopts,
    )


def report(
    merged: Merged, merger: GuideMerger | None, previous: Mapping[str, str], warnings: int = 0
) -> MergeReport:
    """Return the merge report: changes since the previous channel list, coverage and sources."""
    current = {f"{c.source_id}:{c.key}": c.name for c in merged.channels}
    added, removed, renamed = plan.report_changes(previous, current)
    coverage = tuple(merger.coverage()) if merger else ()
    return MergeReport(
        channels=len(merged.channels),
        programmes=merger.programmes if merger else 0,
        added=tuple(added),
        removed=tuple(removed),
        renamed=tuple(renamed),
        duplicates=tuple(merged.duplicates),
        without_guide=tuple(f"{c.number} {c.name}" for c in merged.channels if not c.guide_ids and c.enabled),
        coverage=coverage,
        sources=tuple(merged.reports),
        warnings=tuple(merged.warnings) + ((f"{warnings} guide entries skipped",) if warnings else ()),
    )


def channel_names(merged: Merged) -> str:
    """Return the {identity: name} map (JSON) the next report compares against."""
    return json.dumps({f"{c.source_id}:{c.key}": c.name for c in merged.channels}, ensure_ascii=False)


def replace_sources(report: MergeReport, sources: Sequence[SourceReport]) -> MergeReport:
    """Return the report with the per-source lines replaced (the fetch results know more than the merge)."""
    return dataclasses.replace(report, sources=tuple(sorted(sources, key=lambda s: s.source_id)))


def channel_dict(channel: Channel) -> dict[str, object]:
    """Return a merged channel as JSON for the channel list."""
    return {
        "source_id": channel.source_id,
        "key": channel.key,
        "name": channel.name,
        "number": channel.number,
        "group": channel.groups[0] if channel.groups else "",
        "logo": channel.logo,
        "enabled": channel.enabled,
        "radio": channel.radio,
        "tvg_id": channel.tvg_id,
        "xmltv_id": channel.xmltv_id,
        "guide": [f"{source}:{guide}" for source, guide in channel.guide_ids],
    }


def report_dict(report: MergeReport) -> dict[str, object]:
    """Return a merge report as JSON."""
    return dataclasses.asdict(report)
