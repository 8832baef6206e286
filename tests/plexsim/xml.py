"""Render the fake server's state as PMS-shaped XML (MediaContainer documents)."""

from __future__ import annotations

import base64
import time
import zlib
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from tests.plexsim.state import HistoryEntry, Item, Section, Session, SimState

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
LIBRARY_ID = "com.plexapp.plugins.library"
LINEUP = "lineup://tv.plex.providers.epg.xmltv/http%3A%2F%2F127.0.0.1%2Fxmltv.xml#Antenna"
_KIND_TYPES = {"movie": 1, "show": 2, "season": 3, "episode": 4}
_SHOW_AGENTS = [
    ("tv.plex.agents.series", "Plex Series", True),
    ("tv.plex.agents.none", "Plex Personal Media", False),
    ("com.plexapp.agents.none", "Personal Media Shows", False),
    ("com.plexapp.agents.thetvdb", "TheTVDB", False),
]
_MOVIE_AGENTS = [
    ("tv.plex.agents.movie", "Plex Movie", True),
    ("tv.plex.agents.none", "Plex Personal Media", False),
    ("com.plexapp.agents.none", "Personal Media", False),
    ("com.plexapp.agents.imdb", "Plex Movie (Legacy)", False),
]


def attrs(elem: Element, **values: Any) -> Element:
    """Set XML attributes, skipping None; bools become "1"/"0"."""
    for name, value in values.items():
        if value is None:
            continue
        elem.set(name, ("1" if value else "0") if isinstance(value, bool) else str(value))
    return elem


def container(*children: Element, **values: Any) -> Element:
    """A MediaContainer holding `children` with size set."""
    root = attrs(Element("MediaContainer"), size=len(children), **values)
    root.extend(children)
    return root


def render(root: Element) -> str:
    """Serialise a document with the XML declaration PMS sends."""
    return HEADER + tostring(root, encoding="unicode")


def response_ok() -> str:
    """The body of a successful player command."""
    return HEADER + '<Response code="200" status="OK"/>'


def b64path(path: str) -> str:
    """The /services/browse key of a path, as plexapi builds it."""
    return "/services/browse/" + base64.b64encode(path.encode()).decode()


def colour(key: str) -> tuple[int, int, int]:
    """A stable colour for an item's artwork."""
    c = zlib.crc32(key.encode())
    return (c & 0xFF, (c >> 8) & 0xFF, (c >> 16) & 0xFF)


# -- library ------------------------------------------------------------------------------------------
def section_element(section: Section) -> Element:
    """A library section Directory with its Location children."""
    d = attrs(
        Element("Directory"),
        allowSync=True,
        art="/:/resources/show-fanart.jpg",
        composite="",
        filters=True,
        refreshing=False,
        thumb="/:/resources/show.png",
        key=section.id,
        type=section.type,
        title=section.title,
        agent=section.agent,
        scanner=section.scanner,
        language=section.language,
        uuid=section.uuid,
        updatedAt=section.created_at,
        createdAt=section.created_at,
        scannedAt=section.created_at,
        content=True,
        directory=True,
    )
    for n, loc in enumerate(section.locations, start=1):
        attrs(SubElement(d, "Location"), id=int(section.id) * 100 + n, path=loc)
    return d


def _art(key: str, kind: str, stamp: int) -> str:
    return f"/library/metadata/{key}/{kind}/{stamp}"


def item_element(state: SimState, item: Item) -> Element:
    """A show/season Directory or an episode/movie Video with Media and Part."""
    season = state.parent(item) if item.kind == "episode" else None
    show = state.parent(season) if season else (state.parent(item) if item.kind == "season" else None)
    base: dict[str, Any] = {
        "ratingKey": item.rating_key,
        "key": f"/library/metadata/{item.rating_key}",
        "guid": f"plex://{item.kind}/{item.rating_key:0>24}",
        "type": item.kind,
        "title": item.title,
        "librarySectionID": item.section_id,
        "librarySectionKey": f"/library/sections/{item.section_id}",
        "librarySectionTitle": state.sections[item.section_id].title
        if item.section_id in state.sections
        else None,
        "summary": item.summary,
        "index": item.index,
        "year": item.year,
        "addedAt": item.added_at,
        "updatedAt": item.added_at,
        "thumb": _art(item.rating_key, "thumb", item.added_at),
        "art": _art((show or item).rating_key, "art", item.added_at),
        "viewCount": item.view_count or None,
        "viewOffset": item.view_offset or None,
        "lastViewedAt": item.last_viewed_at,
    }
    if item.kind in ("show", "season"):
        leaves = state.leaves(item.rating_key)
        base["key"] += "/children"
        base |= {"leafCount": len(leaves), "viewedLeafCount": sum(1 for x in leaves if x.view_count > 0)}
        base["childCount"] = len(state.children(item.rating_key))
        if item.kind == "season" and show is not None:
            base |= {
                "parentRatingKey": show.rating_key,
                "parentKey": f"/library/metadata/{show.rating_key}",
                "parentTitle": show.title,
                "parentThumb": _art(show.rating_key, "thumb", show.added_at),
                "parentIndex": 1,
            }
        return attrs(Element("Directory"), **base)
    base |= {"duration": item.duration_ms, "contentRating": item.content_rating, "rating": item.rating}
    if season is not None and show is not None:
        base |= {
            "parentRatingKey": season.rating_key,
            "parentKey": f"/library/metadata/{season.rating_key}",
            "parentTitle": season.title,
            "parentIndex": season.index,
            "parentThumb": _art(season.rating_key, "thumb", season.added_at),
            "grandparentRatingKey": show.rating_key,
            "grandparentKey": f"/library/metadata/{show.rating_key}",
            "grandparentTitle": show.title,
            "grandparentThumb": _art(show.rating_key, "thumb", show.added_at),
            "grandparentArt": _art(show.rating_key, "art", show.added_at),
        }
    video = attrs(Element("Video"), **base)
    media = attrs(
        SubElement(video, "Media"),
        id=int(item.rating_key) + 1000,
        duration=item.duration_ms,
        bitrate=4000,
        width=1920,
        height=1080,
        aspectRatio="1.78",
        audioChannels=2,
        audioCodec="aac",
        videoCodec="h264",
        videoResolution="1080",
        container="mkv",
        videoFrameRate="24p",
    )
    name = item.file.rsplit("/", 1)[-1]
    attrs(
        SubElement(media, "Part"),
        id=int(item.rating_key) + 2000,
        duration=item.duration_ms,
        key=f"/library/parts/{int(item.rating_key) + 2000}/{item.added_at}/{name}",
        file=item.file,
        size=item.duration_ms * 500,
        container="mkv",
    )
    return video


def items_container(state: SimState, items: list[Item], start: int, size: int | None, **extra: Any) -> str:
    """A paged MediaContainer of items with totalSize/offset set like PMS."""
    page = items[start : start + size if size is not None else None]
    root = container(*(item_element(state, i) for i in page), totalSize=len(items), offset=start, **extra)
    return render(root)


# -- sessions, history, clients -------------------------------------------------------------------------
def session_element(state: SimState, session: Session) -> Element:
    """A /status/sessions Video: the item plus User, Player, Session and maybe TranscodeSession."""
    item = state.items[session.rating_key]
    video = item_element(state, item)
    attrs(video, sessionKey=session.session_key, viewOffset=session.view_offset)
    media = video.find("Media")
    if media is not None:
        media.set("selected", "1")
    uid = state.account_id(session.user) if session.user in state.accounts.values() else 0
    attrs(SubElement(video, "User"), id=uid, title=session.user, thumb=f"https://plex.tv/users/{uid}/avatar")
    client = state.clients.get(session.client_id)
    attrs(
        SubElement(video, "Player"),
        address=client.address if client else "127.0.0.1",
        machineIdentifier=session.client_id,
        platform=client.platform if client else "Android",
        product=client.product if client else "Plex for Android (TV)",
        state=session.state,
        title=client.title if client else session.client_id,
        device=client.platform if client else "Android",
        local=True,
        relayed=False,
        secure=False,
        port=client.port if client else None,
        profile="Android",
        version="10.0.0",
        userID=uid,
    )
    attrs(
        SubElement(video, "Session"), id=f"sim-session-{session.session_key}", bandwidth=4000, location="lan"
    )
    if session.transcode:
        video.append(transcode_element(session, item))
    return video


def transcode_element(session: Session, item: Item) -> Element:
    """A TranscodeSession for a transcoding session."""
    return attrs(
        Element("TranscodeSession"),
        key=f"/transcode/sessions/sim-{session.session_key}",
        throttled=False,
        complete=False,
        progress=12.5,
        speed=2.0,
        duration=item.duration_ms,
        context="streaming",
        sourceVideoCodec="hevc",
        sourceAudioCodec="aac",
        videoDecision="transcode",
        audioDecision="copy",
        protocol="dash",
        container="mp4",
        videoCodec="h264",
        audioCodec="aac",
        audioChannels=2,
        width=1280,
        height=720,
        transcodeHwRequested=False,
    )


def history_element(entry: HistoryEntry) -> Element:
    """One history Video row."""
    return attrs(
        Element("Video"),
        historyKey=f"/status/sessions/history/{entry.id}",
        key=f"/library/metadata/{entry.rating_key}",
        ratingKey=entry.rating_key,
        librarySectionID=entry.section_id,
        title=entry.title,
        type=entry.kind,
        grandparentTitle=entry.grandparent_title or None,
        parentTitle=entry.parent_title or None,
        index=entry.index,
        parentIndex=entry.parent_index,
        viewedAt=entry.viewed_at,
        accountID=entry.account_id,
        deviceID=1,
        thumb=f"/library/metadata/{entry.rating_key}/thumb/1",
    )


def clients_container(state: SimState) -> str:
    """/clients: one Server element per known player."""
    out = [
        attrs(
            Element("Server"),
            name=c.title,
            host=c.address,
            address=c.address,
            port=c.port or 32500,
            machineIdentifier=c.machine_id,
            version="10.0.0",
            protocol="plex",
            product=c.product,
            deviceClass="stb",
            protocolVersion="1",
            protocolCapabilities=c.capabilities,
        )
        for c in state.clients.values()
    ]
    return render(container(*out))


def timelines(state: SimState, client_id: str) -> str:
    """/player/timeline/poll as answered for a client: video reflects its session, others stopped."""
    session = next((s for s in state.sessions.values() if s.client_id == client_id), None)
    els = []
    for kind in ("music", "photo", "video"):
        t = attrs(Element("Timeline"), type=kind, state="stopped", controllable="", itemType=kind)
        if kind == "video" and session is not None:
            item = state.items.get(session.rating_key)
            attrs(
                t,
                state=session.state,
                time=session.view_offset,
                duration=item.duration_ms if item else 0,
                ratingKey=session.rating_key,
                key=f"/library/metadata/{session.rating_key}",
                machineIdentifier="",
                protocol="http",
                address="127.0.0.1",
                port=32400,
                controllable="playPause,stop,volume,seekTo,skipPrevious,skipNext,stepBack,stepForward",
                containerKey=f"/playQueues/{session.session_key}",
                playQueueID=session.session_key,
                playQueueItemID=session.session_key,
                location="fullScreenVideo",
            )
        els.append(t)
    return render(container(*els, commandID="0", location="navigation"))


# -- agents, browse, live TV ----------------------------------------------------------------------------
def agents_container(media_type: int | None, nfo: bool) -> str:
    """/system/agents: with mediaType, Agents with Language children; without, with MediaType children."""
    groups: list[tuple[int, str, list[tuple[str, str, bool]]]] = [
        (
            2,
            "show",
            _SHOW_AGENTS + ([("tv.plex.agents.nfo.series", "Plex NFO Series", False)] if nfo else []),
        ),
        (
            1,
            "movie",
            _MOVIE_AGENTS + ([("tv.plex.agents.nfo.movie", "Plex NFO Movie", False)] if nfo else []),
        ),
    ]
    found: dict[str, Element] = {}
    for mtype, mname, agents in groups:
        if media_type is not None and media_type != mtype:
            continue
        for ident, title, primary in agents:
            if ident not in found:
                found[ident] = attrs(
                    Element("Agent"),
                    identifier=ident,
                    title=title,
                    name=title,
                    hasPrefs=True,
                    hasAttribution=False,
                    primary=primary,
                )
            parent = found[ident]
            if media_type is None:
                parent = attrs(SubElement(parent, "MediaType"), mediaType=mtype, name=mname)
            attrs(SubElement(parent, "Language"), code="en")
    return render(container(*found.values()))


def browse_container(state: SimState, path: str | None, include_files: bool) -> str:
    """/services/browse: Path elements for sub-folders (and File elements for known files)."""
    base = (path or "/").rstrip("/") or "/"
    prefix = "/" if base == "/" else base + "/"
    dirs = sorted(d for d in state.directories if d.startswith(prefix) and "/" not in d[len(prefix) :])
    els = [attrs(Element("Path"), key=b64path(d), path=d, title=d.rsplit("/", 1)[-1]) for d in dirs]
    if include_files:
        files = sorted({i.file for i in state.items.values() if i.file and i.file.rsplit("/", 1)[0] == base})
        els += [attrs(Element("File"), key=b64path(f), path=f, title=f.rsplit("/", 1)[-1]) for f in files]
    return render(container(*els, identifier=LIBRARY_ID))


def dvrs_container(channels: list[dict[str, str]]) -> str:
    """/livetv/dvrs: one XMLTV-lineup DVR with one HDHomeRun-style device."""
    dvr = attrs(
        Element("Dvr"),
        key="1",
        uuid="dvr-sim-0001",
        lineup=LINEUP,
        lineupTitle="Antenna XMLTV",
        language="eng",
        country="us",
        title="Antenna DVR",
    )
    dev = attrs(
        SubElement(dvr, "Device"),
        key="2",
        uuid="device://tv.plex.grabbers.hdhomerun/ANTENNA1",
        uri="http://127.0.0.1:5004",
        make="Silicondust",
        model="HDTC-2US",
        modelNumber="HDTC-2US",
        title="Antenna Tuner",
        protocol="livetv",
        status="alive",
        state="1",
        tuners="2",
        lastSeenAt=int(time.time()),
        source="Antenna",
        sources="Cable",
        parentID="1",
    )
    for ch in channels:
        ident = ch.get("identifier", ch.get("channelVcn", ""))
        attrs(
            SubElement(dev, "ChannelMapping"),
            channelKey=ch.get("key", f"{LINEUP}-{ident}"),
            deviceIdentifier=ident,
            enabled=True,
            lineupIdentifier=ident,
        )
    return render(container(dvr))


def lineup_container(lineup: str, channels: list[dict[str, str]]) -> str:
    """/livetv/epg/lineupchannels: the lineup's channels."""
    lu = attrs(Element("Lineup"), uuid=lineup, type="lineup", title="Antenna XMLTV")
    for ch in channels:
        ident = ch.get("identifier", ch.get("channelVcn", ""))
        attrs(
            SubElement(lu, "Channel"),
            key=ch.get("key", ident),
            identifier=ident,
            channelVcn=ch.get("channelVcn", ident),
            callSign=ch.get("callSign", ""),
            title=ch.get("title", ""),
        )
    return render(container(lu))


def server_root(state: SimState, info: dict[str, Any]) -> str:
    """GET /: the server's capabilities."""
    return render(
        attrs(
            Element("MediaContainer"),
            size=0,
            allowCameraUpload=False,
            allowMediaDeletion=True,
            allowSharing=True,
            allowSync=True,
            companionProxy=True,
            eventStream=True,
            hubSearch=True,
            multiuser=True,
            myPlex=True,
            myPlexSigninState="ok",
            myPlexUsername="owner@example.com",
            ownerFeatures="",
            transcoderActiveVideoSessions=len(state.transcoding()),
            transcoderAudio=True,
            transcoderVideo=True,
            transcoderPhoto=True,
            updatedAt=info["started"],
            updater=True,
            **info["attrs"],
        )
    )


def notification(kind: str, key: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A websocket NotificationContainer."""
    return {"NotificationContainer": {"type": kind, "size": len(entries), key: entries}}


KIND_TYPES = _KIND_TYPES
