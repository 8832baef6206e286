"""Guess what a source sent from its first few kilobytes, so a wrong URL gets a clear message."""

from __future__ import annotations

import codecs
import re

HEAD_BYTES = 4096
KINDS = ("m3u", "jsonm3u", "jsontv", "xmltv", "gzip", "xz", "html", "unknown")

_JSON_KEY = re.compile(r'"(streams|epg)"\s*:')
_URL_LINE = re.compile(r"(?:https?|rtmps?|rtsp|rtp|udp|mms)://\S", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_DOCTYPE = re.compile(r"<!doctype\s+([A-Za-z_][\w:.-]*)", re.IGNORECASE)
_ROOT = re.compile(r"<([A-Za-z_][\w:.-]*)")
_DESCRIPTIONS = {
    "m3u": "an M3U playlist",
    "jsonm3u": "a JSON-M3U playlist (IPTV Manager JSON-STREAMS)",
    "jsontv": "a JSONTV guide (IPTV Manager JSON-EPG)",
    "xmltv": "an XMLTV guide",
    "gzip": "a gzip-compressed file",
    "xz": "an xz-compressed file",
    "html": "an HTML page (the provider answered with a web page, not a playlist)",
    "unknown": "something unrecognised (not M3U, JSON-M3U, XMLTV or JSONTV)",
}


def _text(head: bytes) -> str:
    """Decode the head by its BOM (UTF-8 without one), tolerating a character cut at the end."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    return head.decode("utf-8", errors="replace")


def _markup(text: str) -> str:
    """Tell XMLTV from HTML by the root element (or the DOCTYPE when the root is past the head)."""
    text = _COMMENT.sub("", text)
    root = _ROOT.search(text)
    doctype = _DOCTYPE.search(text)
    name = (root.group(1) if root else doctype.group(1) if doctype else "").lower()
    if name in ("tv", "html"):
        return "xmltv" if name == "tv" else "html"
    # A long DOCTYPE can push <tv> past the head; an XML declaration with no root in sight is still a guide.
    return "xmltv" if root is None and text.startswith("<?xml") else "unknown"


def detect(head: bytes) -> str:
    """Return the kind of content that starts with `head` (one of KINDS)."""
    head = head[:HEAD_BYTES]
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    text = _text(head).lstrip("\ufeff \t\r\n\f\v")
    if not text:
        return "unknown"
    upper = text[:HEAD_BYTES].upper()
    if upper.startswith(("#EXTM3U", "#EXTINF")):
        return "m3u"
    if text[0] == "{":
        m = _JSON_KEY.search(text)
        if m is None:
            return "unknown"
        # The first of the two keys decides: a JSON-EPG's programmes never hold a "streams" key before it.
        return "jsonm3u" if m.group(1) == "streams" else "jsontv"
    if text[0] == "<":
        return _markup(text)
    if text[0] == "#" and ("#EXTINF" in upper or "#EXTM3U" in upper):
        return "m3u"  # comments before the first tag
    if _URL_LINE.match(text):
        return "m3u"  # a plain list of URLs, which IPTV Simple plays
    return "unknown"


def describe(kind: str) -> str:
    """Return a phrase for messages: "expected a playlist, got <describe(kind)>"."""
    return _DESCRIPTIONS.get(kind, f"an unknown kind of content ({kind})")
