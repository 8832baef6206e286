"""Part (a) of the podcast benchmark: checking 1,000 subscriptions against a bare fetch-and-parse loop.

1,000 feeds (most 50-100 items, some up to 2,000; seeded) are written to a temp dir and served by a separate
`python -m http.server` process (it answers If-Modified-Since with 304, so the server is neither in our
process nor our GIL). Setup, not timed: the feeds are stored as subscriptions (keep 1) and checked once, so
every one has its Last-Modified and episodes. Then, per round, 30 % of the feeds get a new episode and a new
mtime; the baseline (one httpx client; a conditional GET per feed with the Last-Modified Antenna holds; 304 →
next, 200 → podcastparser.parse) and Antenna's check of every subscription (conditional GET, parse, merge into
the database, quota and queueing) see the same mix of 304s and changed feeds. Best of ROUNDS.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

FEEDS = 1000
CHANGED = 0.30
ROUNDS = 3
TARGET = 1.5


def _size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(50, 100)
    if roll < 0.9:
        return rng.randint(100, 500)
    return rng.randint(500, 2000)


def feed_xml(n: int, count: int, base: str) -> bytes:
    """Return a realistic RSS feed of `count` items (newest first)."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count - 1, -1, -1):
        when = format_datetime(start + timedelta(hours=12 * i))
        items.append(
            f"<item><title>Show {n} episode {i}: a title of ordinary length</title>"
            f'<guid isPermaLink="false">show-{n}-ep-{i}</guid><pubDate>{when}</pubDate>'
            f"<description><![CDATA[<p>Episode {i} of show {n}. We talk about things &amp; stuff, "
            f'with <a href="https://example.org/{i}">links</a> and notes.</p>]]></description>'
            f'<enclosure url="{base}/media/{n}/{i}.mp3" length="{30_000_000 + i}" type="audio/mpeg"/>'
            f"<itunes:duration>{1800 + i % 900}</itunes:duration></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>Show {n}</title><link>https://example.org/show/{n}</link><description>Show {n}</description>"
        f"<itunes:author>Network {n % 17}</itunes:author>" + "".join(items) + "</channel></rss>"
    ).encode()


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.support import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def baseline(urls: list[str], modified: dict[str, str]) -> float:
    """Fetch every feed conditionally with one client and parse the changed ones with podcastparser."""
    import httpx
    import podcastparser

    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for url in urls:
            response = client.get(
                url, headers={"If-Modified-Since": modified[url]} if modified.get(url) else {}
            )
            if response.status_code == 200:
                podcastparser.parse(url, io.BytesIO(response.content))
    return time.perf_counter() - started


def measure(work: Path) -> dict[str, Any]:
    """Run the setup and ROUNDS rounds; return the timings."""
    from antenna.container import build_container
    from antenna.settings import load_settings

    folder = work / "feeds"
    folder.mkdir(parents=True)
    rng = random.Random(4)
    sizes = [_size(rng) for _ in range(FEEDS)]
    server, base = _serve(folder)
    try:
        for n, count in enumerate(sizes):
            (folder / f"{n}.rss").write_bytes(feed_xml(n, count, base))
        urls = [f"{base}/{n}.rss" for n in range(FEEDS)]
        data = work / "data"
        data.mkdir()
        container = build_container(load_settings(data, {"ANTENNA_PODCASTS_KEEP": "1"}))
        service = container.podcasts
        print(f"podcasts: setting up {FEEDS} subscriptions ({sum(sizes):,} episodes) ...", flush=True)
        now = datetime.now(UTC)
        for n, url in enumerate(urls):
            service.repo.add_podcast(
                {
                    "url": url,
                    "url_key": url,
                    "title": f"Show {n}",
                    "folder": str(data / "lib" / f"Show {n}"),
                    "options": {"keep": 1},
                },
                now,
            )
        service.check()
        rounds: list[dict[str, float]] = []
        for round_no in range(ROUNDS):
            modified = {row["url"]: row["last_modified"] for row in service.repo.podcasts()}
            changed = rng.sample(range(FEEDS), int(FEEDS * CHANGED))
            for n in changed:
                sizes[n] += 1
                path = folder / f"{n}.rss"
                path.write_bytes(feed_xml(n, sizes[n], base))
                later = time.time() + 60 * (round_no + 1)
                os.utime(path, (later, later))
            base_seconds = baseline(urls, modified)
            started = time.perf_counter()
            results = service.check()
            ours = time.perf_counter() - started
            statuses = [r.status for r in results]
            if statuses.count("updated") != len(changed) or statuses.count("unchanged") != FEEDS - len(
                changed
            ):
                raise RuntimeError(
                    f"unexpected check results: { {s: statuses.count(s) for s in set(statuses)} }"
                )
            rounds.append({"antenna": ours, "baseline": base_seconds})
            print(
                f"podcasts: round {round_no + 1}: antenna {ours:.2f} s, baseline {base_seconds:.2f} s",
                flush=True,
            )
        container.close()
    finally:
        server.terminate()
        server.wait(10)
    return {"rounds": rounds, "feeds": FEEDS, "episodes": sum(sizes), "changed": int(FEEDS * CHANGED)}


def rows(result: dict[str, Any]) -> tuple[list[list[str]], list[str]]:
    """Return table rows and the target line."""
    ours = min(r["antenna"] for r in result["rounds"])
    base = min(r["baseline"] for r in result["rounds"])
    label = (
        f"check {result['feeds']:,} feeds ({result['changed']} changed, the rest 304; "
        f"{result['episodes']:,} episodes), best of {len(result['rounds'])}; "
        "baseline: fetch + podcastparser loop"
    )
    ratio = ours / base
    verdict = "met" if ratio <= TARGET else "NOT met"
    return (
        [[label, f"{ours:.2f} s", f"{base:.2f} s", f"{ratio:.2f}x"]],
        [f"- Feed checks within {TARGET}x of the bare fetch-and-parse loop: {verdict} ({ratio:.2f}x)"],
    )
