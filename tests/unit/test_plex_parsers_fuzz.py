"""Fuzz the Plex parsers: odd XML attributes and garbage websocket messages never crash, they degrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement

from hypothesis import given
from hypothesis import strategies as st

from antenna.clients import plex_parse
from antenna.clients.plex_ws import parse_notification
from antenna.plex import plan
from antenna.plex.models import NowPlaying, PlayerState, Session, Snapshot

ATTRS = [
    "sessionKey",
    "ratingKey",
    "type",
    "title",
    "grandparentTitle",
    "parentTitle",
    "index",
    "parentIndex",
    "year",
    "rating",
    "duration",
    "viewOffset",
    "viewCount",
    "lastViewedAt",
    "contentRating",
    "thumb",
    "art",
    "machineIdentifier",
    "state",
    "address",
    "port",
    "protocolCapabilities",
    "videoResolution",
    "videoDecision",
    "id",
    "key",
    "uuid",
    "lineup",
    "channelVcn",
    "enabled",
    "accountID",
    "viewedAt",
    "file",
    "name",
]
values = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**40), 2**40).map(str),
    st.sampled_from(["", "NaN", "inf", "INF", "-1", "1e309", "0x10", " 7 ", "true", "☃", "99999999999999"]),
)
attributes = st.dictionaries(st.sampled_from(ATTRS), values, max_size=12)


def element(tag: str, attrs: dict[str, str], children: list[tuple[str, dict[str, str]]]) -> Element:
    root = Element("MediaContainer")
    item = SubElement(root, tag, attrs)
    for child_tag, child_attrs in children:
        SubElement(item, child_tag, child_attrs)
    return root


child_tags = st.sampled_from(["Player", "User", "Session", "Media", "TranscodeSession", "Device", "Location"])


@given(
    st.sampled_from(["Video", "Track", "Directory", "Server", "Dvr", "Lineup", "Photo"]),
    attributes,
    st.lists(st.tuples(child_tags, attributes), max_size=4),
)
def test_xml_parsers_never_crash_on_odd_attributes(
    tag: str, attrs: dict[str, str], children: list[tuple[str, dict[str, str]]]
) -> None:
    root = element(tag, attrs, children)
    plex_parse.parse_info(root)
    plex_parse.parse_sections(root)
    plex_parse.parse_agents(root, 2)
    plex_parse.parse_clients(root)
    plex_parse.parse_dvrs(root)
    plex_parse.parse_lineup_channels(root)
    plex_parse.count_video_transcodes(root)
    accounts = plex_parse.parse_accounts(root)
    for item in root:
        plex_parse.parse_history_entry(item, accounts)
    sessions = plex_parse.parse_sessions(root)
    for session in sessions:
        assert 0 <= session.now.percent_complete <= 100


notification_items = st.lists(
    st.dictionaries(st.sampled_from(ATTRS), st.one_of(values, st.integers(), st.none()))
)


@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.builds(
            lambda kind, items: json.dumps({"NotificationContainer": {"type": kind, "Items": items}}),
            st.sampled_from(["playing", "timeline", "reachability", "", "update.statechange"]),
            notification_items,
        ),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=12,
        ).map(json.dumps),
    )
)
def test_websocket_messages_never_crash(raw: str | bytes) -> None:
    notification = parse_notification(raw)
    assert notification.type
    assert (notification.type == "invalid") == bool(notification.error)


odd_numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)


@given(
    st.lists(
        st.fixed_dictionaries(
            {"sessionKey": st.just("1")}, optional={"viewOffset": odd_numbers, "state": st.text(max_size=9)}
        )
    )
)
def test_playing_notifications_with_odd_fields_never_crash(items: list[dict[str, object]]) -> None:
    now = datetime.now(UTC)
    playing = NowPlaying("3", "A : B", "B", "episode", duration_ms=1000)
    session = Session("1", "tv", PlayerState.PLAYING, "u", "TV", "p", "Android", "127.0.0.1", playing)
    snapshot = Snapshot(taken_at=now, info=None, sessions=(session,))
    updated = plan.apply_notification(snapshot, items, now)
    assert updated is not None
    for result in updated.sessions:
        assert 0 <= result.now.offset_ms < 10**12
    plan.recently_added(items)
