"""`antenna plex …` as a real child process against plexsim: servers, status, sessions, commands, art."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.plexsim import FakePlayer, PlexSim
from tests.support import ANTENNA, clean_env, run_cli

pytestmark = pytest.mark.slow
WIDE = {"COLUMNS": "250"}
Result = subprocess.CompletedProcess[str]


def ok(result: Result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def fails(result: Result, message: str) -> str:
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_server_add_errors_are_one_line_and_the_token_stays_secret(data_dir: Path, plexsim: PlexSim) -> None:
    wrong = fails(
        run_cli(data_dir, "plex", "server", "add", plexsim.url, "--token", "not-the-token-77"),
        "rejected the token",
    )
    assert "not-the-token-77" not in wrong
    fails(run_cli(data_dir, "plex", "server", "add", "http://127.0.0.1:9", "--token", "x"), "does not answer")
    fails(run_cli(data_dir, "plex", "status"), "No Plex server is set up yet")
    out = ok(
        run_cli(
            data_dir, "plex", "server", "add", plexsim.url, "--token", plexsim.token, "--path-map", "/m=/srv"
        )
    )
    assert f"Added Plex server {plexsim.name}" in out
    listed = json.loads(ok(run_cli(data_dir, "plex", "server", "list", "--json")))
    assert listed[0]["path_maps"] == ["/m=/srv"]
    assert plexsim.token not in json.dumps(listed)
    assert "1.43" in ok(run_cli(data_dir, "plex", "server", "test"))
    log_file = data_dir / "logs" / "antenna.log"
    log = log_file.read_text() if log_file.exists() else ""
    assert plexsim.token not in log
    assert "not-the-token-77" not in log


def test_status_sessions_clients_command_and_art(
    data_dir: Path, plexsim: PlexSim, fake_player: FakePlayer, tmp_path: Path
) -> None:
    ok(run_cli(data_dir, "plex", "server", "add", plexsim.url, "--token", plexsim.token))
    plexsim.add_client(fake_player.machine_id, "Living Room TV", port=fake_player.port)
    plexsim.start_session("4", fake_player.machine_id, user="alice", view_offset=900_000)
    assert "1 playing" in ok(run_cli(data_dir, "plex", "status"))
    sessions = json.loads(ok(run_cli(data_dir, "plex", "sessions", "--json")))
    assert sessions[0]["now"]["title"] == "Night Shift : Graveyard"
    assert sessions[0]["now"]["percent_complete"] == 50
    table = ok(run_cli(data_dir, "plex", "clients", env=WIDE))
    assert "Living Room TV" in table
    assert "playing" in table
    assert "Sent pause to Living Room TV (direct)" in ok(
        run_cli(data_dir, "plex", "command", "Living Room TV", "pause")
    )
    assert fake_player.commands[-1].path == "/player/playback/pause"
    fails(run_cli(data_dir, "plex", "command", "Living Room TV", "dance"), "dance")
    out = tmp_path / "art.jpg"
    ok(run_cli(data_dir, "plex", "art", "--slot", "1", "--out", str(out), "--width", "60", "--height", "90"))
    assert out.read_bytes()[:2] == b"\xff\xd8"
    fails(run_cli(data_dir, "plex", "art", "--slot", "2", "--out", str(out)), "Nothing is playing on slot 2")


def test_library_list_create_refresh_watched_and_dvrs(data_dir: Path, plexsim: PlexSim) -> None:
    ok(
        run_cli(
            data_dir, "plex", "server", "add", plexsim.url, "--token", plexsim.token, "--path-map", "/m=/srv"
        )
    )
    assert "TV Shows" in ok(run_cli(data_dir, "plex", "library", "list", env=WIDE))
    created = ok(run_cli(data_dir, "plex", "library", "create", "Podcasts", "/m/podcasts"))
    assert "tv.plex.agents.nfo.series" in created
    assert "/srv/podcasts" in created
    refreshed = ok(run_cli(data_dir, "plex", "library", "refresh", "--path", "/m/tv/Night Shift"))
    assert "Asked TV Shows to scan /srv/tv/Night Shift" in refreshed
    assert plexsim.refresh_calls[-1] == ("1", "/srv/tv/Night Shift")
    plexsim.mark_watched("3")
    episode = "/m/tv/Night Shift/Season 01/Night Shift - S01E01 - Pilot.mkv"
    rows = json.loads(ok(run_cli(data_dir, "plex", "library", "watched", episode, "/m/none.mkv", "--json")))
    assert [(r["found"], r["watched"]) for r in rows] == [(True, True), (False, False)]
    changed = run_cli(
        data_dir, "plex", "server", "set", "1", "--watched-policy", "all_of", "--watched-user", "alice"
    )
    assert "watched_policy, watched_users" in ok(changed)
    rows = json.loads(ok(run_cli(data_dir, "plex", "library", "watched", episode, "--json")))
    assert rows[0]["watched"] is False  # alice has not watched it
    fails(
        run_cli(data_dir, "plex", "server", "set", "1", "--watched-policy", "most"), "Unknown watched policy"
    )
    dvrs = json.loads(ok(run_cli(data_dir, "plex", "dvrs", "--json")))
    assert dvrs[0]["devices"][0]["channels"] >= 1


def test_watch_prints_events_as_they_happen(data_dir: Path, plexsim: PlexSim) -> None:
    ok(run_cli(data_dir, "plex", "server", "add", plexsim.url, "--token", plexsim.token))
    watcher = subprocess.Popen(
        [*ANTENNA, "--data", str(data_dir), "plex", "watch", "--json", "--count", "2"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        plexsim.wait_websockets(1, timeout=20)
        time.sleep(0.5)  # the first poll is done once the websocket is up; events come after it
        key = plexsim.start_session("3", "tv-1", user="alice")
        plexsim.update_session(key, state="paused")
        stdout, stderr = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, stderr
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert [e["type"] for e in events if not e["type"].startswith("client_")][:1] == ["play"]
    assert plexsim.token not in stdout + stderr
