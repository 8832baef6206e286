"""`antenna vod source set|show` as a real child process, and PATCH/GET /api/vod/sources/{ref}."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from antenna.container import Container
from antenna.vod.models import DEFAULT_CLEAN_RULES
from antenna.web.app import create_app
from antenna.web.auth import AuthService
from tests.integration.test_vod_cli import ok, playlist
from tests.support import run_cli


def test_set_and_show_every_setting(data_dir: Path, tmp_path: Path) -> None:
    source = playlist(tmp_path / "vod.m3u")
    root = tmp_path / "tree"
    ok(run_cli(data_dir, "vod", "source", "add", "list", "--m3u", str(source), "--root", str(root)))
    shown = ok(run_cli(data_dir, "vod", "source", "show", "list"))
    for line in (
        "movie_template     {title} ({year}) {id}",
        "threshold          20%",
        "schedule           by hand",
    ):
        assert line in shown
    assert "Antenna's defaults:" in shown
    ok(run_cli(data_dir, "vod", "export"))
    assert (root / "Movies/A Film (2001)/A Film (2001).strm").exists()

    settings = (
        "--movie-template", "{title} [{year}]", "--movies-folder", "Films", "--id-style", "none",
        "--threshold", "35%", "--schedule", "daily 03:00", "--include-category", "Films",
        "--include-category", "Kids", "--year-min", "1990", "--title-regex", "^a ", "--clean-rule", "^Show ",
        "--rich-nfo", "--debug-log", "--provider-workers", "8", "--disk-workers", "2",
        "--episode-template", "{series} {season}x{episode:02d}", "--url-mode", "provider",
    )  # fmt: skip
    changed = ok(run_cli(data_dir, "vod", "source", "set", "list", *settings))
    assert "Changed VOD source list:" in changed
    assert "movie_template     {title} [{year}]" in changed
    assert "threshold          35%" in changed
    assert "include_categories Films, Kids" in changed
    assert "renames the files in place" in changed
    assert "--cleanup preview" in changed  # filters changed: how to see what they leave out

    data = json.loads(ok(run_cli(data_dir, "vod", "source", "show", "list", "--json")))
    assert data["movie_template"] == "{title} [{year}]"
    assert data["movies_folder"] == "Films"
    assert data["threshold"] == 0.35
    assert data["schedule"] == "daily 03:00"
    assert data["include_categories"] == ["Films", "Kids"]
    assert (data["year_min"], data["year_max"], data["title_regex"]) == (1990, None, "^a ")
    assert data["clean_rules"] == ["^Show "]
    assert (data["rich_nfo"], data["debug_log"], data["provider_workers"], data["disk_workers"]) == (
        True, True, 8, 2,
    )  # fmt: skip
    assert data["url_mode"] == "provider"
    schedules = json.loads(ok(run_cli(data_dir, "schedule", "list", "--json")))
    assert any(s["name"] == "vod-source-1" and s["expression"] == "daily 03:00" for s in schedules)

    exported = ok(run_cli(data_dir, "vod", "export"))
    assert "renamed" in exported
    assert (root / "Films/A Film [2001]/A Film [2001].strm").read_text() == "http://p/movie/u/p/11.mkv\n"
    assert not (root / "Movies").exists()

    clearing = (
        "--clear-filters", "--year-max", "2020", "--default-clean-rules", "--schedule", "", "--no-rich-nfo",
        "--disk-workers", "auto", "--threshold", "0.1",
    )  # fmt: skip
    cleared = ok(run_cli(data_dir, "vod", "source", "set", "list", *clearing))
    assert "schedule           by hand" in cleared
    data = json.loads(ok(run_cli(data_dir, "vod", "source", "show", "list", "--json")))
    assert data["include_categories"] == []
    assert (data["year_min"], data["year_max"], data["title_regex"]) == (None, 2020, "")
    assert data["clean_rules"] == list(DEFAULT_CLEAN_RULES)
    assert data["default_clean_rules"] is True
    assert (data["rich_nfo"], data["disk_workers"], data["threshold"]) == (False, None, 0.1)
    schedules = json.loads(ok(run_cli(data_dir, "schedule", "list", "--json")))
    assert not any(s["name"] == "vod-source-1" for s in schedules)

    mine = ok(
        run_cli(data_dir, "vod", "source", "set", "list", "--default-clean-rules", "--clean-rule", "^X ")
    )
    assert "^X " in mine
    assert "Nothing changed" in ok(run_cli(data_dir, "vod", "source", "set", "list", "--threshold", "10%"))


def test_set_refuses_bad_values_with_one_line(data_dir: Path, tmp_path: Path) -> None:
    source = playlist(tmp_path / "vod.m3u")
    ok(run_cli(data_dir, "vod", "source", "add", "list", "--m3u", str(source), "--root", str(tmp_path / "t")))
    before = ok(run_cli(data_dir, "vod", "source", "show", "list", "--json"))
    for args, message in (
        (("--movie-template", "{title} {season}"), "uses {season}"),
        (("--episode-template", "{series} {title}"), "needs {season} and {episode}"),
        (("--title-regex", "(oops"), "not a valid regular expression"),
        (("--clean-rule", "ok", "--clean-rule", "[bad"), "clean rule 2"),
        (("--year-min", "2010", "--year-max", "2000"), "after the last year"),
        (("--provider-workers", "0"), "Use 1 to 64"),
        (("--threshold", "120%"), "not between 0 and 1"),
        (("--schedule", "at noon"), "is not valid"),
        (("--url-mode", "proxy"), "Unknown URL mode"),
        (("--id-style", "imdb"), "Unknown ID style"),
        (("--series-folder", "../up"), "not one plain folder name"),
        (("--movies-folder", "TV"), "cannot share the folder"),
        (("--no-clean-rules", "--clean-rule", "x"), "cannot go with"),
        ((), "Say what to change"),
    ):
        refused = run_cli(data_dir, "vod", "source", "set", "list", *args)
        assert refused.returncode == 2, (args, refused.stdout, refused.stderr)
        assert message in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert ok(run_cli(data_dir, "vod", "source", "show", "list", "--json")) == before
    missing = run_cli(data_dir, "vod", "source", "show", "nope")
    assert missing.returncode == 2
    assert "No VOD source 'nope'" in missing.stderr


def test_api_get_and_patch(container: Container, tmp_path: Path) -> None:
    client = TestClient(create_app(container))
    key = {"X-Api-Key": AuthService(container.secrets, container.clock).api_key()}
    body = {
        "name": "prov",
        "root": str(tmp_path / "tree"),
        "xtream": "http://xt.example",
        "username": "alice",
    }
    assert (
        client.post("/api/vod/sources", json={**body, "password": "s3cret-pw"}, headers=key).status_code
        == 201
    )

    got = client.get("/api/vod/sources/prov", headers=key)
    assert got.status_code == 200
    assert got.json()["movie_template"] == "{title} ({year}) {id}"
    assert got.json()["has_password"] is True
    assert "s3cret-pw" not in got.text

    changes = {
        "movie_template": "{title} - {year}",
        "exclude_categories": ["Kids"],
        "year_min": 1980,
        "threshold": 0.4,
        "debug_log": True,
        "schedule": "every 6h",
        "password": "n3w-secret",
    }
    patched = client.patch("/api/vod/sources/1", json=changes, headers=key)
    assert patched.status_code == 200, patched.text
    data = patched.json()
    assert (data["movie_template"], data["exclude_categories"], data["year_min"]) == (
        "{title} - {year}", ["Kids"], 1980,
    )  # fmt: skip
    assert (data["threshold"], data["debug_log"], data["schedule"]) == (0.4, True, "every 6h")
    assert "n3w-secret" not in patched.text
    assert container.vod.repo.source(1)["password"] == "n3w-secret"

    reset = client.patch(
        "/api/vod/sources/prov", json={"movie_template": None, "clean_rules": []}, headers=key
    )
    assert reset.json()["movie_template"] == "{title} ({year}) {id}"
    assert reset.json()["clean_rules"] == []
    assert reset.json()["threshold"] == 0.4  # not sent: unchanged

    bad = client.patch("/api/vod/sources/prov", json={"title_regex": "(x"}, headers=key)
    assert bad.status_code == 400
    assert "not a valid regular expression" in bad.json()["error"]
    assert bad.json()["hint"]
    unknown = client.patch("/api/vod/sources/prov", json={"colour": "red"}, headers=key)
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["error"]
    typed = client.patch("/api/vod/sources/prov", json={"year_min": "soon"}, headers=key)
    assert typed.status_code == 422
    assert client.patch("/api/vod/sources/nope", json={"threshold": 0.5}, headers=key).status_code == 404
    assert client.get("/api/vod/sources/nope", headers=key).status_code == 404
    assert client.patch("/api/vod/sources/prov", json={}, headers={"X-Api-Key": "wrong"}).status_code == 401
    spec = client.get("/api/openapi.json", headers=key).json()
    assert "patch" in spec["paths"]["/api/vod/sources/{ref}"]
