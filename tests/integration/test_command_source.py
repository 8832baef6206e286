"""IPTV Manager's socket protocol with real child processes: data, env, timeouts, failures, cleanup."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest

from antenna.errors import UserError
from antenna.iptv.command_source import run_command, run_command_to

pytestmark = pytest.mark.slow

STREAMS = {"version": 1, "streams": [{"name": "One", "stream": "plugin://x/play/1", "id": "one.tv"}]}
XMLTV = '<?xml version="1.0"?>\n<tv><channel id="one.tv"><display-name>One</display-name></channel></tv>\n'

# What every script starts with: the port from the `port=N` argument IPTV Manager passes.
PRELUDE = """\
import os, socket, sys, time
args = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
PORT = int(args["port"])
"""


def _script(tmp_path: Path, body: str) -> list[str]:
    """Write a Python script and return the command that runs it."""
    path = tmp_path / "addon.py"
    path.write_text(PRELUDE + textwrap.dedent(body))
    return [sys.executable, str(path)]


def _sender(tmp_path: Path, payload: str) -> list[str]:
    """Return a command that connects, sends payload and exits 0."""
    return _script(
        tmp_path,
        f"""
        with socket.create_connection(("127.0.0.1", PORT)) as s:
            s.sendall({payload.encode()!r})
        """,
    )


def _one_line(error: UserError) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def _gone(pid: int) -> bool:
    """Return True once pid no longer exists (zombies of our own children are reaped by Popen)."""
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_json_streams(tmp_path: Path) -> None:
    data = run_command(_sender(tmp_path, json.dumps(STREAMS)), timeout=20)
    assert json.loads(data) == STREAMS


def test_xmltv_into_a_stream(tmp_path: Path) -> None:
    out = io.BytesIO()
    size = run_command_to(_sender(tmp_path, XMLTV), out, timeout=20)
    assert out.getvalue() == XMLTV.encode()
    assert size == len(XMLTV.encode())


def test_large_payload_and_extra_arguments(tmp_path: Path) -> None:
    command = _script(
        tmp_path,
        """
        assert sys.argv[1] == "--flag", sys.argv
        with socket.create_connection(("127.0.0.1", PORT)) as s:
            for _ in range(64):
                s.sendall(b"x" * 65536)
        """,
    )
    assert run_command([*command, "--flag"], timeout=20) == b"x" * (64 * 65536)


def test_port_from_env_and_extra_env(tmp_path: Path) -> None:
    path = tmp_path / "env_addon.py"
    path.write_text(
        textwrap.dedent(
            """\
            import os, socket
            with socket.create_connection(("127.0.0.1", int(os.environ["ANTENNA_PORT"]))) as s:
                s.sendall(os.environ["GREETING"].encode())
            """
        )
    )
    assert run_command([sys.executable, str(path)], timeout=20, env={"GREETING": "hello"}) == b"hello"


def test_never_connects(tmp_path: Path) -> None:
    command = _script(tmp_path, "time.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(UserError, match=r"IPTV command python\S* did not connect to port \d+ within 1 s"):
        run_command(command, timeout=1)
    assert time.monotonic() - started < 10


def test_exits_without_connecting(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="exited without connecting"):
        run_command(_script(tmp_path, "pass\n"), timeout=20)


def test_connects_and_closes_without_data(tmp_path: Path) -> None:
    command = _script(tmp_path, 'socket.create_connection(("127.0.0.1", PORT)).close()\n')
    with pytest.raises(UserError, match="connected but closed the connection without sending data") as caught:
        run_command(command, timeout=20)
    _one_line(caught.value)


def test_exit_code_and_stderr(tmp_path: Path) -> None:
    command = _script(
        tmp_path,
        """
        print("first line", file=sys.stderr)
        print("login failed for http://bob:hunter2@example.com/api\\n", file=sys.stderr)
        sys.exit(3)
        """,
    )
    expected = re.escape("exited with 3: login failed for http://***@example.com/api")
    with pytest.raises(UserError, match=expected) as caught:
        run_command(command, timeout=20)
    assert "hunter2" not in _one_line(caught.value)


def test_exit_code_after_sending(tmp_path: Path) -> None:
    command = _script(
        tmp_path,
        """
        with socket.create_connection(("127.0.0.1", PORT)) as s:
            s.sendall(b"partial")
        sys.stderr.write("x" * 1000 + "\\n")
        sys.exit(1)
        """,
    )
    with pytest.raises(UserError, match=r"exited with 1: x+…$") as caught:
        run_command(command, timeout=20)
    assert len(_one_line(caught.value)) < 300


def test_hangs_after_connecting_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = _script(
        tmp_path,
        f"""
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(b"some")
        time.sleep(600)
        """,
    )
    started = time.monotonic()
    with pytest.raises(UserError, match=r"ran past the timeout of 1\.5 s; it was stopped") as caught:
        run_command(command, timeout=1.5)
    assert time.monotonic() - started < 10
    _one_line(caught.value)
    leader, child = (int(p) for p in pids.read_text().split())
    assert _gone(leader)
    assert _gone(child)  # the grandchild died with the process group


def test_too_much_data(tmp_path: Path) -> None:
    command = _script(
        tmp_path,
        """
        with socket.create_connection(("127.0.0.1", PORT)) as s:
            s.sendall(b"x" * 100_000)
        """,
    )
    with pytest.raises(UserError, match="sent more than 1,000 bytes"):
        run_command(command, timeout=20, max_bytes=1000)


def test_missing_executable(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="IPTV command no-such-addon could not start: not found") as caught:
        run_command([str(tmp_path / "no-such-addon"), "--x"], timeout=5)
    _one_line(caught.value)


def test_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "plain.txt"
    script.write_text("hello")
    with pytest.raises(UserError, match="could not start: permission denied"):
        run_command([str(script)], timeout=5)


def test_empty_command() -> None:
    with pytest.raises(UserError, match="empty"):
        run_command([], timeout=5)
