"""Benchmark podcasts: (b) three concurrent 300 MB episode downloads against curl, in the same run.

(b) Three files of pseudo-random bytes are generated into a temporary directory and served by the tests'
MediaServer (tests/mediaserver.py: a threaded http.server that answers whole-file GETs with sendfile, so the
server is not what is measured). The baseline is three `curl -s -o FILE URL` processes started together; the
subject is a child process running Antenna's Downloader with the three fetches gathered (concurrency 3 and 3
per host, as the files share one host). Both write into the same directory on the same disk; output files are
deleted and the page cache is synced (`sync`) before every run so neither pays for the other's writeback.
Best of RUNS each, interleaved. Throughput is total bytes over the wall time from spawning the processes to
the last exit (the Downloader's child also reports its own time without Python start-up); peak RSS is GNU
time's `%M` for the child.

(a) Feed checks of 1,000 subscriptions against a bare fetch-and-parse loop: see bench/_podcast_feeds.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from _report import mb, table  # noqa: E402
from tests.mediaserver import MediaServer  # noqa: E402

MB = 1024 * 1024
FILES = 3
FILE_SIZE = 300 * MB
RUNS = 5
TARGET_RATIO = 0.80  # of curl's throughput
TARGET_PEAK = 100 * MB
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""  # GNU time, for the child's peak RSS

DOWNLOADER_SCRIPT = """
import asyncio, json, sys, time
from pathlib import Path
from antenna.clients.download import Downloader, DownloadRequest

async def main(out: Path, urls: list[str]) -> None:
    async with Downloader(concurrency=len(urls), per_host=len(urls)) as downloader:
        started = time.perf_counter()
        done = await asyncio.gather(
            *(downloader.fetch(DownloadRequest(url, out / f"{n}.part")) for n, url in enumerate(urls))
        )
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "bytes": sum(r.size for r in done)}))

asyncio.run(main(Path(sys.argv[1]), sys.argv[2:]))
"""


def _rate(size: int, seconds: float) -> str:
    return f"{size / MB / seconds:.0f} MB/s"


def _fresh(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    os.sync()  # the previous run's dirty pages must not be written back during this one


def run_curl(urls: Sequence[str], out: Path) -> float:
    """Fetch every URL with its own curl process, all at once; return the wall seconds."""
    _fresh(out)
    started = time.perf_counter()
    children = [
        subprocess.Popen(["curl", "-s", "-f", "-o", str(out / f"{n}.bin"), url]) for n, url in enumerate(urls)
    ]
    codes = [child.wait() for child in children]
    seconds = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"curl failed: exit codes {codes}")
    return seconds


def run_downloader(urls: Sequence[str], out: Path, work: Path) -> dict[str, float]:
    """Fetch every URL with the Downloader in a fresh child; return wall, in-process seconds and peak."""
    _fresh(out)
    rss = work / "child.rss"
    argv = [sys.executable, "-c", DOWNLOADER_SCRIPT, str(out), *urls]
    wrapped = [TIME, "-f", "%M", "-o", str(rss), *argv] if TIME else argv
    started = time.perf_counter()
    done = subprocess.run(wrapped, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the Downloader child failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    if report["bytes"] != FILES * FILE_SIZE:
        raise RuntimeError(f"the Downloader child fetched {report['bytes']} bytes")
    peak = int(rss.read_text().split()[-1]) * 1024 if TIME else 0
    return {"wall": seconds, "inside": float(report["seconds"]), "peak": float(peak)}


def measure_downloads(work: Path) -> dict[str, Any]:
    """Part (b): serve FILES x FILE_SIZE and fetch them with curl and with the Downloader, best of RUNS."""
    server = MediaServer(work / "served").start()
    try:
        print(f"podcasts: generating {FILES} x {mb(FILE_SIZE)} ...", flush=True)
        urls = [server.url(server.add_file(f"episode{n}.mp3", size=FILE_SIZE).name) for n in range(FILES)]
        out = work / "out"
        print("podcasts: warming up (one curl round, which also checks the server) ...", flush=True)
        run_curl(urls, out)
        curl: list[float] = []
        antenna: list[dict[str, float]] = []
        for n in range(RUNS):
            print(f"podcasts: run {n + 1}/{RUNS}: curl, then the Downloader ...", flush=True)
            curl.append(run_curl(urls, out))
            antenna.append(run_downloader(urls, out, work))
        if (out / "0.part").read_bytes() != server.data("episode0.mp3"):
            raise RuntimeError("the Downloader's file differs from the served one")
    finally:
        server.stop()
        shutil.rmtree(work / "out", ignore_errors=True)
    return {"curl": curl, "antenna": antenna, "bytes": FILES * FILE_SIZE}


def measure_feed_checks(work: Path) -> dict[str, Any]:
    """Part (a): check 1,000 subscriptions against a bare fetch + podcastparser loop."""
    import _podcast_feeds

    return _podcast_feeds.measure(work / "feed-checks")


def report(downloads: dict[str, Any], feeds: dict[str, Any]) -> tuple[str, list[str]]:
    """Return the Markdown table and the target lines."""
    size = downloads["bytes"]
    curl = min(downloads["curl"])
    best = min(downloads["antenna"], key=lambda run: run["wall"])
    inside = min(run["inside"] for run in downloads["antenna"])
    peak = max(run["peak"] for run in downloads["antenna"])
    how = f"best of {RUNS}"
    label = f"{FILES} x {mb(FILE_SIZE)} concurrent downloads"
    rows = [
        ["measure", "antenna", "baseline", "antenna / baseline"],
        [
            f"{label}, throughput, whole process ({how}); baseline: {FILES} curl processes",
            _rate(size, best["wall"]),
            _rate(size, curl),
            f"{curl / best['wall']:.2f}x",
        ],
        [
            f"{label}, throughput, Downloader alone (no Python start-up; {how}); baseline: curl",
            _rate(size, inside),
            _rate(size, curl),
            f"{curl / inside:.2f}x",
        ],
        [f"{label}, peak RSS of the Downloader process", mb(peak), "-", "-"],
    ]
    import _podcast_feeds

    feed_rows, feed_targets = _podcast_feeds.rows(feeds)
    rows += feed_rows
    whole, alone = curl / best["wall"], curl / inside

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    targets = [
        f"- Three concurrent {mb(FILE_SIZE)} downloads at ≥ {TARGET_RATIO:.0%} of curl's throughput: "
        f"Downloader alone {met(alone >= TARGET_RATIO)} ({alone:.0%}); whole process including Python "
        f"start-up {met(whole >= TARGET_RATIO)} ({whole:.0%})",
        f"- Peak RSS < {mb(TARGET_PEAK)}: {met(peak < TARGET_PEAK)} ({mb(peak)}, largest of {RUNS} runs)",
    ]
    return table(rows), targets + feed_targets


def main() -> dict[str, Any]:
    """Run the podcast benchmarks, print the table and targets, and return the raw numbers."""
    tmp = Path(tempfile.mkdtemp(prefix="antenna-bench-podcasts-"))
    try:
        feeds = measure_feed_checks(tmp)
        downloads = measure_downloads(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table, targets = report(downloads, feeds)
    print()
    print("Podcasts: feed checks and downloads, each against its baseline in the same run")
    print(table)
    print()
    print("\n".join(targets))
    return {"downloads": downloads, "feed_checks": feeds, "table": table, "targets": targets}


if __name__ == "__main__":
    main()
