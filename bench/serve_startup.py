"""Benchmark the foundation: `antenna serve` start-up time and idle memory, and `antenna backup`.

Every measure runs Antenna and a baseline in the same run and prints the ratio:
- start-up: spawn to the first 200 from /api/health, fresh and warm data dir, vs a bare FastAPI app
  on uvicorn;
- idle memory: RSS and peak RSS (VmHWM) after 5 s idle, vs the same bare app;
- backup: `antenna backup` of a generated 50 MB SQLite database vs sqlite3's own backup() (plain copy,
  and copy + tar.gz at the same gzip level, which is what Antenna's archive adds).
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _report import mb, table

from antenna.backup.archive import GZIP_LEVEL

RUNS = 5  # start-up runs per variant (median reported)
MEMORY_RUNS = 3  # idle-memory runs per variant (median reported)
BACKUP_RUNS = 3
IDLE_SECONDS = 5.0
BACKUP_MB = 50
START_TIMEOUT = 60.0

BASELINE_APP = '''
"""The baseline: the smallest FastAPI app with the same health route, served by uvicorn."""
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
'''

BASELINE_BACKUP = """
import sqlite3, sys, tarfile
source, dest, archive, level = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
src = sqlite3.connect(source)
dst = sqlite3.connect(dest)
src.backup(dst, pages=1024)
dst.close()
src.close()
if archive != "-":
    with tarfile.open(archive, "w:gz", compresslevel=level) as tar:
        tar.add(dest, arcname="antenna.db")
"""


@dataclass(frozen=True)
class ProcessStats:
    """What one child process cost: wall seconds and memory in bytes."""

    seconds: float
    rss: int = 0
    peak: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    # Nothing from the caller's ANTENNA_* may change what is measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("ANTENNA_")}


def _antenna() -> list[str]:
    script = Path(sys.executable).with_name("antenna")
    return [str(script)] if script.exists() else [sys.executable, "-m", "antenna"]


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _memory(pid: int) -> tuple[int, int]:
    """Return (RSS, peak RSS) of a live process in bytes."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    import psutil

    rss = int(psutil.Process(pid).memory_info().rss)
    return rss, rss


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Stop a server with SIGTERM and return its lifetime peak RSS in bytes (from wait4)."""
    if process.poll() is not None:
        return 0
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pid, _status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = 0
            return int(usage.ru_maxrss) * 1024
        time.sleep(0.02)
    process.kill()
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = -9
    return int(usage.ru_maxrss) * 1024


@contextmanager
def _serving(argv: Sequence[str], port: int) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server and yield it with the seconds from spawn to the first healthy answer."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while not _healthy(port):
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {process.returncode}: {' '.join(argv)}")
            if time.perf_counter() - started > START_TIMEOUT:
                raise RuntimeError(f"no answer within {START_TIMEOUT}s: {' '.join(argv)}")
            time.sleep(0.005)
        yield process, time.perf_counter() - started
    finally:
        _stop(process)


def _antenna_serve(data: Path, port: int) -> list[str]:
    return [*_antenna(), "--data", str(data), "serve", "--port", str(port)]


def _baseline_serve(app_dir: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(app_dir),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def _time_start(argv_for: Callable[[int], list[str]]) -> float:
    port = _free_port()
    with _serving(argv_for(port), port) as (_process, seconds):
        return seconds


def measure_startup(work: Path) -> dict[str, list[float]]:
    """Time fresh and warm `antenna serve` starts and the baseline, interleaved so drift hits all alike."""
    app_dir = work / "baseline"
    warm = work / "warm-data"
    times: dict[str, list[float]] = {"fresh": [], "warm": [], "baseline": []}
    # One untimed round so the page cache holds the interpreter and libraries for every variant alike.
    _time_start(lambda port: _antenna_serve(warm, port))
    _time_start(lambda port: _baseline_serve(app_dir, port))
    for run in range(RUNS):
        fresh = work / f"fresh-{run}"
        times["fresh"].append(_time_start(lambda port, d=fresh: _antenna_serve(d, port)))
        times["warm"].append(_time_start(lambda port: _antenna_serve(warm, port)))
        times["baseline"].append(_time_start(lambda port: _baseline_serve(app_dir, port)))
        shutil.rmtree(fresh)
    return times


def measure_idle_memory(work: Path) -> dict[str, list[ProcessStats]]:
    """Start a fresh Antenna, a warm Antenna and the baseline together, leave them idle, read their memory."""
    app_dir = work / "baseline"
    warm = work / "warm-data"
    results: dict[str, list[ProcessStats]] = {"fresh": [], "warm": [], "baseline": []}
    for run in range(MEMORY_RUNS):
        fresh = work / f"mem-fresh-{run}"
        ports = [_free_port() for _ in range(3)]
        argvs = {
            "fresh": _antenna_serve(fresh, ports[0]),
            "warm": _antenna_serve(warm, ports[1]),
            "baseline": _baseline_serve(app_dir, ports[2]),
        }
        # Started one after the other (start-up is timed elsewhere), then idle side by side.
        with (
            _serving(argvs["fresh"], ports[0]) as (p_fresh, t_fresh),
            _serving(argvs["warm"], ports[1]) as (p_warm, t_warm),
            _serving(argvs["baseline"], ports[2]) as (p_base, t_base),
        ):
            time.sleep(IDLE_SECONDS)
            for name, process, seconds in (
                ("fresh", p_fresh, t_fresh),
                ("warm", p_warm, t_warm),
                ("baseline", p_base, t_base),
            ):
                rss, peak = _memory(process.pid)
                results[name].append(ProcessStats(seconds, rss, peak))
        shutil.rmtree(fresh)
    return results


def _fill_database(db_path: Path, megabytes: int) -> None:
    """Add about `megabytes` MB of text-like rows (compressible, like real metadata) to a SQLite file."""
    rng = random.Random(42)
    words = [
        f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{rng.choice('nrstl')}" for _ in range(400)
    ]
    row_bytes = 2000
    rows = megabytes * 1024 * 1024 // row_bytes
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_filler (id INTEGER PRIMARY KEY, title TEXT, body TEXT)"
        )
        conn.executemany(
            "INSERT INTO bench_filler (title, body) VALUES (?, ?)",
            ((f"item {i}", " ".join(rng.choices(words, k=row_bytes // 4))[:row_bytes]) for i in range(rows)),
        )


def _run_child(argv: Sequence[str]) -> ProcessStats:
    """Run a command to completion; return its wall time and peak RSS (from wait4, so this child only)."""
    started = time.perf_counter()
    process = subprocess.Popen(list(argv), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}): {stderr}")
    return ProcessStats(seconds, peak=int(usage.ru_maxrss) * 1024)


def measure_backup(work: Path) -> dict[str, Any]:
    """Time `antenna backup` against sqlite3 backup() alone and with tar.gz, on one generated database."""
    data = work / "backup-data"
    data.mkdir()
    _run_child([*_antenna(), "--data", str(data), "db", "upgrade"])
    db_path = data / "antenna.db"
    _fill_database(db_path, BACKUP_MB)
    script = work / "baseline_backup.py"
    script.write_text(BASELINE_BACKUP)
    copy, archive = work / "copy.db", work / "copy.tar.gz"
    results: dict[str, list[ProcessStats]] = {"antenna": [], "copy": [], "copy+tar.gz": []}
    sizes: dict[str, int] = {"database": db_path.stat().st_size}
    for _ in range(BACKUP_RUNS):
        results["antenna"].append(_run_child([*_antenna(), "--data", str(data), "backup"]))
        archives = sorted((data / "backups").glob("*.tar.gz"))
        sizes["antenna archive"] = archives[-1].stat().st_size
        shutil.rmtree(data / "backups")  # keep every run the same: nothing to prune
        copy.unlink(missing_ok=True)
        results["copy"].append(
            _run_child([sys.executable, str(script), str(db_path), str(copy), "-", str(GZIP_LEVEL)])
        )
        copy.unlink()
        results["copy+tar.gz"].append(
            _run_child([sys.executable, str(script), str(db_path), str(copy), str(archive), str(GZIP_LEVEL)])
        )
        sizes["baseline archive"] = archive.stat().st_size
        copy.unlink()
        archive.unlink()
    return {"runs": results, "sizes": sizes}


def _secs(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def report(
    startup: dict[str, list[float]], memory: dict[str, list[ProcessStats]], backup: dict[str, Any]
) -> str:
    """Return the results as a Markdown table (the same text goes into BENCHMARKS.md)."""
    base_t = statistics.median(startup["baseline"])

    def med(name: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in memory[name])

    runs = backup["runs"]

    def bmed(name: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in runs[name])

    rows = [["measure", "antenna", "baseline", "antenna / baseline"]]
    for variant, label in (("fresh", "fresh data dir"), ("warm", "warm data dir")):
        rows.append(
            [
                f"start-up to first /api/health 200, {label} (median of {RUNS}, min-max)",
                _secs(startup[variant]),
                _secs(startup["baseline"]),
                f"{statistics.median(startup[variant]) / base_t:.1f}x",
            ]
        )
    for variant, label in (("warm", "warm data dir"), ("fresh", "fresh data dir")):
        for attr, what in (("rss", "RSS"), ("peak", "peak RSS (VmHWM)")):
            rows.append(
                [
                    f"{what} after {IDLE_SECONDS:.0f} s idle, {label} (median of {MEMORY_RUNS})",
                    mb(med(variant, attr)),
                    mb(med("baseline", attr)),
                    f"{med(variant, attr) / med('baseline', attr):.1f}x",
                ]
            )
    sizes = backup["sizes"]
    db = mb(sizes["database"])
    for base, label in (("copy", "sqlite3 backup()"), ("copy+tar.gz", "sqlite3 backup() + tar.gz")):
        rows.append(
            [
                f"backup of a {db} database, wall (median of {BACKUP_RUNS}); baseline: {label}",
                f"{bmed('antenna', 'seconds'):.2f} s",
                f"{bmed(base, 'seconds'):.2f} s",
                f"{bmed('antenna', 'seconds') / bmed(base, 'seconds'):.1f}x",
            ]
        )
        rows.append(
            [
                f"backup peak RSS; baseline: {label}",
                mb(bmed("antenna", "peak")),
                mb(bmed(base, "peak")),
                f"{bmed('antenna', 'peak') / bmed(base, 'peak'):.1f}x",
            ]
        )
    rows.append(
        [
            "backup archive size (tar.gz)",
            mb(sizes["antenna archive"]),
            mb(sizes["baseline archive"]),
            f"{sizes['antenna archive'] / sizes['baseline archive']:.2f}x",
        ]
    )
    return table(rows)


def main() -> dict[str, Any]:
    """Run the serve and backup benchmarks, print the table, and return the raw numbers."""
    with tempfile.TemporaryDirectory(prefix="antenna-bench-") as tmp:
        work = Path(tmp)
        (work / "baseline").mkdir()
        (work / "baseline" / "baseline_app.py").write_text(textwrap.dedent(BASELINE_APP))
        print("antenna serve: start-up ...", flush=True)
        startup = measure_startup(work)
        print(f"antenna serve: idle memory ({MEMORY_RUNS} x {IDLE_SECONDS:.0f} s) ...", flush=True)
        memory = measure_idle_memory(work)
        print(f"antenna backup: {BACKUP_MB} MB database ...", flush=True)
        backup = measure_backup(work)
    table = report(startup, memory, backup)
    print()
    print("Foundation: `antenna serve` (baseline: bare FastAPI app on uvicorn; sqlite3 backup())")
    print(table)
    return {
        "startup_seconds": startup,
        "idle_memory": {k: [asdict(s) for s in v] for k, v in memory.items()},
        "backup": {
            "runs": {k: [asdict(s) for s in v] for k, v in backup["runs"].items()},
            "sizes": backup["sizes"],
        },
        "table": table,
    }


if __name__ == "__main__":
    main()
