"""Benchmark Plex monitoring: latency from a plexsim change to bus, MQTT and page; CPU with 50 sessions.

Everything runs against plexsim (tests/plexsim, a fake Plex Media Server on loopback, in this process) and a
real `antenna serve` subprocess (fresh data dir, `ANTENNA_PLEX_POLL_SECONDS=20`) publishing to the real
Mosquitto on 127.0.0.1:1883 under a unique topic and discovery prefix.

Latency: a *change* is `sim.update_session(key, view_offset=...)`, which pushes a websocket `playing`
notification, exactly as Plex does every few seconds per playing session. Each change gets an offset never
used before, so every observer can tell which change a message reflects. The clock starts right before the
call (time.perf_counter_ns in this process; every observer is in this process) and stops when the observer
has the message that carries the new offset:

- (a) bus: an in-process PlexHub (the real container, PlexClient and websocket, its own event loop and data
  dir) with a `bus.listen` callback, which runs in the publisher's thread: exactly "the `plex.state` is on the
  bus". Also the same through the subprocess' `/api/events?topic=plex.state` (bus + JSON SSE + HTTP).
- (b) MQTT: a paho subscriber on `<prefix>/#` gets the retained `<prefix>/<server>/slot/<n>/state`.
- (c) page: a logged-in `GET /plex/live` stream gets the `plex-server-<id>` fragment whose session clock shows
  the new offset (offsets are whole seconds, so the clock text is exact).

Changes are serial: the next one is sent once every observer has the previous one (or after 3 s), plus 5 ms,
so this is the latency of one change with no queueing, not the throughput. They rotate over 4 sessions. The
GIL switch interval of this process is 0.5 ms meanwhile, so the observer threads are not the bottleneck.

Baselines, same run, same notifications: a bare `websockets` client on plexsim's notification socket (the
transport floor: nothing can see the change sooner), and the common approach of python-plexapi / Home
Assistant / Tautulli: on each `playing` notification, GET /status/sessions and parse it.

CPU and memory: utime+stime of the `antenna serve` process from /proc/<pid>/stat over a window, as percent of
one core, and VmRSS / VmHWM from /proc/<pid>/status; first idle with no sessions, then 50 sessions on 50
players each sending a `playing` notification with a new offset every 10 s (Plex's cadence, spread out: one
every 0.2 s), without and then with one /plex/live page open. The baselines are tiny processes measured in
the same windows: one holds the websocket, parses every message into a dict and polls /status/sessions every
20 s; the other (plexapi style) GETs /status/sessions on every `playing` notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _report import mb, table  # noqa: E402
from tests.plexsim import PlexSim  # noqa: E402
from tests.support import ServerProcess, start_server  # noqa: E402

from antenna.container import Container, build_container  # noqa: E402
from antenna.jobs.bus import Event  # noqa: E402
from antenna.settings import load_settings  # noqa: E402

CHANGES = 1000
LATENCY_SESSIONS = 4
SESSIONS = 50
CHANGE_TIMEOUT = 3.0
CHANGE_GAP = 0.005
IDLE_SECONDS = 10.0
CPU_SECONDS = 60.0
PAGE_SECONDS = 20.0
SETTLE_SECONDS = 3.0
# Every observer is a thread of this process: with CPython's default 5 ms GIL switch interval a message that
# has arrived can wait up to 5 ms for its reader to run, which would be the harness, not Antenna.
SWITCH_INTERVAL = 0.0005
NOTIFY_EVERY = 10.0  # seconds between two `playing` notifications of one session, as Plex sends them
POLL_SECONDS = "20"
BROKER = ("127.0.0.1", 1883)
EPISODE_MS = 4 * 3600 * 1000  # long enough that 1,000 distinct whole-second offsets fit
TICK = os.sysconf("SC_CLK_TCK")

# Paths, in table order.
HUB, API_SSE, MQTT, PAGE, WS, FETCH = "hub", "api_sse", "mqtt", "page", "ws", "fetch"
PATHS = (HUB, API_SSE, MQTT, PAGE, WS, FETCH)
LABELS = {
    HUB: "(a) `plex.state` on the bus (in-process hub, bus.listen)",
    API_SSE: "(a') `plex.state` via /api/events SSE (subprocess)",
    MQTT: "(b) slot state message at an MQTT subscriber",
    PAGE: "(c) `plex-server-<id>` fragment on /plex/live",
    FETCH: "plexapi style: notification + GET /status/sessions",
}

BASELINE_SCRIPT = '''
"""Baseline monitor: websocket + a dict of sessions; poll mode polls every 20 s, fetch mode on every note."""
import asyncio, json, sys, urllib.request, xml.etree.ElementTree as ET
from websockets.asyncio.client import connect

URL, TOKEN, MODE, POLL = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
state = {}


def poll():
    request = urllib.request.Request(URL + "/status/sessions", headers={"X-Plex-Token": TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        root = ET.fromstring(response.read())
    return {v.get("sessionKey"): v.get("viewOffset") for v in root.iter() if v.get("sessionKey")}


async def poller():
    while True:
        state.update(await asyncio.to_thread(poll))
        await asyncio.sleep(POLL)


async def main():
    task = asyncio.create_task(poller())
    ws_url = URL.replace("http://", "ws://") + "/:/websockets/notifications"
    async with connect(ws_url, additional_headers={"X-Plex-Token": TOKEN}) as ws:
        async for raw in ws:
            box = json.loads(raw).get("NotificationContainer", {})
            notes = box.get("PlaySessionStateNotification", [])
            for note in notes:
                state[note["sessionKey"]] = (note["state"], note["viewOffset"])
            if notes and MODE == "fetch":
                state.update(await asyncio.to_thread(poll))
    task.cancel()


asyncio.run(main())
'''


# -- arrivals ---------------------------------------------------------------------------------------------
Key = tuple[str, int]  # (session key, view offset in ms)


class Arrivals:
    """The first time each observer saw each (session, offset); any thread records, the driver waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.seen: dict[str, dict[Key, int]] = {path: {} for path in PATHS}

    def record(self, path: str, keys: Sequence[Key], at: int | None = None) -> None:
        """Note that `path` has seen these keys now (or at `at`, perf_counter_ns)."""
        at = at or time.perf_counter_ns()
        with self._cond:
            seen = self.seen[path]
            new = False
            for key in keys:
                if key not in seen:
                    seen[key] = at
                    new = True
            if new:
                self._cond.notify_all()

    def wait(self, key: Key, paths: Sequence[str], timeout: float) -> bool:
        """Block until every path has seen `key`; False on timeout."""
        page_key = (key[0], key[1] // 1000 * 1000)
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all((page_key if p == PAGE else key) in self.seen[p] for p in paths):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


def _slot_keys(state: dict[str, Any]) -> list[Key]:
    return [
        (str(slot["session_key"]), int(slot["now"]["offset_ms"]))
        for slot in state.get("slots", [])
        if slot.get("now")
    ]


_SESSION = re.compile(r'id="plex-session-\d+-([^"]+)".*?class="plex-clock">([^<]*?) /', re.S)


def _page_keys(html: str) -> list[Key]:
    keys = []
    for session, clock in _SESSION.findall(html):
        seconds = 0
        for part in clock.strip().split(":"):
            seconds = seconds * 60 + int(part)
        keys.append((session, seconds * 1000))
    return keys


# -- observers --------------------------------------------------------------------------------------------
class LoopThread:
    """An asyncio loop in a daemon thread; run coroutines on it from the main thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        async def create() -> asyncio.Task[Any]:
            return asyncio.get_running_loop().create_task(coro)

        task: asyncio.Task[Any] = self.run(create())
        return task

    def cancel(self, tasks: Sequence[asyncio.Task[Any]]) -> None:
        async def cancel_all() -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def watch_websocket(sim: PlexSim, arrivals: Arrivals, fetch: bool) -> None:
    """Baselines: record each `playing` notification's arrival; with fetch, then GET /status/sessions."""
    ws_url = sim.url.replace("http://", "ws://") + "/:/websockets/notifications"
    async with (
        httpx.AsyncClient(base_url=sim.url, headers={"X-Plex-Token": sim.token}, timeout=10) as http,
        connect(ws_url, additional_headers={"X-Plex-Token": sim.token}) as ws,
    ):
        async for raw in ws:
            at = time.perf_counter_ns()
            box = json.loads(raw).get("NotificationContainer", {})
            keys = [
                (str(n["sessionKey"]), int(n["viewOffset"]))
                for n in box.get("PlaySessionStateNotification", [])
            ]
            arrivals.record(WS, keys, at)
            if keys and fetch:
                root = ET.fromstring((await http.get("/status/sessions")).content)
                found = [(str(v.get("sessionKey")), int(v.get("viewOffset") or 0)) for v in root.iter()]
                arrivals.record(FETCH, [k for k in found if k[0] != "None"])


async def read_sse(client: httpx.AsyncClient, url: str, on_message: Callable[[str, str, int], None]) -> None:
    """Read an SSE stream, calling on_message(event, data, arrival ns) for each complete message."""
    async with client.stream("GET", url, timeout=httpx.Timeout(10, read=None)) as response:
        response.raise_for_status()
        event, data = "", list[str]()
        async for line in response.aiter_lines():
            if line == "":
                if data:
                    on_message(event, "\n".join(data), time.perf_counter_ns())
                event, data = "", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))


class InProcessHub:
    """A second Antenna (container + PlexHub) in this process, to see exactly when a state hits the bus."""

    def __init__(self, data: Path, sim: PlexSim, arrivals: Arrivals) -> None:
        self._data, self._sim, self._arrivals = data, sim, arrivals
        self._thread = LoopThread("bench-hub")
        self.container: Container | None = None

    def _listener(self, event: Event) -> None:
        if event.topic == "plex.state":
            self._arrivals.record(HUB, _slot_keys(event.data))

    def start(self) -> None:
        async def start() -> None:
            settings = load_settings(self._data, {"ANTENNA_PLEX_POLL_SECONDS": POLL_SECONDS})
            container = await asyncio.to_thread(build_container, settings)
            self.container = container
            await asyncio.to_thread(container.plex.add_server, self._sim.url, self._sim.token)
            container.bus.listen(self._listener)
            await container.plex_hub.start()

        self._data.mkdir(parents=True)
        self._thread.run(start())

    def stop(self) -> None:
        if self.container is not None:
            self._thread.run(self.container.plex_hub.stop())
            self.container.close()
        self._thread.close()


class MqttWatcher:
    """A paho subscriber on the bench's prefixes: slot-state arrivals and every topic seen (for cleanup)."""

    def __init__(self, prefix: str, discovery: str, arrivals: Arrivals) -> None:
        self._prefix, self._discovery, self._arrivals = prefix, discovery, arrivals
        self.topics: set[str] = set()
        self.status = ""
        self.messages = 0
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"antenna-bench-{secrets.token_hex(4)}"
        )
        self.client.on_message = self._message
        self.client.connect(*BROKER)
        self.client.subscribe([(f"{prefix}/#", 1), (f"{discovery}/#", 1)])
        self.client.loop_start()

    def _message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        at = time.perf_counter_ns()
        self.messages += 1
        topic = message.topic
        self.topics.add(topic)
        if topic == f"{self._prefix}/status":
            self.status = message.payload.decode()
        elif "/slot/" in topic and topic.endswith("/state") and message.payload:
            self._arrivals.record(MQTT, _slot_keys({"slots": [json.loads(message.payload)]}), at)

    def clear_retained(self) -> int:
        """Publish an empty retained payload to every topic seen; return how many."""
        topics = sorted(t for t in self.topics if not t.endswith("/command"))
        infos = [self.client.publish(t, b"", qos=1, retain=True) for t in topics]
        for info in infos:
            info.wait_for_publish(5)
        return len(topics)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def retained_left(prefixes: Sequence[str]) -> int:
    """Return how many retained messages remain under the prefixes (a fresh subscriber, 1 s)."""
    got: list[str] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"antenna-bench-check-{secrets.token_hex(4)}")
    client.on_message = lambda c, u, m: got.append(m.topic) if m.payload else None
    client.connect(*BROKER)
    client.subscribe([(f"{p}/#", 1) for p in prefixes])
    client.loop_start()
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    return len(got)


# -- processes --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Usage:
    """CPU over a window (percent of one core) and memory at its end, in bytes."""

    cpu_percent: float
    rss: int
    peak: int


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _memory(pid: int) -> tuple[int, int]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def measure_window(pids: dict[str, int], seconds: float) -> dict[str, Usage]:
    """Sleep `seconds` and return what each process used meanwhile."""
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    result = {}
    for name, pid in pids.items():
        rss, peak = _memory(pid)
        result[name] = Usage(100 * (_cpu_seconds(pid) - before[name]) / wall, rss, peak)
    return result


@contextmanager
def playing(sim: PlexSim, keys: Sequence[str], start_offset: int) -> Iterator[None]:
    """Send one `playing` notification every NOTIFY_EVERY/len(keys) s, round robin, until the block ends."""
    stop = threading.Event()
    offsets = dict.fromkeys(keys, start_offset)

    def drive() -> None:
        step = NOTIFY_EVERY / len(keys)
        began = time.monotonic()
        tick = 0
        while not stop.is_set():
            key = keys[tick % len(keys)]
            offsets[key] += int(NOTIFY_EVERY * 1000)
            sim.update_session(key, view_offset=offsets[key] % EPISODE_MS)
            tick += 1
            stop.wait(max(0.0, began + tick * step - time.monotonic()))

    thread = threading.Thread(target=drive, name="bench-playing", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def _wait(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- the run ----------------------------------------------------------------------------------------------
def seed(sim: PlexSim, count: int) -> list[str]:
    """Add `count` long episodes and `count` players; return the episodes' rating keys."""
    section = sim.add_section("TV Shows", "show", "/srv/tv")
    show = sim.add_show(section, "Bench Show", 2024)
    episodes = []
    for n in range(1, count + 1):
        path = f"/srv/tv/Bench Show/Season 01/Bench Show - S01E{n:02d}.mkv"
        episodes.append(sim.add_episode(show, 1, n, f"Episode {n}", path, duration_ms=EPISODE_MS))
        sim.add_client(f"bench-player-{n:02d}", f"Player {n:02d}")
    return episodes


def measure_latency(
    sim: PlexSim, sessions: Sequence[str], arrivals: Arrivals, paths: Sequence[str]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Make CHANGES serial offset changes; return per-path latencies (ms) and lost counts."""
    sent: list[tuple[Key, int]] = []
    for i in range(CHANGES):
        key = (sessions[i % len(sessions)], (i + 1) * 1000)
        at = time.perf_counter_ns()
        sim.update_session(key[0], view_offset=key[1])
        sent.append((key, at))
        arrivals.wait(key, paths, CHANGE_TIMEOUT)
        time.sleep(CHANGE_GAP)
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    lost = dict.fromkeys(paths, 0)
    for key, at in sent:
        for path in paths:
            seen_key = (key[0], key[1] // 1000 * 1000) if path == PAGE else key
            arrived = arrivals.seen[path].get(seen_key)
            if arrived is None:
                lost[path] += 1
            else:
                latencies[path].append((arrived - at) / 1e6)
    return latencies, lost


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Return p50/p95/p99/max/mean of latencies in ms."""
    if not values:
        return {}
    return {
        "p50": _pct(values, 50),
        "p95": _pct(values, 95),
        "p99": _pct(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def run(work: Path) -> dict[str, Any]:
    """Set everything up, measure, tear everything down; return the raw numbers."""
    arrivals = Arrivals()
    run_id = secrets.token_hex(4)
    prefix, discovery = f"antenna-bench-{run_id}", f"antenna-bench-ha-{run_id}"
    sim = PlexSim(token=secrets.token_hex(10)).start()
    observers = LoopThread("bench-observers")
    server: ServerProcess | None = None
    hub: InProcessHub | None = None
    mqtt: MqttWatcher | None = None
    baselines: dict[str, subprocess.Popen[bytes]] = {}
    result: dict[str, Any] = {}
    try:
        episodes = seed(sim, SESSIONS)
        print("plex: starting antenna serve, adding plexsim, MQTT on ...", flush=True)
        server = start_server(
            work / "serve" / "data",
            env={"ANTENNA_PLEX_POLL_SECONDS": POLL_SECONDS},
            password=secrets.token_urlsafe(12),
        )
        mqtt = MqttWatcher(prefix, discovery, arrivals)
        with server.api() as api:
            added = api.post("/api/plex/servers", json={"url": sim.url, "token": sim.token})
            added.raise_for_status()
            server_id = added.json()["id"]
            api.put(
                "/api/plex/mqtt",
                json={"enabled": True, "topic_prefix": prefix, "discovery_prefix": discovery},
            ).raise_for_status()
        _wait(lambda: mqtt is not None and mqtt.status == "online", "MQTT online")
        sim.wait_websockets(1, timeout=20)

        script = work / "baseline_monitor.py"
        script.write_text(BASELINE_SCRIPT)
        for mode in ("poll", "fetch"):
            baselines[mode] = subprocess.Popen(
                [sys.executable, str(script), sim.url, sim.token, mode, POLL_SECONDS],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        sim.wait_websockets(3, timeout=20)
        pids = {"antenna": server.process.pid, **{f"baseline_{m}": p.pid for m, p in baselines.items()}}

        print(f"plex: idle, no sessions ({IDLE_SECONDS:.0f} s) ...", flush=True)
        time.sleep(SETTLE_SECONDS)
        idle = measure_window(pids, IDLE_SECONDS)

        print(f"plex: latency, {CHANGES} changes over {LATENCY_SESSIONS} sessions ...", flush=True)
        hub = InProcessHub(work / "hub" / "data", sim, arrivals)
        hub.start()
        sim.wait_websockets(4, timeout=20)
        browser = server.login()
        cookies = browser.cookies
        browser.close()
        api_client = httpx.AsyncClient(base_url=server.url, headers={"X-Api-Key": server.api_key()})
        page_client = httpx.AsyncClient(base_url=server.url, cookies=cookies)

        def on_api(event: str, data: str, at: int) -> None:
            if event == "plex.state":
                arrivals.record(API_SSE, _slot_keys(json.loads(data)["data"]), at)

        def on_page(event: str, data: str, at: int) -> None:
            if event == f"plex-server-{server_id}":
                arrivals.record(PAGE, _page_keys(data), at)

        tasks = [
            observers.spawn(watch_websocket(sim, arrivals, fetch=True)),
            observers.spawn(read_sse(api_client, "/api/events?topic=plex.state", on_api)),
            observers.spawn(read_sse(page_client, "/plex/live", on_page)),
        ]
        sim.wait_websockets(5, timeout=20)
        time.sleep(1.0)  # the SSE streams are subscribed once their first line arrived; give them a moment
        sessions = [
            sim.start_session(episodes[n], f"bench-player-{n + 1:02d}") for n in range(LATENCY_SESSIONS)
        ]
        for key in sessions:  # every path must have seen every session before timing starts
            if not arrivals.wait((key, 0), PATHS, 20):
                missing = [p for p in PATHS if (key, 0) not in arrivals.seen[p]]
                raise RuntimeError(f"session {key} never reached {missing}")
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            latencies, lost = measure_latency(sim, sessions, arrivals, PATHS)
        finally:
            sys.setswitchinterval(interval)
        observers.cancel(tasks)
        observers.run(api_client.aclose())
        observers.run(page_client.aclose())
        hub.stop()
        hub = None

        print(
            f"plex: {SESSIONS} sessions ({CPU_SECONDS:.0f} s, then {PAGE_SECONDS:.0f} s with a page open)",
            flush=True,
        )
        sessions += [
            sim.start_session(episodes[n], f"bench-player-{n + 1:02d}")
            for n in range(LATENCY_SESSIONS, SESSIONS)
        ]
        with playing(sim, sessions, start_offset=(CHANGES + 10) * 1000):
            time.sleep(SETTLE_SECONDS)
            busy = measure_window(pids, CPU_SECONDS)
            page_client = httpx.AsyncClient(base_url=server.url, cookies=cookies)
            page_messages = [0]

            def count_page(event: str, data: str, at: int) -> None:
                page_messages[0] += 1

            page_task = observers.spawn(read_sse(page_client, "/plex/live", count_page))
            time.sleep(1.0)
            with_page = measure_window(pids, PAGE_SECONDS)
            observers.cancel([page_task])
            observers.run(page_client.aclose())
        result = {
            "changes": CHANGES,
            "latency_ms": {p: summary(v) for p, v in latencies.items()},
            "lost": lost,
            "raw_latency_ms": latencies,
            "usage": {
                "idle_0_sessions": {k: asdict(v) for k, v in idle.items()},
                f"{SESSIONS}_sessions": {k: asdict(v) for k, v in busy.items()},
                f"{SESSIONS}_sessions_page_open": {k: asdict(v) for k, v in with_page.items()},
            },
            "page_messages_while_open": page_messages[0],
            "mqtt_messages_seen": mqtt.messages,
        }
    finally:
        if hub is not None:
            hub.stop()
        with contextlib.suppress(Exception):
            observers.close()
        for process in baselines.values():
            process.terminate()
            process.wait(10)
        if server is not None:
            server.stop()
        if mqtt is not None:
            time.sleep(0.3)  # the offline status (last message of the stopped server) lands in `topics`
            result["mqtt_topics_cleared"] = mqtt.clear_retained()
            mqtt.close()
            result["mqtt_retained_left"] = retained_left([prefix, discovery])
        sim.stop()
    return result


# -- report -----------------------------------------------------------------------------------------------


def _ms(stats: dict[str, float]) -> str:
    p50, p95, p99, top = (stats[k] for k in ("p50", "p95", "p99", "max"))
    return f"p50 {p50:.1f} / p95 {p95:.1f} / p99 {p99:.1f} / max {top:.1f} ms"


def report(result: dict[str, Any]) -> str:
    """Return the results as a Markdown table."""
    lat, lost = result["latency_ms"], result["lost"]
    ws = lat[WS]
    rows = [["measure", "antenna", "baseline", "antenna / baseline"]]
    for path in (HUB, API_SSE, MQTT, PAGE, FETCH):
        stats = lat[path]
        note = f" ({lost[path]} lost)" if lost[path] else ""
        baseline = "bare websocket client" if path == FETCH else "bare websocket"
        rows.append(
            [
                f"{LABELS[path]}, {result['changes']} changes{note}",
                _ms(stats),
                f"{baseline}: p50 {ws['p50']:.2f} / p99 {ws['p99']:.2f} ms",
                f"p50 {stats['p50'] / ws['p50']:.0f}x, p99 {stats['p99'] / ws['p99']:.0f}x",
            ]
        )
    usage = result["usage"]
    windows = (
        ("idle_0_sessions", f"idle, 0 sessions ({IDLE_SECONDS:.0f} s)"),
        (f"{SESSIONS}_sessions", f"{SESSIONS} sessions playing ({CPU_SECONDS:.0f} s)"),
        (f"{SESSIONS}_sessions_page_open", f"{SESSIONS} sessions + /plex/live open ({PAGE_SECONDS:.0f} s)"),
    )
    for name, label in windows:
        window = usage[name]
        ant = window["antenna"]["cpu_percent"]
        for mode, what in (("poll", "ws + 20 s poll"), ("fetch", "plexapi style")):
            base = window[f"baseline_{mode}"]["cpu_percent"]
            rows.append(
                [
                    f"CPU, {label}, % of one core; baseline: {what}",
                    f"{ant:.2f}%",
                    f"{base:.2f}%",
                    f"{ant / base:.1f}x" if base > 0 else "-",
                ]
            )
    busy = usage[f"{SESSIONS}_sessions_page_open"]
    for attr, what in (("rss", "RSS"), ("peak", "peak RSS (VmHWM)")):
        ant, base = busy["antenna"][attr], busy["baseline_poll"][attr]
        rows.append(
            [
                f"{what} after the {SESSIONS}-session windows; baseline: ws + 20 s poll",
                mb(ant),
                mb(base),
                f"{ant / base:.1f}x",
            ]
        )
    return table(rows)


def targets(result: dict[str, Any]) -> list[str]:
    """Return one line per target of the issue: met or not met."""
    p99 = result["latency_ms"][MQTT]["p99"]
    cpu = result["usage"][f"{SESSIONS}_sessions"]["antenna"]["cpu_percent"]
    cpu_page = result["usage"][f"{SESSIONS}_sessions_page_open"]["antenna"]["cpu_percent"]
    return [
        f"- MQTT p99 < 250 ms: {'met' if p99 < 250 else 'NOT met'} ({p99:.1f} ms)",
        f"- CPU < 2% of one core with {SESSIONS} sessions: {'met' if cpu < 2 else 'NOT met'} ({cpu:.2f}%; "
        f"{cpu_page:.2f}% with /plex/live open)",
    ]


def main() -> dict[str, Any]:
    """Run the Plex benchmark, print the table and targets, and return the raw numbers."""
    with tempfile.TemporaryDirectory(prefix="antenna-bench-plex-") as tmp:
        result = run(Path(tmp))
    table = report(result)
    print()
    print(
        "Plex monitoring (plexsim; baselines: bare websocket client, plexapi-style fetch, "
        "tiny monitor processes)"
    )
    print(table)
    print()
    print("\n".join(targets(result)))
    print(
        f"(MQTT: {result['mqtt_messages_seen']} messages seen, "
        f"{result['mqtt_topics_cleared']} topics cleared, "
        f"{result['mqtt_retained_left']} retained left; /plex/live sent {result['page_messages_while_open']} "
        f"fragments in {PAGE_SECONDS:.0f} s)"
    )
    return {**result, "table": table, "targets": targets(result)}


if __name__ == "__main__":
    main()
