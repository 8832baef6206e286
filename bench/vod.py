"""Benchmark VOD exports: 50,000 movies, 15,000 series and 300,000 episodes from a local Xtream-style panel.

The panel is tests/vodserver.py, run in this process; `antenna vod export` runs as a child process, timed from
spawn to exit, with its peak RSS from GNU time. Every timed run starts with the page cache written back (and
dropped, when run as root). Measured, once each (each takes tens of seconds):
- the first export (every file new), against the filesystem floor: a bare Python loop (a child process) that
  writes the same files, of the same sizes, into the same folders of a fresh root, run right before and right
  after the export (the mean counts; the disk's speed drifts);
- a second export with nothing changed (files written are counted from the run's report and file times);
- an export after 1% of the items changed (500 movies renamed, 150 series with an episode retitled),
  against the no-change time plus the floor's share for the files that changed.
Set VOD_BENCH_SCALE (default 1.0) to run a smaller catalogue.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import mb, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/vodserver.py

from tests.vodserver import Catalogue, VodServer

SCALE = float(os.environ.get("VOD_BENCH_SCALE", "1"))
MOVIES, SERIES, EPISODES_PER_SERIES = int(50_000 * SCALE), int(15_000 * SCALE), 20
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""

FLOOR_SCRIPT = """
import json, os, sys
root, listing = sys.argv[1], sys.argv[2]
with open(listing) as f:
    files = json.load(f)
made = set()
for rel, size in files:
    path = os.path.join(root, rel)
    folder = os.path.dirname(path)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    with open(path, "wb") as out:
        out.write(b"x" * size)
"""


def _antenna() -> list[str]:
    script = Path(sys.executable).with_name("antenna")
    return [str(script)] if script.exists() else [sys.executable, "-m", "antenna"]


def settle() -> None:
    """Write back and drop the page cache (dropping needs root), so no run pays for the last one's writes.

    This VM's disk took from 7 s to 45 s for the same write loop when runs followed each other directly.
    """
    os.sync()
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    time.sleep(1)


def child(argv: list[str], work: Path) -> tuple[float, int, str]:
    """Run a child to completion (after settle()); return wall seconds, peak RSS in bytes and stdout."""
    settle()
    rss = work / "rss"
    wrapped = [TIME, "-f", "%M", "-o", str(rss), *argv] if TIME else argv
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTENNA_")}
    started = time.perf_counter()
    done = subprocess.run(wrapped, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
    peak = int(rss.read_text().split()[-1]) * 1024 if TIME else 0
    return seconds, peak, done.stdout


def listing(root: Path) -> list[tuple[str, int]]:
    """Return every file under root with its size, relative paths."""
    out = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            out.append((str(path.relative_to(root)), path.stat().st_size))
    return out


def newest(root: Path) -> int:
    """Return the newest modification time under root (ns)."""
    return max((Path(f, n).stat().st_mtime_ns for f, _d, names in os.walk(root) for n in names), default=0)


def export(data: Path, work: Path) -> tuple[float, int, dict[str, Any]]:
    seconds, peak, out = child([*_antenna(), "--data", str(data), "vod", "export", "--json"], work)
    job = json.loads(out)[0]
    return seconds, peak, job


def counts(data: Path, work: Path) -> dict[str, int]:
    _s, _p, out = child([*_antenna(), "--data", str(data), "vod", "report", "--json"], work)
    rows = json.loads(out)["rows"]
    found: dict[str, int] = {}
    for row in rows:
        found[row["action"]] = found.get(row["action"], 0) + 1
    return found


def main() -> dict[str, Any]:
    """Run the VOD benchmark and print its table and targets."""
    work = Path(tempfile.mkdtemp(prefix="antenna-bench-vod-"))
    try:
        return _run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path) -> dict[str, Any]:
    print(
        f"vod: generating {MOVIES:,} movies, {SERIES:,} series x {EPISODES_PER_SERIES} episodes ...",
        flush=True,
    )
    catalogue = Catalogue(
        movies=MOVIES, series=SERIES, episodes_per_series=EPISODES_PER_SERIES, seed=5, junk=False
    )
    data, root, floor_root = work / "data", work / "tree", work / "floor"
    with VodServer(catalogue) as panel:
        child(
            [*_antenna(), "--data", str(data), "vod", "source", "add", "bench", "--root", str(root),
             "--xtream", panel.url, "--username", "user", "--password", "pass"],
            work,
        )  # fmt: skip
        # The floor needs the export's file list, so a throw-away export makes it first; then the floor runs
        # right before and right after the timed first export (the disk's speed drifts) and their mean counts.
        print("vod: listing the tree (a throw-away export) ...", flush=True)
        child([*_antenna(), "--data", str(work / "scratch"), "vod", "source", "add", "bench", "--root",
               str(work / "scratch-tree"), "--xtream", panel.url, "--username", "user", "--password", "pass"],
              work)  # fmt: skip
        child([*_antenna(), "--data", str(work / "scratch"), "vod", "export"], work)
        files = listing(work / "scratch-tree")
        (work / "listing.json").write_text(json.dumps(files))
        (work / "floor.py").write_text(FLOOR_SCRIPT)
        # No tree is deleted before the last timed run: right after deleting 760k files this disk (ext4 with
        # online discard) wrote half as fast for minutes, which penalised whichever run came next.
        print(f"vod: floor: writing the same {len(files):,} files ...", flush=True)
        floor_before = child(
            [sys.executable, str(work / "floor.py"), str(floor_root), str(work / "listing.json")], work
        )
        print("vod: first export ...", flush=True)
        first = export(data, work)
        print("vod: floor again ...", flush=True)
        floor_after = child(
            [sys.executable, str(work / "floor.py"), str(work / "floor-2"), str(work / "listing.json")], work
        )
        floor = ((floor_before[0] + floor_after[0]) / 2, max(floor_before[1], floor_after[1]))
        assert len(listing(root)) == len(files), "the timed export made another tree than the listed one"
        print("vod: export with nothing changed ...", flush=True)
        before = newest(root)
        again = export(data, work)
        unchanged_written = newest(root) != before
        again_counts = counts(data, work)
        print("vod: export after 1% of the items changed ...", flush=True)
        for movie in catalogue.movies[: MOVIES // 100]:
            catalogue.rename_movie(movie.stream_id, movie.title + " Redux")
        for show in catalogue.series[: SERIES // 100]:
            catalogue.retitle_episode(show.series_id, show.episodes[0].id, "A New Title")
        changed = export(data, work)
        changed_counts = counts(data, work)
    touched = sum(v for k, v in changed_counts.items() if k != "unchanged")
    share = 2 * touched / max(len(files), 1)  # .strm + .nfo per item changed
    rows = [["measure", "antenna", "baseline", "antenna / baseline"]]
    rows.append([f"first export, {len(files):,} files; baseline: bare Python write loop (mean of "
                 f"{floor_before[0]:.1f} s before and {floor_after[0]:.1f} s after)", f"{first[0]:.1f} s",
                 f"{floor[0]:.1f} s", f"{first[0] / floor[0]:.2f}x"])  # fmt: skip
    rows.append(["first export, peak RSS", mb(first[1]), mb(floor[1]), f"{first[1] / max(floor[1], 1):.1f}x"])
    rows.append(["no-change export (wall; files written: " + ("some" if unchanged_written else "0") + ")",
                 f"{again[0]:.1f} s", "-", "-"])  # fmt: skip
    rows.append(["no-change export, peak RSS", mb(again[1]), "-", "-"])
    budget = 2 * again[0] + floor[0] * share
    rows.append([f"1% changed ({touched:,} items); baseline: 2x no-change + floor share",
                 f"{changed[0]:.1f} s", f"{budget:.1f} s", f"{changed[0] / budget:.2f}x"])  # fmt: skip
    rows.append(["1% changed, peak RSS", mb(changed[1]), "-", "-"])
    peak = max(first[1], again[1], changed[1])
    targets = [
        f"- first export within 2x the floor: {'met' if first[0] <= 2 * floor[0] else 'NOT met'} "
        f"({first[0] / floor[0]:.2f}x)",
        f"- no-change export under 10 s and writing 0 files: "
        f"{'met' if again[0] < 10 and not unchanged_written else 'NOT met'} "
        f"({again[0]:.1f} s; {again_counts})",
        f"- 1% run under 2x no-change + the floor's share: {'met' if changed[0] <= budget else 'NOT met'}",
        f"- peak RSS under 300 MB: {'met' if peak < 300 * 1024 * 1024 else 'NOT met'} ({mb(peak)})",
    ]
    print()
    print(f"VOD export ({MOVIES:,} movies, {SERIES:,} series, {SERIES * EPISODES_PER_SERIES:,} episodes)")
    print(table(rows))
    print("\n".join(targets))
    return {
        "files": len(files),
        "first": first[:2],
        "floor": floor[:2],
        "floor_before_after": (floor_before[0], floor_after[0]),
        "again": again[:2],
        "changed": changed[:2],
        "again_counts": again_counts,
        "changed_counts": changed_counts,
        "targets": targets,
    }
