"""Benchmark the IPTV merge: `antenna iptv merge` on a big XMLTV guide and a 200,000-entry M3U.

Inputs are generated into a temporary directory (streamed, never whole in memory; see _iptv_inputs.py):
an XMLTV guide of 2,000 channels from one day before now to seven days after (~370k programmes, ~300 MB,
long descriptions with `&amp;`-style and numeric references, non-ASCII and emoji, categories, episode
numbers, credits), its gzip copy (level 6), the 2,000-channel M3U whose tvg-ids are the guide's ids, and a
separate provider-style M3U of 200,000 entries (catchup attributes, #EXTVLCOPT/#KODIPROP lines, `|User-Agent=`
URL suffixes, ~1% repeated tvg-ids).

Every measure is a child process timed from spawn to exit (wall) with its peak RSS from wait4's ru_maxrss,
median of RUNS when one run is quick, else a single run (the table says which):
- the floor: a bare `lxml.etree.iterparse(..., events=("end",), tag="programme")` counting programmes with
  `elem.clear()` and previous siblings deleted, on the plain file and on the .gz (gzip.open);
- `antenna iptv merge guide.m3u guide.xml --xmltv out.xml --m3u out.m3u`, plain and with the .gz as input;
- M3U: `antenna iptv merge big.m3u --m3u out.m3u` (parse, dedup, numbering, write; with no guide to map the
  engine streams it: iptv/playlist_stream.py, with the C reader when built), the same with the C reader off
  (ANTENNA_NO_C=1), against a child copying the file line by line through str (the I/O floor), and
  `antenna.formats.m3u` alone (iter_m3u on chunk-decoded lines streamed into render_m3u,
  file to file, as the engine's full merge reads and writes);
- the CLI's own start-up (`antenna --help`), so the engine's share of each antenna time can be read off.
The produced XMLTV is checked to be well-formed by counting its programmes with the floor parser.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _iptv_inputs as inputs
from _report import mb, table

CHANNELS = 2000
GUIDE_DAYS = 8  # now-1 day .. now+7 days; the merge keeps now-6 h .. now+7 days
MERGE_DAYS = 7
M3U_ENTRIES = 200_000
RUNS = 3  # runs per measure when a run is quick (median reported)
QUICK = 15.0  # seconds: a measure whose first run took longer is run once
TARGET_FLOOR_RATIO = 3.0
TARGET_XMLTV_PEAK = 150 * 1024 * 1024
TARGET_M3U_SECONDS = 1.5
TARGET_M3U_PEAK = 100 * 1024 * 1024
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""  # GNU time, for the children's peak RSS

FLOOR_SCRIPT = """
import gzip, json, sys
from lxml import etree
path, want_channels = sys.argv[1], sys.argv[2] == "channels"
source = gzip.open(path, "rb") if path.endswith(".gz") else path
count = 0
channels = set()
for _event, elem in etree.iterparse(source, events=("end",), tag="programme"):
    count += 1
    if want_channels:
        channels.add(elem.get("channel"))
    elem.clear()
    while elem.getprevious() is not None:
        del elem.getparent()[0]
print(json.dumps({"programmes": count, "channels": len(channels)}))
"""

M3U_COPY_SCRIPT = """
import sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in src:
        out.write(line)
"""

# As engine.load_channels reads and engine.write_playlist writes, without the merge in between.
M3U_FORMATS_SCRIPT = """
import json, sys
from antenna.formats.m3u import decode_lines, iter_m3u
from antenna.formats.m3u_write import render_m3u
warnings, header, count, buffer = [], [], 0, []
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as out:
    lines = decode_lines(iter(lambda: src.read(1 << 18), b""))
    for line in render_m3u(header, iter_m3u(lines, warnings, header)):
        count += line.startswith("#EXTINF")
        buffer.append(line)
        if len(buffer) >= 4096:
            out.write("".join(buffer).encode())
            buffer.clear()
    out.write("".join(buffer).encode())
print(json.dumps({"entries": count, "warnings": len(warnings)}))
"""


@dataclass(frozen=True)
class ProcessStats:
    """What one child process cost: wall seconds and peak RSS in bytes; its stdout."""

    seconds: float
    peak: int
    stdout: str = ""


@dataclass(frozen=True)
class Measure:
    """The runs of one command."""

    runs: list[ProcessStats]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak(self) -> float:
        return statistics.median(r.peak for r in self.runs)

    @property
    def how(self) -> str:
        return f"median of {len(self.runs)}" if len(self.runs) > 1 else "1 run"

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [asdict(r) for r in self.runs], "seconds": self.seconds, "peak": self.peak}


def _env() -> dict[str, str]:
    # Nothing from the caller's ANTENNA_* may change what is measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("ANTENNA_")}


def _antenna() -> list[str]:
    script = Path(sys.executable).with_name("antenna")
    return [str(script)] if script.exists() else [sys.executable, "-m", "antenna"]


def run_child(argv: Sequence[str], work: Path, env: dict[str, str] | None = None) -> ProcessStats:
    """Run a command to completion; return its wall time, peak RSS and stdout.

    The peak comes from GNU time (`%M`, its child's ru_maxrss), not from our own wait4: a child spawned from
    this process inherits our peak RSS as the floor of its ru_maxrss (vfork/fork then exec keeps the old
    mm's high-water mark), which would make every small baseline look as big as the benchmark itself.
    """
    out_path, err_path, rss_path = work / "child.stdout", work / "child.stderr", work / "child.rss"
    wrapped = [TIME, "-f", "%M", "-o", str(rss_path), *argv] if TIME else list(argv)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped, env={**_env(), **(env or {})}, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    if process.returncode != 0:
        stderr = err_path.read_text(errors="replace")
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}): {stderr[-2000:]}")
    peak_kb = int(rss_path.read_text().split()[-1]) if TIME else int(usage.ru_maxrss)
    return ProcessStats(seconds, peak_kb * 1024, stdout)


def measure(argv: Sequence[str], work: Path, label: str, env: dict[str, str] | None = None) -> Measure:
    """Run argv RUNS times (once when the first run is slow) and return the runs."""
    print(f"iptv: {label} ...", flush=True)
    runs = [run_child(argv, work, env)]
    if runs[0].seconds < QUICK:
        runs += [run_child(argv, work, env) for _ in range(RUNS - 1)]
    return Measure(runs)


def generate(work: Path) -> dict[str, Any]:
    """Write every input into work; return what was written."""
    print(f"iptv: generating {CHANNELS} channels x {GUIDE_DAYS} days of XMLTV (+ .gz) ...", flush=True)
    began = time.perf_counter()
    guide = inputs.write_guide(
        work / "guide.xml",
        work / "guide.xml.gz",
        channels=CHANNELS,
        start=inputs.guide_start(),
        days=GUIDE_DAYS,
    )
    inputs.write_guide_playlist(work / "guide.m3u", CHANNELS)
    print(f"iptv: generating a {M3U_ENTRIES:,}-entry M3U ...", flush=True)
    duplicates = inputs.write_big_playlist(work / "big.m3u", M3U_ENTRIES)
    return {
        "guide": asdict(guide),
        "m3u_entries": M3U_ENTRIES,
        "m3u_repeated_ids": duplicates,
        "m3u_size": (work / "big.m3u").stat().st_size,
        "generate_seconds": time.perf_counter() - began,
    }


def run(work: Path) -> dict[str, Any]:
    """Generate the inputs, measure everything, check the output; return the raw numbers."""
    made = generate(work)
    floor = work / "floor.py"
    floor.write_text(FLOOR_SCRIPT)
    copy = work / "m3u_copy.py"
    copy.write_text(M3U_COPY_SCRIPT)
    formats = work / "m3u_formats.py"
    formats.write_text(M3U_FORMATS_SCRIPT)
    py = sys.executable
    guide, guide_gz = work / "guide.xml", work / "guide.xml.gz"
    guide_m3u, big = work / "guide.m3u", work / "big.m3u"
    out_xml, out_m3u = work / "out.xml", work / "out.m3u"
    merge = [*_antenna(), "iptv", "merge", "--days", str(MERGE_DAYS), "--json"]
    # One untimed pass so the page cache holds the guide (and the interpreter) for every variant alike.
    run_child([py, str(floor), str(guide), "count"], work)
    m: dict[str, Measure] = {}
    m["startup"] = measure([*_antenna(), "--help"], work, "CLI start-up (antenna --help)")
    m["floor"] = measure([py, str(floor), str(guide), "count"], work, "floor: lxml iterparse, plain")
    m["floor_gz"] = measure([py, str(floor), str(guide_gz), "count"], work, "floor: lxml iterparse, .gz")
    xmltv_argv = [*merge, str(guide_m3u), str(guide), "--xmltv", str(out_xml), "--m3u", str(out_m3u)]
    m["merge"] = measure(xmltv_argv, work, "antenna iptv merge, plain XMLTV")
    report = json.loads(m["merge"].runs[-1].stdout)
    check = json.loads(run_child([py, str(floor), str(out_xml), "channels"], work).stdout)
    out_size = out_xml.stat().st_size
    gz_argv = [*merge, str(guide_m3u), str(guide_gz), "--xmltv", str(out_xml), "--m3u", str(out_m3u)]
    m["merge_gz"] = measure(gz_argv, work, "antenna iptv merge, .gz XMLTV")
    check_gz = json.loads(run_child([py, str(floor), str(out_xml), "count"], work).stdout)
    out_xml.unlink()
    m["m3u_copy"] = measure([py, str(copy), str(big), str(out_m3u)], work, "M3U floor: line copy")
    m["m3u_formats"] = measure([py, str(formats), str(big), str(out_m3u)], work, "M3U: formats.m3u alone")
    formats_report = json.loads(m["m3u_formats"].runs[-1].stdout)
    m3u_argv = [*_antenna(), "iptv", "merge", str(big), "--m3u", str(out_m3u)]
    m["m3u_merge"] = measure(m3u_argv, work, "antenna iptv merge, M3U 200k")
    m3u_out_entries = sum(1 for line in out_m3u.open(encoding="utf-8") if line.startswith("#EXTINF"))
    written = out_m3u.read_bytes()
    # The same merge with the C reader switched off (what a machine without a C compiler at install runs).
    m["m3u_merge_python"] = measure(
        m3u_argv, work, "antenna iptv merge, M3U 200k, Python only", {"ANTENNA_NO_C": "1"}
    )
    same_without_c = out_m3u.read_bytes() == written
    return {
        "inputs": made,
        "measures": {k: v.to_dict() for k, v in m.items()},
        "merge_report": {k: v if isinstance(v, int) else len(v) for k, v in report.items()},
        "output_check": {"programmes": check["programmes"], "channels": check["channels"], "size": out_size},
        "output_check_gz": {"programmes": check_gz["programmes"]},
        "m3u_formats_report": formats_report,
        "m3u_merge_entries_written": m3u_out_entries,
        "m3u_same_without_c": same_without_c,
        "_measures": m,
    }


# -- report -----------------------------------------------------------------------------------------------


def _s(value: float) -> str:
    return f"{value:.2f} s"


def report(result: dict[str, Any]) -> str:
    """Return the results as a Markdown table."""
    m: dict[str, Measure] = result["_measures"]
    guide = result["inputs"]["guide"]
    size = mb(guide["size"])
    startup = m["startup"].seconds
    rows = [["measure", "antenna", "baseline", "antenna / baseline"]]

    def pair(label: str, ant: Measure, base: Measure, base_name: str) -> None:
        rows.append(
            [
                f"{label}, wall ({ant.how}; baseline {base.how}); baseline: {base_name}",
                _s(ant.seconds),
                _s(base.seconds),
                f"{ant.seconds / base.seconds:.1f}x",
            ]
        )
        rows.append(
            [
                f"{label}, peak RSS; baseline: {base_name}",
                mb(ant.peak),
                mb(base.peak),
                f"{ant.peak / base.peak:.1f}x",
            ]
        )

    pair(f"XMLTV merge, {size} plain", m["merge"], m["floor"], "lxml iterparse count")
    pair(f"XMLTV merge, {mb(guide['gz_size'])} .gz", m["merge_gz"], m["floor_gz"], "lxml iterparse count")
    for key, base, what in (("merge", "floor", "plain"), ("merge_gz", "floor_gz", ".gz")):
        engine = m[key].seconds - startup
        rows.append(
            [
                f"XMLTV merge minus CLI start-up, {what}; baseline: lxml iterparse count",
                _s(engine),
                _s(m[base].seconds),
                f"{engine / m[base].seconds:.1f}x",
            ]
        )
    pair(f"M3U {M3U_ENTRIES // 1000}k: antenna iptv merge", m["m3u_merge"], m["m3u_copy"], "line copy")
    pair(
        f"M3U {M3U_ENTRIES // 1000}k: antenna iptv merge, C reader off (ANTENNA_NO_C=1)",
        m["m3u_merge_python"],
        m["m3u_copy"],
        "line copy",
    )
    pair(f"M3U {M3U_ENTRIES // 1000}k: formats.m3u parse+write", m["m3u_formats"], m["m3u_copy"], "line copy")
    rows.append(
        [
            f"CLI start-up: antenna --help ({m['startup'].how})",
            _s(startup),
            "-",
            "-",
        ]
    )
    rows.append(["CLI start-up, peak RSS", mb(m["startup"].peak), "-", "-"])
    return table(rows)


def targets(result: dict[str, Any]) -> list[str]:
    """Return one line per target of the issue: met or not met, and which measure it uses."""
    m: dict[str, Measure] = result["_measures"]

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    ratio = m["merge"].seconds / m["floor"].seconds
    ratio_gz = m["merge_gz"].seconds / m["floor_gz"].seconds
    peak = max(m["merge"].peak, m["merge_gz"].peak)
    merge, fmt = m["m3u_merge"], m["m3u_formats"]
    return [
        f"- XMLTV merge ≤ {TARGET_FLOOR_RATIO:.0f}x floor (whole `antenna iptv merge` process, CLI start-up "
        f"included, vs the bare iterparse process): {met(ratio <= TARGET_FLOOR_RATIO)} "
        f"(plain {ratio:.1f}x, .gz {ratio_gz:.1f}x)",
        f"- XMLTV merge peak RSS < {mb(TARGET_XMLTV_PEAK)} (the larger of plain and .gz): "
        f"{met(peak < TARGET_XMLTV_PEAK)} ({mb(peak)})",
        f"- M3U {M3U_ENTRIES // 1000}k parse+write < {TARGET_M3U_SECONDS} s and < {mb(TARGET_M3U_PEAK)} "
        f"(`antenna iptv merge big.m3u --m3u out.m3u`, whole process): "
        f"{met(merge.seconds < TARGET_M3U_SECONDS and merge.peak < TARGET_M3U_PEAK)} "
        f"({_s(merge.seconds)}, {mb(merge.peak)}); for reference, not the target's measure: the general "
        f"formats.m3u reader and writer alone {_s(fmt.seconds)}, {mb(fmt.peak)}",
    ]


def notes(result: dict[str, Any]) -> list[str]:
    """Return what the inputs held and what the output check found."""
    made, guide = result["inputs"], result["inputs"]["guide"]
    rep, check = result["merge_report"], result["output_check"]
    fmt = result["m3u_formats_report"]
    return [
        f"- Input: {guide['channels']:,} channels, {guide['programmes']:,} programmes "
        f"({guide['first_start']:%Y-%m-%d %H:%M} .. {guide['last_stop']:%Y-%m-%d %H:%M} UTC), "
        f"{mb(guide['size'])} ({guide['size'] // guide['programmes']} bytes a programme), "
        f".gz {mb(guide['gz_size'])}; M3U {made['m3u_entries']:,} entries, {mb(made['m3u_size'])}, "
        f"{made['m3u_repeated_ids']:,} repeated tvg-ids; generated in {made['generate_seconds']:.0f} s.",
        f"- Output check: the merged XMLTV ({mb(check['size'])}) parses with the floor parser: "
        f"{check['programmes']:,} programmes on {check['channels']:,} channels (antenna reported "
        f"{rep['programmes']:,} programmes, {rep['channels']:,} channels, "
        f"{rep['without_guide']} without guide); "
        f"from the .gz input {result['output_check_gz']['programmes']:,} programmes.",
        f"- M3U: the merge wrote {result['m3u_merge_entries_written']:,} entries (repeated tvg-ids dropped); "
        f"with the C reader off: {'the same' if result['m3u_same_without_c'] else 'DIFFERENT'} bytes; "
        f"formats.m3u alone wrote {fmt['entries']:,} ({fmt['warnings']} warnings).",
    ]


def main() -> dict[str, Any]:
    """Run the IPTV benchmark, print the table, targets and notes, and return the raw numbers."""
    tmp = Path(tempfile.mkdtemp(prefix="antenna-bench-iptv-"))
    try:
        result = run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = report(result)
    print()
    print(
        f"IPTV merge ({CHANNELS:,} channels x {GUIDE_DAYS} days XMLTV, {M3U_ENTRIES:,}-entry M3U; baselines: "
        "bare lxml iterparse, line copy)"
    )
    print(table)
    print()
    print("\n".join(targets(result)))
    print("\n".join(notes(result)))
    measures = result.pop("_measures")
    return {**result, "table": table, "targets": targets({**result, "_measures": measures})}


if __name__ == "__main__":
    main()
