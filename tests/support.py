"""Helpers for tests that run the real `antenna` program: the CLI as a subprocess and a live server."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ANTENNA = [sys.executable, "-m", "antenna"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a child antenna: no ANTENNA_* leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTENNA_")}
    env.update(extra or {})
    return env


def run_antenna(
    *args: str,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `antenna ARGS…` and return its result (never raises on a non-zero exit)."""
    return subprocess.run(
        [*ANTENNA, *args],
        env=clean_env(env),
        input=input_text,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(
    data_dir: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `antenna --data DATA ARGS…` and return its result (never raises on a non-zero exit)."""
    return run_antenna("--data", str(data_dir), *args, env=env, input_text=input_text, timeout=timeout)


@dataclass
class ServerProcess:
    """A running `antenna serve` child process."""

    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    password: str
    log_path: Path
    _api_key: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Return what the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def login(self, client: httpx.Client | None = None) -> httpx.Client:
        """Return an httpx client with a logged-in session and its CSRF header set."""
        client = client or httpx.Client(base_url=self.url, timeout=10)
        page = client.get("/login")
        token = _token(page.text)
        response = client.post("/login", data={"password": self.password, "csrf_token": token, "next": "/"})
        assert response.status_code == 303, response.text
        client.headers["X-CSRF-Token"] = _token(client.get("/").text)
        return client

    def api_key(self) -> str:
        """Return the API key, read from the Settings page as a user would."""
        if self._api_key is None:
            client = self.login()
            try:
                match = re.search(r'value="([^"]+)" aria-label="API key"', client.get("/settings").text)
                assert match, "API key not on the Settings page"
                self._api_key = match.group(1)
            finally:
                client.close()
        return self._api_key

    def api(self) -> httpx.Client:
        """Return an httpx client sending the API key."""
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": self.api_key()}, timeout=10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Stop the server and return its exit code (kills it if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


def start_server(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    password: str = "test-password",
    port: int | None = None,
    wait: float = 30,
) -> ServerProcess:
    """Start `antenna serve` on a free port and wait until /api/health answers."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"serve-{port}.out"
    handle = log_path.open("w")
    process = subprocess.Popen(
        [*ANTENNA, "--data", str(data_dir), "serve", "--port", str(port)],
        env=clean_env({"ANTENNA_ADMIN_PASSWORD": password, **(env or {})}),
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = ServerProcess(process, port, data_dir, password, log_path)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"antenna serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"antenna serve did not answer within {wait}s:\n{server.output()}")


def fill_sqlite(db_path: Path, megabytes: int) -> None:
    """Add a filler table of about `megabytes` MB so a backup has many pages to copy."""
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_filler (id INTEGER PRIMARY KEY, blob BLOB)")
        conn.executemany(
            "INSERT INTO bench_filler (blob) VALUES (?)",
            ((os.urandom(4096),) for _ in range(megabytes * 256)),
        )


@contextlib.contextmanager
def self_signed_https(tmp_path: Path, handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve handler over HTTPS with a fresh self-signed certificate on loopback; yield the base URL."""
    if shutil.which("openssl") is None:
        import pytest

        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
