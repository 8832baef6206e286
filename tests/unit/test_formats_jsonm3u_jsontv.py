"""IPTV Manager's JSON-STREAMS and JSON-EPG: the protocol's examples, tolerance and fuzzing."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.errors import UserError
from antenna.formats.guide import Credit, EpisodeNum, GuideChannel
from antenna.formats.jsonm3u import parse_jsonm3u
from antenna.formats.jsontv import parse_jsontv
from antenna.formats.m3u_write import format_extinf

BRUSSELS = ZoneInfo("Europe/Brussels")

# What an add-on such as plugin.video.vrt.nu answers on its iptv.channels_uri socket.
STREAMS = {
    "version": 1,
    "streams": [
        {
            "id": "een.be",
            "name": "Eén",
            "preset": 1,
            "stream": "plugin://plugin.video.vrt.nu/play/id/vualto_een_geo",
            "logo": "https://example.org/een.png",
            "group": "VRT",
            "kodiprops": {"inputstream": "inputstream.adaptive", "inputstream.adaptive.manifest_type": "mpd"},
        },
        {
            "id": "radio1.be",
            "name": "Radio 1",
            "preset": "101",
            "stream": "plugin://plugin.audio.example/play/radio1",
            "group": ["Radio", "Belgium"],
            "radio": True,
        },
        {"id": "broken.be", "name": "No URL"},
        {"id": "nameless.be", "stream": "plugin://x"},
    ],
}

# And on its iptv.epg_uri socket.
EPG = {
    "version": 1,
    "epg": {
        "een.be": [
            {
                "start": "2020-04-01T12:45:00",
                "stop": "2020-04-01T13:10:00+02:00",
                "title": "Journaal",
                "description": "Het nieuws.",
                "subtitle": "Middag",
                "episode": "S01E02",
                "image": "https://example.org/journaal.jpg",
                "date": "2020-04-01",
                "genre": ["News", "Current affairs"],
                "credits": [
                    {"type": "director", "name": "Ann"},
                    {"type": "actor", "name": "Bert", "role": "Anchor"},
                    {"type": "Cast", "name": "Cas"},
                    {"type": "camera", "name": "Dirk"},
                    {"type": "writer"},
                ],
                "stream": "plugin://plugin.video.vrt.nu/play/catchup/een/2020-04-01T12:45",
            },
            {"start": "2020-04-01T13:10:00Z", "title": "Thuis", "genre": "Drama"},
            {"start": "2020-04-01T14:00:00Z", "stop": "2020-04-01T14:30:00Z"},
            {"title": "No start"},
            {"start": "yesterday", "title": "Bad start"},
            {"start": "2020-04-01T15:00:00Z", "stop": "2020-04-01T14:00:00Z", "title": "Backwards"},
        ],
        "canvas.be": [],
    },
}


def test_json_streams_as_iptv_manager_writes_them() -> None:
    entries, warnings = parse_jsonm3u(json.dumps(STREAMS), source_name="VRT NU")
    een, radio1 = entries
    assert (een.name, een.url, een.tvg_id, een.tvg_chno, een.tvg_logo) == (
        "Eén",
        "plugin://plugin.video.vrt.nu/play/id/vualto_een_geo",
        "een.be",
        "1",
        "https://example.org/een.png",
    )
    assert een.groups == ("VRT", "VRT NU")
    assert een.kodiprops == (
        ("inputstream", "inputstream.adaptive"),
        ("inputstream.adaptive.manifest_type", "mpd"),
    )
    assert format_extinf(een) == (
        '#EXTINF:-1 tvg-name="Eén" tvg-id="een.be" tvg-logo="https://example.org/een.png" tvg-chno="1"'
        ' group-title="VRT;VRT NU" catchup="vod",Eén'
    )
    assert (radio1.radio, radio1.tvg_chno, radio1.groups) == (True, "101", ("Radio", "Belgium", "VRT NU"))
    assert [(w.where, w.message) for w in warnings] == [
        ("streams[2]", "skipped: no \"stream\" (id 'broken.be')"),
        ("streams[3]", "skipped: no \"name\" (id 'nameless.be')"),
    ]


def test_json_streams_from_bytes_and_mapping() -> None:
    doc = {"version": 1, "streams": [{"name": "A", "stream": "http://a", "group": "X;Y"}]}
    (from_bytes,), _ = parse_jsonm3u(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    (from_mapping,), _ = parse_jsonm3u(doc)
    assert from_bytes == from_mapping
    assert from_mapping.groups == ("X", "Y")


def test_json_streams_odd_fields() -> None:
    doc = {
        "streams": [
            {"name": "A", "stream": "http://a", "preset": "five", "kodiprops": ["x"], "radio": "yes"},
            {"name": 7, "stream": "http://b", "preset": 2.0, "kodiprops": {"flag": True, "n": 3}},
            "not an object",
        ]
    }
    (a, b), warnings = parse_jsonm3u(doc)
    assert (a.tvg_chno, a.kodiprops, a.radio) == ("", (), True)
    assert (b.name, b.tvg_chno, b.kodiprops) == ("7", "2", (("flag", "true"), ("n", "3")))
    assert [(w.where, w.message) for w in warnings] == [
        ("version", "version None is not 1; read as version 1"),
        ("streams[0]", "preset 'five' is not a channel number; ignored"),
        ("streams[0]", "kodiprops is not an object; ignored"),
        ("streams[2]", "skipped: not an object"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"version": 2, "streams": []}', "JSON-M3U version 2 is not supported (only 1)."),
        ('{"version": "3", "streams": []}', "JSON-M3U version 3 is not supported (only 1)."),
        ('{"version": 1}', 'JSON-M3U has no "streams".'),
        ('{"epg": {}}', 'Not JSON-M3U: no "version" and no "streams".'),
        ('{"version": 1, "streams": {}}', 'JSON-M3U "streams" must be a list, not dict.'),
        ("[1, 2]", "The JSON-M3U must be a JSON object, not list."),
        (
            '{"version": 1,\n "streams": [}',
            "The JSON-M3U is not valid JSON: Expecting value at line 2 column 14.",
        ),
        (b"\xff\xfe{", "The JSON-M3U is not UTF-8 text (byte 0)."),
    ],
)
def test_json_streams_refused(data: str | bytes, message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_jsonm3u(data)
    assert caught.value.message == message


def test_json_epg() -> None:
    channels, programmes, warnings = parse_jsontv(json.dumps(EPG), tz=BRUSSELS)
    assert channels == [
        GuideChannel(id="een.be", display_names=(("een.be", ""),)),
        GuideChannel(id="canvas.be", display_names=(("canvas.be", ""),)),
    ]
    journaal, thuis, backwards = programmes
    # Naive times are in the source's zone (CEST in April), then everything is UTC.
    assert journaal.start == datetime(2020, 4, 1, 10, 45, tzinfo=UTC)
    assert journaal.stop == datetime(2020, 4, 1, 11, 10, tzinfo=UTC)
    assert journaal.start.tzinfo is UTC
    assert (journaal.channel, journaal.title, journaal.sub_titles, journaal.descs) == (
        "een.be",
        "Journaal",
        (("Middag", ""),),
        (("Het nieuws.", ""),),
    )
    assert journaal.episode_nums == (EpisodeNum("onscreen", "S01E02"),)
    assert journaal.icons == ("https://example.org/journaal.jpg",)
    assert journaal.date == "2020-04-01"
    assert journaal.categories == (("News", ""), ("Current affairs", ""))
    assert journaal.credits == (
        Credit("director", "Ann"),
        Credit("actor", "Bert", "Anchor"),
        Credit("actor", "Cas"),
        Credit("actor", "Dirk"),
    )
    assert journaal.catchup_id == "plugin://plugin.video.vrt.nu/play/catchup/een/2020-04-01T12:45"
    assert (thuis.stop, thuis.categories) == (None, (("Drama", ""),))
    assert (backwards.title, backwards.stop) == ("Backwards", None)
    assert [(w.where, w.message) for w in warnings] == [
        ("channel een.be programme 2", 'skipped: no "title"'),
        ("channel een.be programme 3", "skipped: start None is not a time"),
        ("channel een.be programme 4", "skipped: start 'yesterday' is not a time"),
        ("channel een.be programme 5", "stop is not after start; ignored"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-04-01T12:45:00+0200", datetime(2020, 4, 1, 10, 45, tzinfo=UTC)),
        ("20200401124500", datetime(2020, 4, 1, 10, 45, tzinfo=UTC)),
        ("Wed, 01 Apr 2020 12:45:00 GMT", datetime(2020, 4, 1, 12, 45, tzinfo=UTC)),
        ("1 April 2020 12:45 +0100", datetime(2020, 4, 1, 11, 45, tzinfo=UTC)),
        ("2020-01-01 12:00", datetime(2020, 1, 1, 11, 0, tzinfo=UTC)),
        (1585737900, datetime(2020, 4, 1, 10, 45, tzinfo=UTC)),
    ],
)
def test_json_epg_time_forms(value: object, expected: datetime) -> None:
    _, (programme,), warnings = parse_jsontv(
        {"version": 1, "epg": {"c": [{"start": value, "title": "T"}]}}, tz=BRUSSELS
    )
    assert programme.start == expected
    assert warnings == []


@pytest.mark.parametrize("value", ["12:45", "April 1", "", "2020-02-30T10:00", "9" * 400, float("nan"), True])
def test_json_epg_rejects_times_without_a_date(value: object) -> None:
    _, programmes, warnings = parse_jsontv({"epg": {"c": [{"start": value, "title": "T"}]}}, tz=BRUSSELS)
    assert programmes == []
    assert len(warnings) == 2  # the version, then the programme


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"version": 2, "epg": {}}', "JSONTV version 2 is not supported (only 1)."),
        ('{"version": 1, "epg": []}', 'JSONTV "epg" must be an object of channels, not list.'),
        ('{"streams": []}', 'Not JSONTV: no "version" and no "epg".'),
        ("nope", "The JSONTV guide is not valid JSON: Expecting value at line 1 column 1."),
    ],
)
def test_json_epg_refused(data: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_jsontv(data, tz=UTC)
    assert caught.value.message == message


def test_json_epg_channel_with_odd_programmes() -> None:
    channels, programmes, warnings = parse_jsontv(
        {"version": 1, "epg": {"a": "nope", "b": [3, {"start": "2020-01-01T00:00Z", "title": 12}]}}, tz=UTC
    )
    assert [c.id for c in channels] == ["a", "b"]
    assert [p.title for p in programmes] == ["12"]
    assert [(w.where, w.message) for w in warnings] == [
        ("channel a", "programmes are not a list; ignored"),
        ("channel b programme 0", "skipped: not an object"),
    ]


# --- fuzzing: anything JSON-shaped either parses or raises UserError ------------------------------------

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2020-01-01T00:00:00", "2020-01-01", "12:00", "S01E01", "1", "2", "actor"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)
STREAM_KEYS = ["id", "name", "stream", "logo", "preset", "group", "radio", "kodiprops"]
PROGRAMME_KEYS = ["start", "stop", "title", "description", "subtitle", "episode", "image", "date", "genre"]
stream_objects = st.dictionaries(st.sampled_from(STREAM_KEYS), json_values, max_size=8)
programme_objects = st.dictionaries(
    st.sampled_from([*PROGRAMME_KEYS, "credits", "stream"]),
    json_values | st.lists(st.dictionaries(st.sampled_from(["type", "name", "role"]), json_values)),
    max_size=10,
)
versions = st.one_of(st.none(), json_values, st.integers(-2, 3))


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"version": versions, "streams": st.lists(stream_objects | json_values)}),
        st.fixed_dictionaries({"streams": json_values}),
    )
)
def test_jsonm3u_only_raises_user_error(doc: Any) -> None:
    for data in (doc, json.dumps(doc), json.dumps(doc).encode()):
        with contextlib.suppress(UserError):
            parse_jsonm3u(data, source_name="src")


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "version": versions,
                "epg": st.dictionaries(st.text(max_size=6), st.lists(programme_objects | json_values)),
            }
        ),
    )
)
def test_jsontv_only_raises_user_error(doc: Any) -> None:
    with contextlib.suppress(UserError):
        parse_jsontv(json.dumps(doc), tz=BRUSSELS)


@given(st.text() | st.binary())
def test_json_parsers_only_raise_user_error_on_any_text(data: str | bytes) -> None:
    for parse in (lambda: parse_jsonm3u(data), lambda: parse_jsontv(data, tz=UTC)):
        with contextlib.suppress(UserError):
            parse()
