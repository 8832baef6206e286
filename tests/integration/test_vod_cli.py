"""`antenna vod …` as a real child process: sources, export, report, stats, the API and usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.support import run_cli

Result = subprocess.CompletedProcess[str]


def ok(result: Result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def playlist(path: Path) -> Path:
    path.write_text(
        "#EXTM3U\n"
        '#EXTINF:-1 group-title="Films",A Film (2001)\nhttp://p/movie/u/p/11.mkv\n'
        "#EXTINF:-1,Show S01E01 - Start\nhttp://p/series/u/p/21.mp4\n"
    )
    return path


def test_source_export_report_stats_and_errors(data_dir: Path, tmp_path: Path) -> None:
    source = playlist(tmp_path / "vod.m3u")
    root = tmp_path / "tree"
    added = ok(run_cli(data_dir, "vod", "source", "add", "list", "--m3u", str(source), "--root", str(root)))
    assert "Plex cannot play .strm" in added
    listed = json.loads(ok(run_cli(data_dir, "vod", "source", "list", "--json")))
    assert [s["name"] for s in listed] == ["list"]
    assert "1 movies, 1 series, 1 episodes" in ok(run_cli(data_dir, "vod", "source", "test", "list"))
    exported = ok(run_cli(data_dir, "vod", "export", "--all"))
    assert "succeeded" in exported
    assert (root / "Movies/A Film (2001)/A Film (2001).strm").exists()
    report = json.loads(ok(run_cli(data_dir, "vod", "report", "--json")))
    assert {r["action"] for r in report["rows"]} == {"created"}
    again = ok(run_cli(data_dir, "vod", "export", "--movies"))
    assert "0 created" in again
    stats = json.loads(ok(run_cli(data_dir, "vod", "stats", "--json")))
    assert stats[0]["disk_strm"] == 2
    assert Path(stats[0]["csv"]).exists()

    both = run_cli(
        data_dir, "vod", "source", "add", "x", "--m3u", str(source), "--xtream", "http://h", "--root", "r"
    )
    assert both.returncode == 2
    assert "either an Xtream server" in both.stderr
    assert "Traceback" not in both.stderr
    missing = run_cli(data_dir, "vod", "report", "999")
    assert missing.returncode == 2
    assert "No VOD run 999" in missing.stderr
    ok(run_cli(data_dir, "vod", "source", "remove", "list"))
    assert (root / "Movies").exists()  # removing a source leaves its files


def test_api(container: Container, tmp_path: Path) -> None:
    client = TestClient(create_app(container))
    key = {"X-Api-Key": AuthService(container.secrets, container.clock).api_key()}
    source = playlist(tmp_path / "vod.m3u")
    body = {"name": "list", "root": str(tmp_path / "tree"), "m3u": str(source)}
    answer = client.post("/api/vod/sources", json=body, headers=key)
    assert answer.status_code == 201, answer.text
    assert client.get("/api/vod/sources", headers=key).json()[0]["name"] == "list"
    container.vod.export("list")
    runs = client.get("/api/vod/runs", headers=key).json()
    assert runs[0]["status"] == "ok"
    detail = client.get(f"/api/vod/runs/{runs[0]['id']}", headers=key).json()
    assert len(detail["rows"]) == 3  # the movie, the series and its episode
    csv = client.get(f"/api/vod/runs/{runs[0]['id']}/report.csv", headers=key)
    assert csv.text.startswith("type,series_name,season,title,uuid,action,reason")
    assert client.get("/api/vod/sources", headers={"X-Api-Key": "wrong"}).status_code == 401
