"""Feed URLs: one canonical spelling for duplicate detection, and a spelling safe to show in messages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# What urlsplit and str.strip remove from a URL's ends.
_URL_EDGES = re.compile(r"^[\s\x00-\x20]+|[\s\x00-\x20]+$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:]*)(?::(\d*))?")


def normalise_url(url: str) -> str:
    """Return a URL in one canonical spelling for duplicate detection (the query is kept)."""
    # Dropping a fragment or a port can expose more to strip ("a/\x08#"), so repeat until nothing changes.
    for _ in range(8):
        url, previous = _normalise_once(url), url
        if url == previous:
            break
    return url


def _normalise_once(url: str) -> str:
    url = _URL_EDGES.sub("", url)
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[broken": nothing to canonicalise
        return url
    scheme = parts.scheme.lower()
    if scheme in ("feed", "itpc", "itms", "pcast"):  # podcast-app schemes that mean plain http
        scheme = "http"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    m = _HOST_PORT.fullmatch(hostport)
    host, port = (m.group(1), m.group(2) or "") if m else (hostport, "")
    port = port.lstrip("0") or ("0" if port else "")
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    netloc = f"{userinfo}{at}{host.lower()}" + (f":{port}" if port else "")
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def display_url(url: str) -> str:
    """Return the URL for a message without credentials or query (private feeds carry tokens there)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "the feed"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", "")) or "the feed"
