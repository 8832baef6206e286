"""The episode downloader against a real local server: resume, restarts, lies, limits, disk full, kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from antenna.clients.download import Downloader, DownloadError, DownloadRequest, DownloadResult, meta_path
from tests.mediaserver import LIE_EXTRA, MediaServer
from tests.support import free_port, self_signed_https

MB = 1 << 20
QUICK = {"backoff": 0.01}  # retries in these tests need no real back-off


def fetch(
    server: MediaServer,
    path: str,
    dest: Path,
    progress: list[tuple[int, int | None]] | None = None,
    **options: Any,
) -> DownloadResult:
    """Download server.url(path) into dest with a fresh Downloader."""

    async def run() -> DownloadResult:
        async with Downloader(**{**QUICK, **options}) as downloader:
            sink = (lambda done, total: progress.append((done, total))) if progress is not None else None
            return await downloader.fetch(DownloadRequest(server.url(path), dest, key="k"), sink)

    return asyncio.run(run())


def failure(server: MediaServer, path: str, dest: Path, **options: Any) -> DownloadError:
    """Return the DownloadError a download of path raises."""
    with pytest.raises(DownloadError) as caught:
        fetch(server, path, dest, **options)
    return caught.value


def test_fresh_download(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("a.mp3", size=3 * MB + 17)
    progress: list[tuple[int, int | None]] = []
    dest = tmp_path / "tmp" / "1.part"
    result = fetch(media_server, "a.mp3", dest, progress)
    assert dest.read_bytes() == media_server.data("a.mp3")
    assert result == DownloadResult(dest, 3 * MB + 17, "audio/mpeg", 0, False, media_server.url("a.mp3"))
    assert progress[-1] == (3 * MB + 17, 3 * MB + 17)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert json.loads(meta_path(dest).read_text())["etag"]


def test_resume_after_a_dropped_connection(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("b.mp3", size=4 * MB)
    dest = tmp_path / "b.part"
    result = fetch(media_server, "drop/1000000/b.mp3", dest)
    assert dest.read_bytes() == media_server.data("b.mp3")
    first, second = media_server.requests_for("b.mp3")
    assert (first.range, first.sent) == ("", 1_000_000)
    assert second.range == "bytes=1000000-"
    assert second.if_range  # the ETag from the first answer, so a changed file is not spliced
    assert second.status == 206
    assert media_server.sent("b.mp3") == 4 * MB  # nothing fetched twice
    assert (result.resumed_from, result.restarted) == (0, False)


def test_a_200_answer_to_a_range_request_restarts(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("c.mp3", size=2 * MB)
    dest = tmp_path / "c.part"
    result = fetch(media_server, "norange/drop/500000/c.mp3", dest)
    assert dest.read_bytes() == media_server.data("c.mp3")
    _first, second = media_server.requests_for("c.mp3")
    assert second.range == "bytes=500000-"
    assert second.status == 200
    assert (result.restarted, result.resumed_from, result.size) == (True, 0, 2 * MB)


def test_a_range_answer_starting_elsewhere_restarts(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("d.mp3", size=2 * MB)
    dest = tmp_path / "d.part"
    result = fetch(media_server, "badrange/drop/1000000/d.mp3", dest)
    assert dest.read_bytes() == media_server.data("d.mp3")
    requests = media_server.requests_for("d.mp3")
    assert [(r.range, r.status) for r in requests] == [("", 200), ("bytes=1000000-", 206), ("", 200)]
    assert result.restarted


def test_a_lying_content_length_is_reported_after_the_retries(
    media_server: MediaServer, tmp_path: Path
) -> None:
    media_server.add_file("e.mp3", size=100_000)
    url = media_server.url("lie/e.mp3").replace("http://", "http://user:hunter22@")
    with pytest.raises(DownloadError) as caught:
        asyncio.run(_fetch_url(url, tmp_path / "e.part", retries=2))
    error = caught.value
    assert error.retryable
    assert error.reason.startswith(f"the server sent 100000 bytes but announced {100_000 + LIE_EXTRA}")
    assert "hunter22" not in error.reason
    requests = media_server.requests_for("e.mp3")
    assert len(requests) == 3  # the first try and two retries, each resuming
    assert [r.range for r in requests[1:]] == ["bytes=100000-"] * 2


async def _fetch_url(url: str, dest: Path, **options: Any) -> DownloadResult:
    async with Downloader(**{**QUICK, **options}) as downloader:
        return await downloader.fetch(DownloadRequest(url, dest))


def test_404_is_not_retried(media_server: MediaServer, tmp_path: Path) -> None:
    error = failure(media_server, "status/404", tmp_path / "f.part")
    assert (error.reason, error.retryable) == ("HTTP 404 Not Found from 127.0.0.1", False)
    assert len(media_server.requests_for("404")) == 1


def test_503_is_retried_honouring_retry_after(media_server: MediaServer, tmp_path: Path) -> None:
    error = failure(media_server, "status/503?retry_after=0", tmp_path / "f.part", retries=2, backoff=60)
    assert (error.reason, error.retryable) == ("HTTP 503 Service Unavailable from 127.0.0.1", True)
    assert len(media_server.requests_for("503")) == 3


def test_redirect_chain_is_followed(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("g.m4a", size=1000)
    result = fetch(media_server, "redirect/3/g.m4a", tmp_path / "g.part")
    assert result.final_url == media_server.url("g.m4a")
    assert result.content_type == "audio/mp4"
    assert len(media_server.requests_for("g.m4a")) == 4


def test_a_complete_file_is_not_downloaded_again(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("h.mp3", size=MB)
    dest = tmp_path / "h.part"
    fetch(media_server, "h.mp3", dest)
    media_server.reset()
    again = fetch(media_server, "h.mp3", dest)
    assert media_server.log() == []
    assert (again.size, again.resumed_from, again.restarted) == (MB, MB, False)
    # Without the sidecar the server's 416 says the same, and no body is sent.
    meta_path(dest).unlink()
    fetch(media_server, "h.mp3", dest)
    assert [(r.range, r.status, r.sent) for r in media_server.log()] == [(f"bytes={MB}-", 416, 0)]
    assert dest.read_bytes() == media_server.data("h.mp3")


def test_a_partial_file_of_another_episode_is_discarded(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("i.mp3", size=300_000)
    dest = tmp_path / "i.part"
    dest.write_bytes(b"x" * 1000)
    meta_path(dest).write_text(json.dumps({"key": "another episode", "total": 5000}))
    result = fetch(media_server, "i.mp3", dest)
    assert dest.read_bytes() == media_server.data("i.mp3")
    assert [r.range for r in media_server.log()] == [""]
    assert result.resumed_from == 0


def test_limits_per_host_and_overall(media_server: MediaServer, tmp_path: Path) -> None:
    for n in range(4):
        media_server.add_file(f"p{n}.mp3", size=200_000)

    async def run(hosts: list[str]) -> None:
        async with Downloader(concurrency=3, per_host=2) as downloader:
            await asyncio.gather(
                *(
                    downloader.fetch(
                        DownloadRequest(
                            media_server.url(f"throttle/200000/p{n}.mp3").replace("127.0.0.1", host),
                            tmp_path / f"{len(set(hosts))}-{host}-p{n}.part",
                        )
                    )
                    for n, host in enumerate(hosts)
                )
            )

    asyncio.run(run(["127.0.0.1"] * 4))
    assert media_server.max_concurrent == 2  # per host
    media_server.reset()
    asyncio.run(run(["127.0.0.1", "127.0.0.1", "localhost", "localhost"]))
    assert media_server.max_concurrent == 3  # overall


def test_timeouts_refusals_and_dns_failures_read_clearly(media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add_file("j.mp3", size=1000)
    slow = failure(media_server, "slow-headers/5/j.mp3", tmp_path / "j.part", retries=0, timeout=0.5)
    assert (slow.reason, slow.retryable) == ("no answer from 127.0.0.1 within 0.5 s", True)
    with pytest.raises(DownloadError) as refused:
        asyncio.run(_fetch_url(f"http://127.0.0.1:{free_port()}/j.mp3", tmp_path / "j.part", retries=0))
    assert refused.value.reason == "could not connect to 127.0.0.1: connection refused"
    with pytest.raises(DownloadError) as dns:
        asyncio.run(_fetch_url("http://does-not-exist.invalid/j.mp3", tmp_path / "j.part", retries=0))
    assert dns.value.reason == "could not resolve the host name does-not-exist.invalid (DNS lookup failed)"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted in tmp_path (needs root); skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs to fill up (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_is_reported_and_the_partial_file_removed(
    media_server: MediaServer, tiny_disk: Path
) -> None:
    media_server.add_file("k.mp3", size=3 * MB)
    dest = tiny_disk / "k.part"
    error = failure(media_server, "k.mp3", dest)
    assert (error.reason, error.retryable) == (f"disk full while writing {dest}", False)
    assert not dest.exists()
    assert not meta_path(dest).exists()
    assert len(media_server.requests_for("k.mp3")) == 1


@pytest.mark.slow
def test_resume_after_kill_9(media_server: MediaServer, tmp_path: Path) -> None:
    size = 20 * MB
    media_server.add_file("big.mp3", size=size)
    path = "throttle/10000000/big.mp3"
    dest = tmp_path / "big.part"
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("download_child.py")),
            media_server.url(path),
            str(dest),
            "k",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120  # only a guard against hanging; nothing is asserted about time
        while not (dest.exists() and dest.stat().st_size >= 5 * MB):
            assert child.poll() is None, "the child ended before it was killed"
            assert time.monotonic() < deadline, "the child never wrote 5 MB"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    on_disk = dest.stat().st_size
    assert on_disk < size
    result = fetch(media_server, path, dest)
    assert dest.read_bytes() == media_server.data("big.mp3")
    resumed = [r for r in media_server.requests_for("big.mp3") if r.range == f"bytes={on_disk}-"]
    assert [r.status for r in resumed] == [206]
    assert resumed[0].sent < size - on_disk + MB
    assert (result.resumed_from, result.restarted) == (on_disk, False)


class _Episode(BaseHTTPRequestHandler):
    """Answer any GET with a few bytes (the TLS handshake fails before this runs)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"mp3")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def test_an_untrusted_certificate_is_one_line_and_not_retried(tmp_path: Path) -> None:
    with self_signed_https(tmp_path, _Episode) as url, pytest.raises(DownloadError) as caught:
        asyncio.run(_fetch_url(f"{url}/e.mp3", tmp_path / "e.part", retries=3))
    error = caught.value
    assert error.reason.startswith("TLS handshake with 127.0.0.1 failed: ")
    assert "certificate" in error.reason.lower()
    assert "\n" not in error.reason
    assert not error.retryable


def test_redirects_to_other_protocols_are_refused(tmp_path: Path) -> None:
    class ToFile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), ToFile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dest = tmp_path / "p.part"
    try:
        with pytest.raises(DownloadError) as caught:
            asyncio.run(_fetch_url(f"http://127.0.0.1:{server.server_address[1]}/p.mp3", dest, retries=0))
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.reason.startswith("127.0.0.1 pointed to a non-HTTP address: ")
    assert not caught.value.retryable
    assert not dest.exists() or b"root:" not in dest.read_bytes()
