"""Content sniffing: each kind from realistic heads, and no head ever breaks it."""

from __future__ import annotations

import gzip
import lzma

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antenna.formats.detect import KINDS, describe, detect

XMLTV = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tv SYSTEM "xmltv.dtd">
<tv generator-info-name="epg">
  <channel id="een.be"><display-name>Een</display-name></channel>
"""


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b'#EXTM3U x-tvg-url="http://e/g.xml"\n#EXTINF:-1,A\nhttp://a\n', "m3u"),
        (b"\xef\xbb\xbf#EXTM3U\r\n", "m3u"),
        (b"\n\n  #extinf:-1,A\nhttp://a", "m3u"),
        (b"# my channels\n#EXTINF:-1,A\nhttp://a", "m3u"),
        (b"http://provider/live/1.ts\nhttp://provider/live/2.ts\n", "m3u"),
        (b"RTMP://provider/live/1\n", "m3u"),
        (b'{"version": 1, "streams": [{"name": "A", "stream": "http://a"}]}', "jsonm3u"),
        (b'{\n  "version": 1,\n  "epg": {"a": [{"start": "2020-01-01T00:00:00", "stream": "x"}]}}', "jsontv"),
        (b'{"streams": [], "epg": {}}', "jsonm3u"),
        (b'{"version": 1, "channels": []}', "unknown"),
        (XMLTV, "xmltv"),
        (b'<tv date="20200101">', "xmltv"),
        (b'<?xml version="1.0"?>\n<!-- <html> in a comment -->\n<tv>', "xmltv"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE tv [' + b"<!ENTITY x 'y'>" * 400, "xmltv"),
        (b"<!DOCTYPE html>\n<html><head><title>Login</title>", "html"),
        (b"<!doctype HTML><HTML>", "html"),
        (b'\n<html lang="en">', "html"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', "html"),
        (b"<rss version='2.0'>", "unknown"),
        (gzip.compress(XMLTV), "gzip"),
        (lzma.compress(XMLTV), "xz"),
        ("\ufeff#EXTM3U\n".encode("utf-16"), "m3u"),
        (b"", "unknown"),
        (b"   \n", "unknown"),
        (b"Access denied", "unknown"),
        (b"\x00\x01\x02", "unknown"),
    ],
)
def test_detect(head: bytes, kind: str) -> None:
    assert detect(head) == kind


def test_a_character_cut_by_the_head_limit_is_tolerated() -> None:
    assert detect("#EXTM3U\n#EXTINF:-1,Één".encode()[:-1]) == "m3u"


def test_describe() -> None:
    assert describe("html") == "an HTML page (the provider answered with a web page, not a playlist)"
    assert all(describe(kind) for kind in KINDS)
    assert describe("odd") == "an unknown kind of content (odd)"


@given(st.binary(max_size=5000))
def test_detect_never_raises(head: bytes) -> None:
    assert detect(head) in KINDS
