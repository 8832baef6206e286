"""Run every benchmark in bench/ (`make bench`): print the machine, then each module's table.

A benchmark is a module in bench/ (not starting with "_", not this file) with a `main()` that prints its
results and returns them as a JSON-able value; the raw numbers also go to bench/out/<module>.json.
Run one by name: `bench/run.py serve_startup`.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":" if ":" in line else "=")
            if name.strip() == key:
                return value.strip().strip('"')
    except OSError:
        pass
    return ""


def machine_line() -> str:
    """Return one line naming the CPU, cores, RAM, Python and OS this run measured."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    mhz = _first("/proc/cpuinfo", "cpu MHz")
    if mhz:
        cpu += f" @ {float(mhz):.0f} MHz"
    mem_kb = _first("/proc/meminfo", "MemTotal").split()
    ram = f"{int(mem_kb[0]) / 1024 / 1024:.1f} GiB RAM" if mem_kb else "RAM unknown"
    system = _first("/etc/os-release", "PRETTY_NAME") or platform.system()
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()}, "
        f"{system} (kernel {platform.release()})"
    )


def discover() -> list[str]:
    """Return the names of the benchmark modules in bench/."""
    names = []
    for path in sorted(BENCH.glob("*.py")):
        if path.stem.startswith("_") or path.stem == "run":
            continue
        module = importlib.import_module(path.stem)
        if callable(getattr(module, "main", None)):
            names.append(path.stem)
    return names


def main(argv: list[str]) -> int:
    """Run the benchmarks named in argv, or all of them."""
    sys.path.insert(0, str(BENCH))
    names = argv or discover()
    print(f"Machine: {machine_line()}", flush=True)
    OUT.mkdir(exist_ok=True)
    for name in names:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        result = importlib.import_module(name).main()
        print(f"({name} took {time.perf_counter() - started:.0f} s)", flush=True)
        payload = {"machine": machine_line(), "result": result}
        (OUT / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
