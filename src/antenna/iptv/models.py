"""IPTV domain types: sources, merged channels, overrides and what a merge reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

JOB_KIND = "iptv_refresh"  # the job that refreshes sources and rebuilds the outputs


class SourceKind(StrEnum):
    """Where a source's data comes from."""

    URL = "url"
    FILE = "file"
    XTREAM = "xtream"
    COMMAND = "command"


class SourceRole(StrEnum):
    """What a source provides."""

    CHANNELS = "channels"
    GUIDE = "guide"
    BOTH = "both"

    @property
    def channels(self) -> bool:
        """Return True when the source provides channels."""
        return self in (SourceRole.CHANNELS, SourceRole.BOTH)

    @property
    def guide(self) -> bool:
        """Return True when the source provides guide data."""
        return self in (SourceRole.GUIDE, SourceRole.BOTH)


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    """Which channels of a source to keep: groups and regexes on the name (empty means no constraint)."""

    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_regex: str = ""
    exclude_regex: str = ""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One IPTV source as the merge sees it."""

    id: int
    name: str
    role: SourceRole = SourceRole.BOTH
    icon: str = ""
    priority: int = 100  # lower first, for guide data of the same channel
    base_url: str = ""  # relative logos are resolved against it
    filter: ChannelFilter = field(default_factory=ChannelFilter)
    group_starts: tuple[tuple[str, int], ...] = ()  # (group, first number)
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Override:
    """What the user changed about a channel; kept across refreshes (None: not overridden)."""

    name: str | None = None
    number: str | None = None
    group: str | None = None
    logo: str | None = None
    guide_id: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A merged channel: identity is (source id, key)."""

    source_id: int
    key: str
    name: str
    url: str
    number: str
    groups: tuple[str, ...]
    logo: str = ""
    tvg_id: str = ""  # the id the source gave (for guide matching)
    radio: bool = False
    enabled: bool = True
    guide_ids: tuple[tuple[int, str], ...] = ()  # (guide source id, guide channel id) by priority
    kodiprops: tuple[tuple[str, str], ...] = ()
    vlcopts: tuple[tuple[str, str], ...] = ()
    attrs: tuple[
        tuple[str, str], ...
    ] = ()  # catchup*, tvg-shift, tvg-rec, provider-* carried to the playlist

    @property
    def xmltv_id(self) -> str:
        """Return the guide id Antenna writes: safe from Plex's 1/10 merge bug (C<num>.<check>.antenna)."""
        return plex_safe_id(self.number)


def plex_safe_id(number: str) -> str:
    """Return an id whose prefix never equals another channel's number (Plex merged 1 with 10, 2 with 20…)."""
    if number.isdecimal():  # every character a digit int() reads: the common case, without a list
        check = sum(map(int, number)) % 10
    else:
        check = sum([int(c) for c in number if c.isdigit()]) % 10
    return f"C{number}.{check}.antenna"


@dataclass(frozen=True, slots=True)
class SourceReport:
    """How one source did in a refresh."""

    source_id: int
    name: str
    status: str  # ok, unchanged, failed, kept (failed but last good data used)
    message: str = ""
    seconds: float = 0.0
    channels: int = 0
    programmes: int = 0
    warnings: int = 0


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """Guide coverage of one output channel."""

    number: str
    name: str
    guide_hours: float
    programmes: int


@dataclass(frozen=True, slots=True)
class MergeReport:
    """What a merge did: channel changes, guide coverage and per-source status."""

    channels: int
    programmes: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    duplicates: tuple[str, ...] = ()
    without_guide: tuple[str, ...] = ()
    coverage: tuple[ChannelReport, ...] = ()
    sources: tuple[SourceReport, ...] = ()
    warnings: tuple[str, ...] = ()
