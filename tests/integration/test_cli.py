"""The `antenna` command line, run as a real child process against real data dirs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import tarfile
import tomllib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from antenna.cli.main import app
from tests.support import free_port, run_antenna, run_cli, start_server

pytestmark = pytest.mark.slow

Result = subprocess.CompletedProcess[str]
# Wide enough that Rich tables are neither wrapped nor truncated when the output is not a terminal.
WIDE = {"COLUMNS": "250"}


def ok(result: Result) -> str:
    """Assert the command succeeded and return its stdout."""
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def as_json(result: Result) -> Any:
    """Assert the command succeeded and return its stdout parsed as JSON."""
    return json.loads(ok(result))


def user_error(result: Result) -> str:
    """Assert the command failed as a user error: exit 2, one "Error:" line on stderr; return that line."""
    detail = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, detail
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, detail
    assert lines[0].startswith("Error: "), detail
    assert "internal error" not in lines[0], detail
    assert "Traceback" not in result.stderr, detail
    return lines[0]


def cli(
    data: Path, *args: str, env: Mapping[str, str] | None = None, input_text: str | None = None
) -> Result:
    """Run `antenna --data DATA ARGS…`."""
    return run_cli(data, *args, env=env, input_text=input_text)


def parallel(*calls: Callable[[], Result]) -> list[Result]:
    """Run independent commands side by side (each child spends most of its time importing)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: call(), calls))


def schedules(data: Path) -> dict[str, dict[str, Any]]:
    """Return `schedule list --json` by schedule name."""
    return {s["name"]: s for s in as_json(cli(data, "schedule", "list", "--json"))}


def all_command_paths() -> list[list[str]]:
    """Return every command path of the CLI, the root ([]) included, from the Typer app itself."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


# -- basics --------------------------------------------------------------------------------------------


def test_every_command_has_help(tmp_path: Path) -> None:
    paths = all_command_paths()
    expected = [
        ["serve"],
        ["backup"],
        ["restore"],
        ["jobs", "list"],
        ["jobs", "cancel"],
        ["jobs", "run"],
        ["jobs", "kinds"],
        ["schedule", "list"],
        ["schedule", "set"],
        ["schedule", "delete"],
        ["db", "upgrade"],
        ["db", "status"],
        ["config", "show"],
    ]
    assert all(p in paths for p in expected), paths

    def run_help(path: list[str]) -> Result:
        return run_antenna(*path, "--help", env=WIDE, cwd=tmp_path)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run_help, paths))
    for path, result in zip(paths, results, strict=True):
        out = ok(result)
        assert "Usage" in out, (path, out)
        assert (path or ["antenna"])[-1] in out, (path, out)
    # --help is read-only: it must not create the default data dir in the working directory.
    assert not (tmp_path / "data").exists()


def test_config_show_writes_commented_defaults(data_dir: Path) -> None:
    out = ok(cli(data_dir, "config", "show", env=WIDE))
    toml_path = data_dir / "antenna.toml"
    assert f"settings file: {toml_path.resolve()}" in out
    text = toml_path.read_text()
    # Every key is commented out: the file parses to nothing, so defaults and env vars decide.
    assert tomllib.loads(text) == {}
    shown = as_json(cli(data_dir, "config", "show", "--json"))
    keys = [k for k in shown if k != "data_dir"]
    assert {"host", "port", "database_url", "admin_password", "backup_keep"} <= set(keys)
    for key in keys:
        assert re.search(rf"^# {key} = ", text, re.MULTILINE), f"{key} missing from antenna.toml"
        assert re.search(rf"^[^\w\n]+{key} ", out, re.MULTILINE), f"{key} missing from config show"
    assert shown["port"] == "8765"
    assert shown["data_dir"] == str(data_dir.resolve())

    # The file the user edited is kept and read; an ANTENNA_* variable overrides it.
    toml_path.write_text("port = 9000\nbackup_keep = 3\n")
    shown = as_json(cli(data_dir, "config", "show", "--json", env={"ANTENNA_PORT": "9999"}))
    assert (shown["port"], shown["backup_keep"]) == ("9999", "3")
    assert toml_path.read_text() == "port = 9000\nbackup_keep = 3\n"


def test_data_dir_from_option_and_environment(tmp_path: Path) -> None:
    from_env, from_option = tmp_path / "from-env", tmp_path / "from-option"

    def show(*args: str) -> Result:
        return run_antenna(
            *args, "config", "show", "--json", env={"ANTENNA_DATA": str(from_env)}, cwd=tmp_path
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        by_env, by_option = pool.map(lambda args: show(*args), [(), ("--data", str(from_option))])
    assert as_json(by_env)["data_dir"] == str(from_env.resolve())
    assert (from_env / "antenna.toml").is_file()
    # --data wins over ANTENNA_DATA.
    assert as_json(by_option)["data_dir"] == str(from_option.resolve())
    assert (from_option / "antenna.toml").is_file()
    assert not (tmp_path / "data").exists()


def test_secrets_never_shown_or_logged(data_dir: Path) -> None:
    password, token, db_password = "pw-Zq8vX3kLm", "tok-9fH2sQ7", "dbpw-Ue4rT6y"
    env = {"ANTENNA_ADMIN_PASSWORD": password, "ANTENNA_MEDIA_TOKEN": token, "ANTENNA_LOG_LEVEL": "DEBUG"}
    # config show only reads settings, so a database URL that nothing listens on is fine there.
    url = f"postgresql+psycopg://antenna:{db_password}@127.0.0.1:1/antenna"
    table = cli(data_dir, "config", "show", env={**env, **WIDE, "ANTENNA_DATABASE_URL": url})
    as_json_result = cli(data_dir, "config", "show", "--json", env={**env, "ANTENNA_DATABASE_URL": url})
    backup = cli(data_dir, "backup", env=env)
    for result in (table, as_json_result, backup):
        ok(result)
        for secret in (password, token, db_password):
            assert secret not in result.stdout + result.stderr
    shown = as_json(as_json_result)
    assert shown["admin_password"] == "********"
    assert shown["media_token"] == "********"
    assert shown["database_url"].endswith("@127.0.0.1:1/antenna")  # shown, with the credentials masked
    assert "********" in table.stdout
    log = (data_dir / "logs" / "antenna.log").read_text()
    assert "backup written" in log  # the log was written, so its lack of secrets means something
    for secret in (password, token, db_password):
        assert secret not in log


# -- user errors ---------------------------------------------------------------------------------------


def _fresh(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _with_toml(text: str) -> Callable[[Path], Path]:
    def setup(tmp_path: Path) -> Path:
        data = tmp_path / "data"
        data.mkdir()
        (data / "antenna.toml").write_text(text)
        return data

    return setup


def _under_a_file(tmp_path: Path) -> Path:
    # Tests run as root, where permission bits do not stop writes: a path under a file cannot be made.
    (tmp_path / "afile").write_text("not a folder")
    return tmp_path / "afile" / "data"


def _is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "data").write_text("not a folder")
    return tmp_path / "data"


def _read_only(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o500)
    return data


# (name, data-dir setup, arguments, environment, parts the one error line must contain)
UserErrorCase = tuple[str, Callable[[Path], Path], list[str], dict[str, str], list[str]]
USER_ERRORS: list[UserErrorCase] = [
    ("typo-key", _with_toml("prot = 1\n"), ["config", "show"], {}, ["'prot'", "'port'", "antenna.toml"]),
    ("bad-value", _with_toml('port = "abc"\n'), ["config", "show"], {}, ["'port'", "integer"]),
    ("bad-env-value", _fresh, ["config", "show"], {"ANTENNA_PORT": "abc"}, ["ANTENNA_PORT", "integer"]),
    ("typo-env", _fresh, ["config", "show"], {"ANTENNA_PROT": "1"}, ["ANTENNA_PROT", "'port'"]),
    ("bad-toml", _with_toml("port = \n"), ["config", "show"], {}, ["antenna.toml", "TOML"]),
    ("data-under-file", _under_a_file, ["config", "show"], {}, ["afile/data", "cannot be created", "--data"]),
    ("data-is-file", _is_a_file, ["config", "show"], {}, ["is a file, not a folder", "--data"]),
    (
        "bad-schedule",
        _fresh,
        ["schedule", "set", "x", "evry 5m", "--kind", "backup"],
        {},
        ["evry 5m", "every 6h", "daily 03:30", "*/15 * * * *"],
    ),
    (
        "run-bad-kind",
        _fresh,
        ["jobs", "run", "nope"],
        {},
        ["No job kind 'nope'", "backup, iptv_refresh, maintenance"],
    ),
    ("cancel-missing", _fresh, ["jobs", "cancel", "999"], {}, ["No job #999", "antenna jobs list"]),
    ("delete-missing", _fresh, ["schedule", "delete", "nope"], {}, ["No schedule named 'nope'"]),
    ("restore-missing", _fresh, ["restore", "nope.tar.gz", "--yes"], {}, ["nope.tar.gz", "antenna backup"]),
]
if os.geteuid() != 0:  # root writes into a 0o500 folder anyway; the cases above cover it there
    USER_ERRORS.append(("data-read-only", _read_only, ["config", "show"], {}, ["not writable", "--data"]))


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    def run(case: UserErrorCase) -> str:
        name, setup, args, env, expected = case
        folder = tmp_path / name
        folder.mkdir()
        try:
            line = user_error(cli(setup(folder), *args, env=env))
            missing = [part for part in expected if part not in line]
            assert not missing, f"{missing} not in {line!r}"
        except AssertionError as exc:
            return f"{name}: {exc}"
        return ""

    # Independent child processes: run them side by side, report every case that failed.
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [p for p in pool.map(run, USER_ERRORS) if p]
    assert not problems, "\n\n".join(problems)


def test_usage_errors_are_not_internal_errors(data_dir: Path) -> None:
    # (arguments, exit code, part of the message); none of these needs the data dir.
    cases: list[tuple[list[str], int, str]] = [
        (["nosuch"], 2, "nosuch"),
        (["jobs", "cancel", "abc"], 2, "int"),
        (["jobs", "list", "--limit", "0"], 2, "1"),
        (["restore"], 2, "archive"),
    ]
    *results, backup = parallel(
        *[partial(cli, data_dir, *args) for args, _, _ in cases], partial(cli, data_dir, "backup")
    )
    ok(backup)
    archive = str(next((data_dir / "backups").glob("*.tar.gz")))
    cases.append((["restore", archive], 1, "Aborted"))
    results.append(cli(data_dir, "restore", archive, input_text="n\n"))
    problems = []
    for (args, code, expected), result in zip(cases, results, strict=True):
        if (
            result.returncode != code
            or "Error:" not in result.stderr
            or expected not in result.stderr
            or "internal error" in result.stderr
            or "Traceback" in result.stderr
        ):
            problems.append(f"{args}: exit {result.returncode}\n{result.stderr}")
    assert not problems, "\n\n".join(problems)


# -- database ------------------------------------------------------------------------------------------


def test_db_upgrade_and_status(data_dir: Path) -> None:
    first = ok(cli(data_dir, "db", "upgrade"))
    match = re.search(r"upgraded from empty to (\S+)\.", first)
    assert match, first
    head = match.group(1)
    again, status_result = parallel(
        lambda: cli(data_dir, "db", "upgrade"), lambda: cli(data_dir, "db", "status")
    )
    assert re.search(rf"is up to date \(revision {re.escape(head)}\)", ok(again))
    status = ok(status_result)
    assert f"sqlite:///{(data_dir / 'antenna.db').resolve()}" in status
    assert f"schema: {head} (this Antenna ships {head})" in status


# -- backup, restore and jobs --------------------------------------------------------------------------


def test_backup_list_restore_and_jobs(data_dir: Path) -> None:
    summary = ok(cli(data_dir, "backup")).strip()
    match = re.fullmatch(r"backup (antenna-backup-\S+\.tar\.gz) \(.+\), 0 old archives pruned", summary)
    assert match, summary
    name = match.group(1)
    archive = data_dir / "backups" / name
    assert archive.is_file()
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "antenna.db", "antenna.toml"} <= set(tar.getnames())

    listed_result, jobs_result = parallel(
        lambda: cli(data_dir, "backup", "--list", "--json"), lambda: cli(data_dir, "jobs", "list", "--json")
    )
    listed = as_json(listed_result)
    assert [b["name"] for b in listed] == [name]
    assert listed[0]["path"] == str(archive.resolve())
    assert listed[0]["engine"] == "sqlite"
    assert listed[0]["size_bytes"] == archive.stat().st_size
    jobs = as_json(jobs_result)
    assert [(j["kind"], j["status"], j["percent"]) for j in jobs] == [("backup", "succeeded", 100)]

    # Change the data after the backup (a schedule in the database, a key in antenna.toml), and try to
    # cancel the finished job: a user error, not a crash.
    cancel, set_schedule = parallel(
        lambda: cli(data_dir, "jobs", "cancel", str(jobs[0]["id"])),
        lambda: cli(data_dir, "schedule", "set", "after-backup", "every 2h", "--kind", "backup"),
    )
    assert f"Job #{jobs[0]['id']} is already succeeded" in user_error(cancel)
    ok(set_schedule)
    toml_path = data_dir / "antenna.toml"
    original_toml = toml_path.read_text()
    toml_path.write_text(original_toml + "backup_keep = 5\n")

    # Answering "n" changes nothing.
    declined = cli(data_dir, "restore", str(archive), input_text="n\n")
    assert declined.returncode != 0, declined.stdout
    assert "Replace the current database and settings" in declined.stdout
    assert "after-backup" in schedules(data_dir)
    assert toml_path.read_text().endswith("backup_keep = 5\n")
    assert not list(data_dir.glob("antenna.toml.before-restore-*"))

    # --yes restores both; the archive can be named without its folder.
    out = ok(cli(data_dir, "restore", name, "--yes"))
    assert f"Restored sqlite database from {name}." in out
    after = schedules(data_dir)
    assert "after-backup" not in after
    assert "maintenance" in after
    assert toml_path.read_text() == original_toml
    kept = list(data_dir.glob("antenna.toml.before-restore-*"))
    assert len(kept) == 1
    assert kept[0].read_text().endswith("backup_keep = 5\n")
    assert f"Previous antenna.toml kept as {kept[0].resolve()}" in out
    with sqlite3.connect(data_dir / "antenna.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The backup job itself was running inside the snapshot: restored, it is settled, not re-run.
    jobs = json.loads(ok(cli(data_dir, "jobs", "list", "--json")))
    assert not [j for j in jobs if j["status"] in ("queued", "running")], jobs


# -- one server per data dir, and the port -------------------------------------------------------------


def test_running_server_blocks_second_serve_and_restore(data_dir: Path) -> None:
    ok(cli(data_dir, "backup"))
    archive = next((data_dir / "backups").glob("*.tar.gz"))
    password = "srv-pw-Hk29dLq0"
    server = start_server(data_dir, password=password)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            second, restore = pool.map(
                lambda args: cli(data_dir, *args),
                [["serve", "--port", str(free_port())], ["restore", str(archive), "--yes"]],
            )
        line = user_error(second)
        assert (
            f"Another Antenna server is already using {data_dir.resolve()} (pid {server.process.pid})" in line
        )
        assert "--data" in line
        line = user_error(restore)
        assert "Another Antenna server is already using" in line

        # The first server never noticed.
        assert server.process.poll() is None
        assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
        client = server.login()
        try:
            assert client.get("/").status_code == 200
        finally:
            client.close()
    finally:
        server.stop()
    assert password not in server.output()
    assert password not in (data_dir / "logs" / "antenna.log").read_text()


def test_port_in_use_is_a_clear_error(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = user_error(run_cli(data_dir, "serve", "--port", str(port), timeout=30))
    assert f"Cannot listen on 127.0.0.1:{port}" in line
    assert "--port" in line


def test_sigterm_stops_serve_cleanly(data_dir: Path) -> None:
    server = start_server(data_dir)
    code = server.stop(signal.SIGTERM)
    assert "antenna.cli.serve: stopped" in (data_dir / "logs" / "antenna.log").read_text()
    assert code == 0, server.output()


# -- schedules -----------------------------------------------------------------------------------------


def _at_0330_berlin(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    offset = moment.utcoffset()
    assert moment.time() == time(3, 30), stamp
    assert offset is not None, stamp
    assert offset.total_seconds() in (3600, 7200), stamp
    return moment


def test_schedule_set_list_disable_delete(data_dir: Path) -> None:
    name = "nightly-backup"
    args = ["schedule", "set", name, "daily 03:30", "--kind", "backup"]
    out = ok(cli(data_dir, *args, "--tz", "Europe/Berlin", "--quiet", "01:00-05:00")).strip()
    # One line, even where the output is not a terminal.
    match = re.fullmatch(rf"Schedule {name}: backup daily at 03:30 \(Europe/Berlin\); next run (\S+)", out)
    assert match, out
    _at_0330_berlin(match.group(1))

    listed, table_result = parallel(
        lambda: cli(data_dir, "schedule", "list", "--json"),
        lambda: cli(data_dir, "schedule", "list", env=WIDE),
    )
    view = {s["name"]: s for s in as_json(listed)}[name]
    assert view["job_kind"] == "backup"
    assert view["expression"] == "daily 03:30"
    assert view["timezone"] == "Europe/Berlin"
    assert view["quiet_window"] == "01:00-05:00"
    assert view["enabled"] is True
    assert view["valid"] is True
    runs = [_at_0330_berlin(stamp) for stamp in view["next_runs"]]
    assert len(runs) == 3
    assert runs == sorted(set(runs))

    table = ok(table_result)
    row = next(line for line in table.splitlines() if name in line)
    assert "01:00-05:00" in row
    assert "Europe/Berlin" in row
    assert runs[0].isoformat(timespec="minutes") in row

    # --disable keeps kind, zone and quiet window; there is no next run any more.
    view = as_json(cli(data_dir, "schedule", "set", name, "daily 03:30", "--disable", "--json"))
    assert view["enabled"] is False
    assert view["next_runs"] == []
    assert (view["job_kind"], view["timezone"], view["quiet_window"]) == (
        "backup",
        "Europe/Berlin",
        "01:00-05:00",
    )

    assert f"Schedule {name} deleted." in ok(cli(data_dir, "schedule", "delete", name))
    after = schedules(data_dir)
    assert name not in after
    assert "maintenance" in after
