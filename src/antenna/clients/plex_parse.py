"""Turn Plex Media Server XML into Antenna's domain types; pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from antenna.plex.models import (
    Agent,
    Client,
    Dvr,
    DvrDevice,
    EpisodeWatch,
    LineupChannel,
    NowPlaying,
    PlayerState,
    Section,
    ServerInfo,
    Session,
    WatchRecord,
)

# Children of a sessions/history container that are playable items (Plex names the tag by kind).
ITEM_TAGS = frozenset({"Video", "Track", "Photo", "Episode", "Movie", "Clip"})


def text(elem: Element | None, name: str, default: str = "") -> str:
    """Return an attribute as a string, default when missing."""
    if elem is None:
        return default
    value = elem.get(name)
    return default if value is None else value


def opt_int(elem: Element | None, name: str) -> int | None:
    """Return an attribute as int, None when missing or not a number."""
    raw = text(elem, name)
    try:
        return int(raw) if raw else None
    except ValueError:
        try:
            return int(float(raw))
        except (ValueError, OverflowError):  # "INF" and "NaN" parse as floats but are no integers
            return None


def as_int(elem: Element | None, name: str, default: int = 0) -> int:
    """Return an attribute as int, default when missing or not a number."""
    value = opt_int(elem, name)
    return default if value is None else value


def opt_float(elem: Element | None, name: str) -> float | None:
    """Return an attribute as float, None when missing or not a number."""
    raw = text(elem, name)
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is None or math.isfinite(value) else None


def as_bool(elem: Element | None, name: str) -> bool:
    """Return a Plex boolean attribute ("1"/"true")."""
    return text(elem, name).lower() in ("1", "true")


def timestamp(elem: Element | None, name: str) -> datetime | None:
    """Return a Unix-seconds attribute as an aware UTC datetime."""
    value = opt_int(elem, name)
    if not value:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):  # a year past 9999 from a broken server
        return None


def items(container: Element | None) -> Iterator[Element]:
    """Yield the playable items of a container."""
    if container is None:
        return
    for child in container:
        if child.tag in ITEM_TAGS:
            yield child


def parse_info(root: Element) -> ServerInfo:
    """Parse `GET /`."""
    return ServerInfo(
        name=text(root, "friendlyName"),
        version=text(root, "version"),
        platform=text(root, "platform"),
        machine_id=text(root, "machineIdentifier"),
        transcoder_active_video_sessions=as_int(root, "transcoderActiveVideoSessions"),
        companion_proxy=as_bool(root, "companionProxy"),
        allow_media_deletion=as_bool(root, "allowMediaDeletion"),
    )


def parse_sections(root: Element) -> list[Section]:
    """Parse `/library/sections`."""
    return [
        Section(
            id=text(d, "key"),
            title=text(d, "title"),
            type=text(d, "type"),
            agent=text(d, "agent"),
            scanner=text(d, "scanner"),
            locations=tuple(text(loc, "path") for loc in d.iter("Location")),
        )
        for d in root.iter("Directory")
    ]


def parse_agents(root: Element, media_type: int | None = None) -> list[Agent]:
    """Parse `/system/agents`; asked for one media type, Plex omits the MediaType children."""
    agents = []
    for a in root.iter("Agent"):
        types = tuple(t for t in (opt_int(m, "mediaType") for m in a.iter("MediaType")) if t is not None)
        if not types and media_type is not None:
            types = (media_type,)
        agents.append(
            Agent(
                identifier=text(a, "identifier"), title=text(a, "name") or text(a, "title"), media_types=types
            )
        )
    return agents


def resolution(raw: str) -> str:
    """Return a display resolution: "1080" -> "1080p", "sd" -> "SD", "4k" stays."""
    if not raw:
        return ""
    if raw.isdigit():
        return f"{raw}p"
    if raw.lower() == "sd":
        return "SD"
    return raw


def display_title(elem: Element) -> str:
    """Return "Series : Episode", "Artist : Track", or the plain title."""
    kind = text(elem, "type")
    title = text(elem, "title")
    parent = text(elem, "grandparentTitle")
    if kind in ("episode", "track") and parent:
        return f"{parent} : {title}"
    return title


def now_playing(elem: Element) -> NowPlaying:
    """Parse the item part of a session."""
    media = elem.find("Media")
    rating = opt_float(elem, "rating")
    return NowPlaying(
        rating_key=text(elem, "ratingKey"),
        title=display_title(elem),
        item_title=text(elem, "title"),
        media_type=text(elem, "type"),
        grandparent_title=text(elem, "grandparentTitle"),
        parent_title=text(elem, "parentTitle"),
        summary=text(elem, "summary"),
        art=text(elem, "art"),
        thumb=text(elem, "thumb"),
        parent_thumb=text(elem, "parentThumb"),
        grandparent_art=text(elem, "grandparentArt"),
        grandparent_thumb=text(elem, "grandparentThumb"),
        year=opt_int(elem, "year"),
        star_rating=rating if rating is not None else opt_float(elem, "audienceRating"),
        content_rating=text(elem, "contentRating"),
        resolution=resolution(text(media, "videoResolution")),
        duration_ms=opt_int(elem, "duration") or opt_int(media, "duration"),
        offset_ms=as_int(elem, "viewOffset"),
        library_section_id=text(elem, "librarySectionID"),
    )


def transcode_decision(elem: Element) -> str:
    """Return "transcode", "copy" or "direct play" from a session's TranscodeSession."""
    decision = text(elem.find("TranscodeSession"), "videoDecision").lower()
    return decision if decision in ("transcode", "copy") else "direct play"


def parse_sessions(root: Element) -> list[Session]:
    """Parse `/status/sessions`."""
    sessions = []
    for elem in items(root):
        player = elem.find("Player")
        sessions.append(
            Session(
                session_key=text(elem, "sessionKey"),
                client_id=text(player, "machineIdentifier"),
                state=PlayerState.from_plex(text(player, "state")),
                user=text(elem.find("User"), "title"),
                device_title=text(player, "title"),
                product=text(player, "product"),
                platform=text(player, "platform"),
                address=text(player, "address"),
                port=opt_int(player, "port"),
                now=now_playing(elem),
                transcode_decision=transcode_decision(elem),
            )
        )
    return sessions


def parse_clients(root: Element) -> list[Client]:
    """Parse `/clients`."""
    return [
        Client(
            machine_id=text(s, "machineIdentifier"),
            title=text(s, "name") or text(s, "title"),
            product=text(s, "product"),
            platform=text(s, "platform"),
            address=text(s, "address") or text(s, "host"),
            port=opt_int(s, "port"),
            capabilities=tuple(c for c in text(s, "protocolCapabilities").split(",") if c),
        )
        for s in root
        if s.tag in ("Server", "Player", "Device")
    ]


def count_video_transcodes(root: Element) -> int:
    """Count `/transcode/sessions` entries that transcode video."""
    return sum(1 for t in root.iter("TranscodeSession") if text(t, "videoDecision").lower() == "transcode")


def episode_files(elem: Element) -> list[str]:
    """Return every file path of an item's media parts."""
    return [text(p, "file") for p in elem.iter("Part") if text(p, "file")]


def parse_episode(elem: Element, file: str) -> EpisodeWatch:
    """Parse one episode of `/library/sections/N/all?type=4` for one of its files."""
    return EpisodeWatch(
        rating_key=text(elem, "ratingKey"),
        title=display_title(elem),
        file=file,
        view_count=as_int(elem, "viewCount"),
        view_offset_ms=as_int(elem, "viewOffset"),
        last_viewed_at=timestamp(elem, "lastViewedAt"),
    )


def parse_accounts(root: Element) -> dict[int, str]:
    """Parse `/accounts` into id -> name."""
    accounts: dict[int, str] = {}
    for a in root.iter("Account"):
        account_id = opt_int(a, "id")
        if account_id is not None:
            accounts[account_id] = text(a, "name") or f"account {account_id}"
    return accounts


def parse_history_entry(elem: Element, accounts: dict[int, str]) -> WatchRecord | None:
    """Parse one row of `/status/sessions/history/all`; None for a row without a time."""
    viewed = timestamp(elem, "viewedAt")
    if viewed is None:
        return None
    account_id = as_int(elem, "accountID")
    return WatchRecord(
        rating_key=text(elem, "ratingKey"),
        account_id=account_id,
        user=accounts.get(account_id, f"account {account_id}"),
        viewed_at=viewed,
    )


def parse_dvrs(root: Element) -> list[Dvr]:
    """Parse `/livetv/dvrs`."""
    dvrs = []
    for d in root.iter("Dvr"):
        devices = tuple(
            DvrDevice(
                key=text(dev, "key"),
                uuid=text(dev, "uuid"),
                uri=text(dev, "uri"),
                make=text(dev, "make"),
                model=text(dev, "model") or text(dev, "modelNumber"),
                title=text(dev, "title") or text(dev, "name"),
                mappings=tuple(
                    (text(m, "channelKey"), text(m, "deviceIdentifier"), text(m, "enabled", "1") != "0")
                    for m in dev.iter("ChannelMapping")
                ),
            )
            for dev in d.iter("Device")
        )
        dvrs.append(
            Dvr(
                key=text(d, "key"),
                uuid=text(d, "uuid"),
                title=text(d, "title") or text(d, "friendlyName"),
                lineup=text(d, "lineup"),
                lineup_title=text(d, "lineupTitle"),
                devices=devices,
            )
        )
    return dvrs


def parse_lineup_channels(root: Element) -> list[LineupChannel]:
    """Parse `/livetv/epg/lineupchannels`."""
    return [
        LineupChannel(
            key=text(c, "key"),
            identifier=text(c, "identifier"),
            number=text(c, "channelVcn") or text(c, "vcn") or text(c, "number"),
            title=text(c, "title"),
            call_sign=text(c, "callSign"),
        )
        for c in root.iter("Channel")
    ]
