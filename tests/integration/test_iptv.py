"""IPTV end to end: sources over real HTTP (ETag, HTML, failures), refresh, outputs served, overrides."""

from __future__ import annotations

import gzip
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.conftest import service_missing

DTD = Path("/usr/share/xmltv/xmltv.dtd")


def playlist() -> str:
    lines = ['#EXTM3U x-tvg-url="http://elsewhere/guide.xml"']
    for i, (cid, name, group) in enumerate(
        [("one.uk", "BBC One HD", "News"), ("two.uk", "Sports Two", "Sports"), ("", "No Guide", "Misc")], 1
    ):
        lines.append(f'#EXTINF:-1 tvg-id="{cid}" tvg-logo="logos/{i}.png" group-title="{group}",{name}')
        lines.append(f"http://provider.example/live/{i}.ts")
    return "\n".join(lines) + "\n"


def guide(now: datetime) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<tv>"]
    for cid, name in (("one.uk", "BBC One"), ("two.uk", "Sports Two")):
        parts.append(f'<channel id="{cid}"><display-name>{name}</display-name></channel>')
    for cid, category in (("one.uk", "News"), ("two.uk", "Football")):
        for h in range(0, 24, 2):
            start = (now + timedelta(hours=h)).strftime("%Y%m%d%H%M%S")  # no offset: the source's timezone
            stop = (now + timedelta(hours=h + 2)).strftime("%Y%m%d%H%M%S")
            parts.append(
                f'<programme start="{start}" stop="{stop}" channel="{cid}"><title>Show {h} &amp; Co</title>'
                f"<category>{category}</category></programme>"
            )
    parts.append("</tv>")
    return "\n".join(parts)


class Provider:
    """A local HTTP server: /list.m3u and /guide.xml with ETags, /blocked answers HTML, /gone is 500."""

    def __init__(self) -> None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.files = {"/list.m3u": playlist().encode(), "/guide.xml": guide(now).encode()}
        self.requests: list[tuple[str, str]] = []
        self.fail = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests.append((self.path, self.headers.get("If-None-Match", "")))
                body = provider.files.get(self.path)
                if self.path == "/blocked":
                    self._send(200, b"<!DOCTYPE html><html><body>Access denied</body></html>", "text/html")
                elif provider.fail or body is None:
                    self._send(500, b"oops", "text/plain")
                elif self.headers.get("If-None-Match") == f'"{hash(body)}"':
                    self.send_response(304)
                    self.end_headers()
                else:
                    self._send(200, body, "application/octet-stream", etag=f'"{hash(body)}"')

            def _send(self, status: int, body: bytes, kind: str, etag: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


def test_refresh_merges_serves_and_keeps_last_good_data(container: Container, provider: Provider) -> None:
    iptv = container.iptv
    iptv.add_source("Provider", "url", f"{provider.base}/list.m3u", role="channels")
    iptv.add_source("Guide", "url", f"{provider.base}/guide.xml", role="guide", timezone="Europe/Berlin")
    assert {s.schedule.job_kind for s in container.schedule_service.list()} >= {"iptv_refresh"}

    report = iptv.refresh()
    assert report.channels == 3
    assert report.programmes == 24
    assert report.without_guide == ("3 No Guide",)
    assert {s.status for s in report.sources} == {"ok"}

    m3u = iptv.playlist_path.read_text()
    assert 'tvg-id="C1.1.antenna"' in m3u
    assert f'tvg-logo="{provider.base}/logos/1.png"' in m3u  # relative logos made absolute
    assert 'x-tvg-url="http://127.0.0.1:8765/iptv/xmltv.xml.gz"' in m3u
    xml = iptv.guide_path.read_bytes()
    assert gzip.decompress(iptv.guide_gz_path.read_bytes()) == xml
    first = etree.fromstring(xml).find("programme")
    assert first is not None
    assert first.get("start", "").endswith("+0000")
    hour = int(first.get("start", "")[8:10])
    local_hour = datetime.now(UTC).replace(minute=0).hour
    assert hour != local_hour or datetime.now(UTC).astimezone().utcoffset() == timedelta(0)  # Berlin → UTC
    if DTD.exists():
        assert etree.DTD(str(DTD)).validate(etree.fromstring(xml))

    # Unchanged sources answer 304 and the outputs stay the same.
    report = iptv.refresh()
    assert {s.status for s in report.sources} == {"unchanged"}
    assert provider.requests[-1][1]  # sent If-None-Match

    # A failing source keeps its last good data; the other is unaffected.
    provider.fail = True
    report = iptv.refresh()
    assert {s.status for s in report.sources} == {"kept"}
    assert report.channels == 3
    assert "500" in iptv.source("Provider").last_error


def test_html_answer_is_reported_and_overrides_survive(container: Container, provider: Provider) -> None:
    iptv = container.iptv
    iptv.add_source("Blocked", "url", f"{provider.base}/blocked")
    report = iptv.refresh()
    assert report.sources[0].status == "failed"
    assert "web page" in report.sources[0].message or "HTML" in report.sources[0].message

    iptv.add_source("Provider", "url", f"{provider.base}/list.m3u")
    iptv.refresh()
    channel = next(c for c in iptv.channels() if c["name"] == "Sports Two")
    source = iptv.source("Provider").id
    iptv.set_override(source, channel["key"], name="Sport 2", number="200", enabled=True)
    iptv.set_override(source, "No Guide", enabled=False)
    iptv.refresh()
    names = {c["name"]: c for c in iptv.channels()}
    assert names["Sport 2"]["number"] == "200"
    assert names["No Guide"]["enabled"] is False
    assert "No Guide" not in iptv.playlist_path.read_text()
    report = iptv.report()
    assert report is not None
    assert ["Sports Two", "Sport 2"] in report["renamed"]


def test_outputs_and_api(container: Container, provider: Provider) -> None:
    key = AuthService(container.secrets, container.clock).api_key()
    with TestClient(create_app(container, start_background=False)) as client:
        assert client.get("/iptv/playlist.m3u").status_code == 404
        headers = {"X-Api-Key": key}
        added = client.post(
            "/api/iptv/sources",
            json={"name": "P", "kind": "url", "location": f"{provider.base}/list.m3u"},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        bad = client.post(
            "/api/iptv/sources", json={"name": "X", "kind": "ftp", "location": "x"}, headers=headers
        )
        assert bad.status_code == 400
        container.iptv.refresh()
        playlist_response = client.get("/iptv/playlist.m3u")
        assert playlist_response.status_code == 200
        assert "#EXTM3U" in playlist_response.text
        assert client.get("/iptv/xmltv.xml").headers["content-type"].startswith("application/xml")
        assert len(client.get("/api/iptv/channels", headers=headers).json()) == 3
        assert client.get("/api/iptv/report", headers=headers).json()["channels"] == 3


def test_written_guide_passes_tv_validate_file(
    container: Container, provider: Provider, tmp_path: Path
) -> None:
    if not Path("/usr/bin/tv_validate_file").exists():
        service_missing("xmltv-util (tv_validate_file) is not installed")
    container.iptv.add_source("P", "url", f"{provider.base}/list.m3u", role="channels")
    container.iptv.add_source("G", "url", f"{provider.base}/guide.xml", role="guide")
    container.iptv.refresh()
    result = subprocess.run(
        ["tv_validate_file", "--dtd-file", str(DTD), str(container.iptv.guide_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _five_minute_guide(start: datetime, channels: dict[str, tuple[int, int]]) -> bytes:
    """Five-minute programmes per channel id, from programme `first` to `last` (exclusive) after start."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<tv>"]
    parts += [f'<channel id="{cid}"><display-name>{cid}</display-name></channel>' for cid in channels]
    for cid, (first, last) in channels.items():
        for n in range(first, last):
            at, end = start + timedelta(minutes=5 * n), start + timedelta(minutes=5 * n + 5)
            parts.append(
                f'<programme start="{at:%Y%m%d%H%M%S} +0000" stop="{end:%Y%m%d%H%M%S} +0000" channel="{cid}">'
                f"<title>{cid} {n}</title><category>News</category></programme>"
            )
    parts.append("</tv>")
    return "\n".join(parts).encode()


def test_big_guides_from_two_sources_merge_in_the_worker(container: Container, provider: Provider) -> None:
    """Guides bigger than a batch: the worker merges both sources in priority order (the second only fills
    the first's gaps), the .gz matches the plain guide, and the worker's file is gone afterwards."""
    from antenna.iptv.finisher import BATCH

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    count = 1900  # five-minute programmes per channel: 158 hours, inside the 7-day window
    half = count // 2
    assert count + half > BATCH  # the worker starts during the first source
    # The first guide has two.uk and the first half of one.uk; the second has both whole.
    provider.files["/first.xml"] = _five_minute_guide(start, {"one.uk": (0, half), "two.uk": (0, count)})
    provider.files["/second.xml"] = _five_minute_guide(start, {"one.uk": (0, count), "two.uk": (0, count)})
    iptv = container.iptv
    iptv.add_source("Provider", "url", f"{provider.base}/list.m3u", role="channels")
    iptv.add_source("First", "url", f"{provider.base}/first.xml", role="guide", priority=1)
    iptv.add_source("Second", "url", f"{provider.base}/second.xml", role="guide", priority=2)

    steps: list[tuple[int, int, str]] = []
    report = iptv.refresh(progress=lambda done, total, message: steps.append((done, total, message)))
    assert {s.status for s in report.sources} == {"ok"}
    assert report.programmes == 2 * count  # one.uk: half from each source; two.uk: all from the first
    merging = [(done, total) for done, total, message in steps if message.startswith("merging the guide")]
    assert {m for _, _, m in steps} >= {"merging the guide from First", "merging the guide from Second"}
    assert merging == sorted(merging)  # the bar only moves forward
    assert all(done <= total for done, total in merging)
    xml = iptv.guide_path.read_bytes()
    assert gzip.decompress(iptv.guide_gz_path.read_bytes()) == xml
    doc = etree.fromstring(xml)
    one = [p for p in doc.iterfind("programme") if p.get("channel") == "C1.1.antenna"]
    assert [p.findtext("title") for p in one] == [f"one.uk {n}" for n in range(count)]
    guided = [p for p in doc.iterfind("programme") if p.get("channel") != "C3.3.antenna"]  # 3: fillers
    assert len(guided) == 2 * count
    if DTD.exists():
        assert etree.DTD(str(DTD)).validate(doc)
    assert not list((iptv.root / "tmp").glob("antenna-guide-*"))


def test_a_refresh_cancelled_during_a_big_guide_keeps_the_last_outputs(
    container: Container, provider: Provider
) -> None:
    """Cancelled while the worker merges: the job stops, the previous outputs stay, no worker file is left."""
    from antenna.jobs.models import JobCancelled

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    iptv = container.iptv
    iptv.add_source("Provider", "url", f"{provider.base}/list.m3u", role="channels")
    iptv.add_source("Guide", "url", f"{provider.base}/guide.xml", role="guide")
    iptv.refresh()
    before = iptv.guide_path.read_bytes()
    # More programmes than one progress tick (TICK): the second tick comes after a batch went to the worker.
    provider.files["/guide.xml"] = _five_minute_guide(start, {"one.uk": (0, 2200), "two.uk": (0, 2200)})
    calls = 0

    def cancel_at_the_second_guide_tick() -> None:
        nonlocal calls
        calls += 1
        if calls > 4:  # two fetches, the merge step, the first guide tick
            raise JobCancelled("job 1 was cancelled")

    with pytest.raises(JobCancelled):
        iptv.refresh(check_cancelled=cancel_at_the_second_guide_tick)
    assert calls == 5
    assert iptv.guide_path.read_bytes() == before
    assert not list((iptv.root / "tmp").glob("antenna-guide-*"))
