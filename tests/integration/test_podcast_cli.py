"""`antenna podcast …` as a real child process, including a kill -9 mid-download and its resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_podcasts import items, rss
from tests.mediaserver import MediaServer
from tests.support import ANTENNA, clean_env, run_cli

pytestmark = pytest.mark.slow
WIDE = {"COLUMNS": "250"}
Result = subprocess.CompletedProcess[str]
BIG = 20 * 1024 * 1024


def ok(result: Result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def server() -> Iterator[MediaServer]:
    served = MediaServer().start()
    served.add_file("ep.mp3", size=20_000)
    try:
        yield served
    finally:
        served.stop()


def test_subscribe_check_download_housekeep_opml(data_dir: Path, server: MediaServer) -> None:
    server.add_file("feed.rss", rss(server, items(3)))
    url = server.url("feed.rss")
    preview = json.loads(ok(run_cli(data_dir, "podcast", "preview", url, "--json")))
    assert preview["episodes"] == 3
    assert preview["files"][0]["path"].startswith("Season 2024/Test Show - S2024E")
    added = ok(run_cli(data_dir, "podcast", "add", url, "--keep", "2"))
    assert "Subscribed to Test Show (#1): 3 episodes, 2 queued" in added
    duplicate = run_cli(data_dir, "podcast", "add", url)
    assert duplicate.returncode == 2
    assert "Already subscribed" in duplicate.stderr
    bad = run_cli(data_dir, "podcast", "add", server.url("status/404"))
    assert bad.returncode == 2
    assert "404" in bad.stderr
    done = ok(run_cli(data_dir, "podcast", "download", "--wait"))
    assert "succeeded: 2 downloaded, 0 failed" in done
    listed = ok(run_cli(data_dir, "podcast", "list", env=WIDE))
    assert "Test Show" in listed
    shown = json.loads(ok(run_cli(data_dir, "podcast", "show", "1", "--json")))
    assert sorted(e["state"] for e in shown["episodes"]) == ["available", "unwatched", "unwatched"]
    checked = ok(run_cli(data_dir, "podcast", "check", "--all", env=WIDE))
    assert "Test Show" in checked
    ok(run_cli(data_dir, "podcast", "set", "1", "--expire-days", "30"))
    dry = ok(run_cli(data_dir, "podcast", "housekeep", "--dry-run", env=WIDE))
    assert "dry run" in dry
    assert "older than 30 days" in dry
    shown = json.loads(ok(run_cli(data_dir, "podcast", "show", "1", "--json")))
    assert sorted(e["state"] for e in shown["episodes"]) == ["available", "unwatched", "unwatched"]
    exported = ok(run_cli(data_dir, "podcast", "export-opml"))
    assert url in exported
    opml = data_dir / "subs.opml"
    opml.write_text(exported)
    ok(run_cli(data_dir, "podcast", "pause", "1"))
    assert "Removed Test Show" in ok(run_cli(data_dir, "podcast", "remove", "1", "--yes", "--delete-files"))
    assert not (data_dir / "podcasts" / "Test Show").exists()
    assert "1 added" in ok(run_cli(data_dir, "podcast", "import-opml", str(opml)))
    missing = run_cli(data_dir, "podcast", "show", "99")
    assert missing.returncode == 2
    assert "No podcast with id 99" in missing.stderr


def test_kill_9_mid_download_resumes_from_the_bytes_on_disk(data_dir: Path, server: MediaServer) -> None:
    server.add_file("big.mp3", size=BIG)
    feed = rss(server, [("big", "Big one", items(1)[0][2], "throttle/2000000/big.mp3")])
    server.add_file("feed.rss", feed)
    ok(run_cli(data_dir, "podcast", "add", server.url("feed.rss")))
    child = subprocess.Popen(
        [*ANTENNA, "--data", str(data_dir), "podcast", "download", "--wait"],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = data_dir / "downloads" / "episode-1.part"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if partial.exists() and partial.stat().st_size >= 5 * 1024 * 1024:
            break
        time.sleep(0.05)
    else:
        child.kill()
        pytest.fail("the download never reached 5 MB")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    on_disk = partial.stat().st_size
    assert 0 < on_disk < BIG
    deadline = time.monotonic() + 20
    while not server.requests_for("big.mp3") and time.monotonic() < deadline:
        time.sleep(0.05)  # the server logs the killed request once its write fails
    sent_before = server.sent("big.mp3")
    done = ok(run_cli(data_dir, "podcast", "download", "--wait", timeout=120))
    assert "1 downloaded" in done
    resent = server.sent("big.mp3") - sent_before
    assert resent < BIG - on_disk + 1024 * 1024, (resent, on_disk)
    assert any(r.range.startswith("bytes=") for r in server.requests_for("big.mp3")[1:])
    library = next((data_dir / "podcasts").rglob("*.mp3"))
    assert library.read_bytes() == server.data("big.mp3")
    assert not partial.exists()
