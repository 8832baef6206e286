"""The Xtream client against a local panel serving recorded-style answers: numbers as strings, nulls, junk."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from antenna.clients.xtream import XtreamAccount, XtreamClient, normalise_server
from antenna.errors import Unavailable, UserError

USER, PASSWORD = "alice-user", "s3cret-pass"
XMLTV = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<tv generator-info-name="panel">'
    b'<channel id="news.uk"><display-name>News</display-name></channel>'
    b'<programme start="20240101000000 +0000" stop="20240101010000 +0000" channel="news.uk">'
    b"<title>Headlines</title></programme></tv>\n"
)
CATEGORIES = [
    {"category_id": "1", "category_name": "News", "parent_id": 0},
    {"category_id": 2, "category_name": "Sport", "parent_id": "0"},
    "junk",
    {"category_name": "no id"},
]
STREAMS: list[Any] = [
    {
        "num": "1", "name": "News HD", "stream_type": "live", "stream_id": "101",
        "stream_icon": "http://logos.example/news.png", "epg_channel_id": "news.uk", "added": "1700000000",
        "category_id": "1", "custom_sid": "", "tv_archive": "1", "direct_source": "",
        "tv_archive_duration": "7",
    },
    {
        "num": 2, "name": "Sport 1", "stream_type": "live", "stream_id": 102, "epg_channel_id": None,
        "category_id": 2, "tv_archive": 0, "tv_archive_duration": None,
    },
    {"num": None, "name": " Bare ", "stream_id": "103", "epg_channel_id": "", "stream_icon": None},
    {"num": "4", "name": "Multi", "stream_id": 104, "category_ids": [2, 1], "tv_archive": 1},
    "not a dict",
    {"num": "5", "name": "No id"},
    {"num": "6", "stream_id": "106"},
    None,
]  # fmt: skip
HTML = b"<!DOCTYPE html><html><body><h1>Access denied</h1><p>Account blocked</p></body></html>"


def _user_info(status: str, auth: Any = 1, **extra: Any) -> dict[str, Any]:
    """Return a player_api.php account answer the way panels send it (numbers as strings)."""
    info = {"username": "echoed", "password": "echoed", "message": "", "auth": auth, "status": status,
            "exp_date": "1999999999", "is_trial": "0", "active_cons": "0", "max_connections": "1",
            "allowed_output_formats": ["m3u8", "ts"], **extra}  # fmt: skip
    server = {"url": "panel.example", "port": "8080", "server_protocol": "http", "timezone": "UTC"}
    return {"user_info": info, "server_info": server}


class _Panel(BaseHTTPRequestHandler):
    """A fake Xtream panel; the username picks how it behaves."""

    seen_agents: list[str] = []  # noqa: RUF012 - test-only shared record

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        user, password, action = query.get("username"), query.get("password"), query.get("action", "")
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        path = url.path.rsplit("/", 1)[-1]
        if user == "blocked":
            self._send(200, HTML, "text/html")
        elif user == "wrong" or (user == USER and password != PASSWORD):
            self._send(401, b"Unauthorized", "text/plain")
        elif user == "plain":
            self._send(200, b"blocked", "text/plain")
        elif user == "down":
            self._send(503, b"", "text/plain")
        elif user == "expired":
            self._send(200, json.dumps(_user_info("Expired", message="Renew your plan")).encode())
        elif user == "zero":
            self._send(200, json.dumps({"user_info": {"auth": 0}}).encode())
        elif user == "dictlist" and action == "get_live_streams":
            self._send(200, json.dumps({"0": STREAMS[0], "1": STREAMS[1]}).encode())
        elif user == "weird" and action:
            self._send(200, json.dumps({"error": "nope"}).encode())
        elif path == "xmltv.php":
            self._send(200, XMLTV, "application/xml")
        elif action == "get_live_categories":
            self._send(200, json.dumps(CATEGORIES).encode())
        elif action == "get_live_streams":
            self._send(200, json.dumps(STREAMS).encode())
        elif path == "player_api.php":
            self._send(200, json.dumps(_user_info("Active")).encode())
        else:
            self._send(404, b"not found", "text/plain")


@pytest.fixture(scope="module")
def panel() -> Iterator[str]:
    """Serve the fake panel on loopback; yield host:port (no scheme, to test the http:// default)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Panel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def client(panel: str) -> Iterator[XtreamClient]:
    with XtreamClient(XtreamAccount(f"http://{panel}/", USER, PASSWORD), timeout=5) as xc:
        yield xc


def _one_line_secret_free(error: BaseException, *secrets: str) -> str:
    """Assert the error is one line and names no secret; return its text."""
    text = str(error)
    assert "\n" not in text
    for secret in (USER, PASSWORD, *secrets):
        assert secret not in text
    return text


def test_normalise_server() -> None:
    assert normalise_server("panel.example:8080/") == "http://panel.example:8080"
    assert normalise_server(" HTTPS://panel.example// ") == "https://panel.example"
    assert normalise_server("http://p.example/player_api.php?username=a&password=b") == "http://p.example"
    assert normalise_server("http://p.example/sub/") == "http://p.example/sub"


def test_account_repr_hides_password() -> None:
    assert PASSWORD not in repr(XtreamAccount("x", USER, PASSWORD))


def test_authenticate(client: XtreamClient) -> None:
    answer = client.authenticate()
    assert answer["user_info"]["status"] == "Active"
    assert answer["server_info"]["timezone"] == "UTC"


def test_missing_scheme_and_user_agent(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, USER, PASSWORD), timeout=5, user_agent="Kodi/21") as xc:
        assert xc.server == f"http://{panel}"
        xc.authenticate()
    assert _Panel.seen_agents[-1] == "Kodi/21"


def test_categories(client: XtreamClient) -> None:
    assert client.live_categories() == [("1", "News"), ("2", "Sport")]


def test_live_streams(client: XtreamClient, panel: str) -> None:
    entries = client.live_streams()
    assert client.skipped == 4  # "not a dict", no stream_id, no name, None
    by_name = {e.name: e for e in entries}
    assert list(by_name) == ["News HD", "Sport 1", "Bare", "Multi"]

    news = by_name["News HD"]
    assert news.url == f"http://{panel}/live/{USER}/{PASSWORD}/101.ts"
    assert news.attrs == (
        ("tvg-id", "news.uk"), ("tvg-name", "News HD"), ("tvg-logo", "http://logos.example/news.png"),
        ("tvg-chno", "1"), ("group-title", "News"), ("catchup", "xc"), ("catchup-days", "7"),
    )  # fmt: skip
    assert news.groups == ("News",)

    sport = by_name["Sport 1"]
    assert sport.url.endswith("/102.ts")
    assert sport.tvg_id == ""  # null epg_channel_id is omitted, not "None"
    assert sport.tvg_logo == ""
    assert sport.attr("tvg-chno") == "2"
    assert sport.attr("catchup") == ""
    assert sport.groups == ("Sport",)

    bare = by_name["Bare"]
    assert bare.attrs == (("tvg-name", "Bare"),)
    assert bare.groups == ()

    multi = by_name["Multi"]
    assert multi.groups == ("Sport",)  # the first of category_ids when category_id is missing
    assert multi.attr("catchup") == "xc"
    assert multi.attr("catchup-days") == ""  # no duration given


def test_live_streams_m3u8_and_quoting(panel: str) -> None:
    account = XtreamAccount(panel, USER, PASSWORD)
    with XtreamClient(account, timeout=5, output="m3u8") as xc:
        assert xc.live_url("7") == f"http://{panel}/live/{USER}/{PASSWORD}/7.m3u8"
    with XtreamClient(XtreamAccount(panel, "a/b", "p w"), timeout=5) as xc:
        assert xc.live_url("7") == f"http://{panel}/live/a%2Fb/p%20w/7.ts"


def test_streams_as_a_dict_of_objects(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, "dictlist", PASSWORD), timeout=5) as xc:
        assert [e.name for e in xc.live_streams()] == ["News HD", "Sport 1"]


def test_streams_answer_not_a_list(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, "weird", PASSWORD), timeout=5) as xc:
        assert xc.live_streams() == []
        assert xc.live_categories() == []


def test_download_guide(client: XtreamClient) -> None:
    out = io.BytesIO()
    client.download_guide(out)
    assert out.getvalue() == XMLTV


def test_blocked_account_answers_html(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, "blocked", PASSWORD), timeout=5) as xc:
        with pytest.raises(Unavailable, match="answered a web page, not JSON") as caught:
            xc.authenticate()
        _one_line_secret_free(caught.value, "blocked")
        out = io.BytesIO()
        with pytest.raises(Unavailable, match="web page, not XMLTV") as guide:
            xc.download_guide(out)
        _one_line_secret_free(guide.value, "blocked")
        assert out.getvalue() == b""


def test_not_json(panel: str) -> None:
    with (
        XtreamClient(XtreamAccount(panel, "plain", PASSWORD), timeout=5) as xc,
        pytest.raises(Unavailable, match="not JSON") as caught,
    ):
        xc.live_categories()
    assert "'blocked'" in _one_line_secret_free(caught.value, "plain")


@pytest.mark.parametrize("user", ["wrong", USER])
def test_401_is_wrong_credentials(panel: str, user: str) -> None:
    password = "bad-password-9" if user == USER else PASSWORD
    with XtreamClient(XtreamAccount(panel, user, password), timeout=5) as xc:
        with pytest.raises(UserError, match="refused the username or password") as caught:
            xc.authenticate()
        assert not isinstance(caught.value, Unavailable)
        _one_line_secret_free(caught.value, user, password)
        with pytest.raises(UserError, match=r"\(401\) for the guide"):
            xc.download_guide(io.BytesIO())


def test_expired_account(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, "expired", PASSWORD), timeout=5) as xc:
        with pytest.raises(UserError, match=r"not active \(Expired: Renew your plan\)") as caught:
            xc.authenticate()
        _one_line_secret_free(caught.value, "expired")
        with pytest.raises(UserError, match="not active"):
            xc.live_streams()  # action calls get the account answer too


def test_auth_zero(panel: str) -> None:
    with XtreamClient(XtreamAccount(panel, "zero", PASSWORD), timeout=5) as xc:
        with pytest.raises(UserError, match="not active") as caught:
            xc.authenticate()
        _one_line_secret_free(caught.value, "zero")
        with pytest.raises(Unavailable, match="JSON, not XMLTV"):
            xc.download_guide(io.BytesIO())


def test_server_error(panel: str) -> None:
    with (
        XtreamClient(XtreamAccount(panel, "down", PASSWORD), timeout=5) as xc,
        pytest.raises(Unavailable, match="answered 503") as caught,
    ):
        xc.live_categories()
    _one_line_secret_free(caught.value, "down")


def test_unreachable_server_short_secrets() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Two-character credentials slip past redact()'s length floor; the client masks them itself.
    with (
        XtreamClient(XtreamAccount(f"127.0.0.1:{port}", "zq", "xy"), timeout=2) as xc,
        pytest.raises(Unavailable, match="could not be reached") as caught,
    ):
        xc.authenticate()
    _one_line_secret_free(caught.value, "zq", "xy")
