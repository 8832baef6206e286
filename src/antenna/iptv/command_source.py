"""IPTV Manager's socket protocol outside Kodi: run a command that connects back to us and sends its data."""

from __future__ import annotations

import io
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import IO, BinaryIO

from antenna.errors import UserError
from antenna.redact import redact

CHUNK = 256 * 1024
STDERR_TAIL = 4096
POLL = 0.1  # how often we look whether the command died before connecting
SHOWN_STDERR = 200


def run_command(
    command: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    max_bytes: int = 2_000_000_000,
) -> bytes:
    """Run command (IPTV Manager style) and return what it sent over the socket."""
    buffer = io.BytesIO()
    run_command_to(command, buffer, timeout=timeout, env=env, max_bytes=max_bytes)
    return buffer.getvalue()


def run_command_to(
    command: Sequence[str],
    out: BinaryIO,
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    max_bytes: int = 2_000_000_000,
) -> int:
    """Run command with `port=N` appended (and ANTENNA_PORT=N), copy what it sends into out; return the size.

    env adds to (or overrides) this process's environment. timeout bounds the whole run: connecting,
    sending and exiting. On an error out may hold part of the data, so give it an atomic writer.
    """
    if not command or not command[0]:
        raise UserError("The IPTV command is empty.", "Set the command to run, e.g. `python3 addon.py`.")
    name = os.path.basename(command[0])
    deadline = time.monotonic() + timeout
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener,
        tempfile.TemporaryFile() as stderr,
    ):
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        proc = _start(name, [*command, f"port={port}"], env, port, stderr)
        try:
            conn = _accept(name, listener, proc, deadline, timeout, stderr)
            listener.close()  # one connection is the protocol; nobody else may connect in its place
            with conn:
                size = _receive(name, conn, out, deadline, timeout, max_bytes)
            _wait(name, proc, deadline, timeout, stderr)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
    if size == 0:
        raise UserError(f"IPTV command {name} connected but closed the connection without sending data.")
    return size


def _start(
    name: str, argv: list[str], env: Mapping[str, str] | None, port: int, stderr: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start the command in its own session so a timeout can kill everything it started."""
    environment = {**os.environ, **(env or {}), "ANTENNA_PORT": str(port)}
    try:
        return subprocess.Popen(
            argv,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
    except FileNotFoundError:
        raise UserError(
            f"IPTV command {name} could not start: not found.", "Check the command's path."
        ) from None
    except PermissionError:
        raise UserError(
            f"IPTV command {name} could not start: permission denied (not executable?)."
        ) from None
    except OSError as exc:
        raise UserError(f"IPTV command {name} could not start: {exc.strerror or exc}.") from None


def _accept(
    name: str,
    listener: socket.socket,
    proc: subprocess.Popen[bytes],
    deadline: float,
    timeout: float,
    stderr: IO[bytes],
) -> socket.socket:
    """Wait for the command to connect, noticing early when it exits without connecting."""
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(proc)
                raise UserError(
                    f"IPTV command {name} did not connect to port {listener.getsockname()[1]} "
                    f"within {timeout:g} s; it was stopped.",
                    "It must connect to the port given as `port=N` (or $ANTENNA_PORT) on 127.0.0.1.",
                )
            if selector.select(min(POLL, remaining)):
                conn, _ = listener.accept()
                conn.setblocking(True)
                return conn
            code = proc.poll()
            if code is not None:
                # It may have connected just before exiting; take that connection if so.
                if selector.select(0):
                    conn, _ = listener.accept()
                    conn.setblocking(True)
                    return conn
                if code != 0:
                    raise UserError(_exit_message(name, code, stderr))
                raise UserError(f"IPTV command {name} exited without connecting to the port it was given.")


def _receive(
    name: str, conn: socket.socket, out: BinaryIO, deadline: float, timeout: float, max_bytes: int
) -> int:
    """Copy from the connection into out until EOF, within the deadline and max_bytes."""
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _overran(name, timeout)
        conn.settimeout(remaining)
        try:
            chunk = conn.recv(CHUNK)
        except TimeoutError:
            raise _overran(name, timeout) from None
        except OSError as exc:
            raise UserError(f"IPTV command {name}'s connection failed: {exc.strerror or exc}.") from None
        if not chunk:
            return size
        size += len(chunk)
        if size > max_bytes:
            raise UserError(f"IPTV command {name} sent more than {max_bytes:,} bytes; it was stopped.")
        out.write(chunk)


def _wait(
    name: str, proc: subprocess.Popen[bytes], deadline: float, timeout: float, stderr: IO[bytes]
) -> None:
    """Wait for the command to exit after sending; a non-zero exit fails the run even with data."""
    try:
        code = proc.wait(max(deadline - time.monotonic(), 0.001))
    except subprocess.TimeoutExpired:
        raise _overran(name, timeout) from None
    if code != 0:
        raise UserError(_exit_message(name, code, stderr))


def _overran(name: str, timeout: float) -> UserError:
    """Return the error for a command still running at the deadline (the caller's finally kills it)."""
    return UserError(f"IPTV command {name} ran past the timeout of {timeout:g} s; it was stopped.")


def _exit_message(name: str, code: int, stderr: IO[bytes]) -> str:
    """Return "IPTV command X exited with N: <last stderr line>" on one line."""
    how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
    line = _last_line(stderr)
    return f"IPTV command {name} {how}: {line}" if line else f"IPTV command {name} {how}."


def _last_line(stderr: IO[bytes]) -> str:
    """Return the last non-empty line of the captured stderr, masked and shortened."""
    stderr.flush()
    end = stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, end - STDERR_TAIL))
    lines = [line.strip() for line in stderr.read().decode("utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    text = " ".join(redact(lines[-1]).split())
    return text if len(text) <= SHOWN_STDERR else text[: SHOWN_STDERR - 1] + "…"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything it started (its session's process group), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()  # the group is gone already; make sure of the leader
    proc.wait()
