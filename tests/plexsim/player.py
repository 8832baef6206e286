"""A fake Plex player (companion protocol) and the background uvicorn runner both fakes use."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.plexsim.state import Command
from tests.plexsim.xml import HEADER, attrs, container, render, response_ok

UNAUTHORIZED = "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"


def xml_response(body: str, status: int = 200) -> Response:
    """An XML response like PMS sends."""
    return Response(body, status_code=status, media_type="text/xml;charset=utf-8")


def html_error(status: int) -> HTMLResponse:
    """An HTML error page like PMS sends."""
    return HTMLResponse(
        f"<html><head><title>Error {status}</title></head><body><h1>{status} Error</h1></body></html>", status
    )


class BackgroundServer:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a daemon thread with its own event loop."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port: int = self.sock.getsockname()[1]
        # ws="websockets" imports websockets.legacy, which warns (an error under filterwarnings=error);
        # the sans-I/O implementation is the same websockets library without the deprecated layer.
        config = uvicorn.Config(
            app,
            loop="asyncio",
            ws="websockets-sansio",
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=f"plexsim-{self.port}", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once connections are accepted."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake Plex server did not start")
            time.sleep(0.01)

    def run_coroutine(self, coro: Any, timeout: float = 5.0) -> Any:
        """Run a coroutine on the server loop; wait for it unless called from the loop itself."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        if threading.current_thread() is self.thread:
            return None
        return future.result(timeout)

    def stop(self) -> None:
        """Shut down and wait for the thread; safe to call twice."""
        if self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(10)
        self.sock.close()


class FakePlayer:
    """A Plex player on loopback that records every /player/* command it receives."""

    def __init__(
        self, machine_id: str = "player-1", title: str = "Living Room TV", *, token: str | None = None
    ):
        self.machine_id = machine_id
        self.title = title
        self.token = token
        self.commands: list[Command] = []
        self.fail_status: int | None = None
        self.port = 0
        self.url = ""
        self._server: BackgroundServer | None = None
        self._lock = threading.Lock()

    def _authorized(self, request: Request) -> bool:
        if self.token is None:
            return True
        given = request.headers.get("X-Plex-Token") or request.query_params.get("X-Plex-Token")
        return given == self.token

    async def _resources(self, request: Request) -> Response:
        if not self._authorized(request):
            return HTMLResponse(UNAUTHORIZED, 401)
        player = attrs(
            Element("Player"),
            title=self.title,
            machineIdentifier=self.machine_id,
            product="Plex for Android (TV)",
            platform="Android",
            platformVersion="11",
            version="10.0.0",
            deviceClass="stb",
            protocol="plex",
            protocolVersion="1",
            protocolCapabilities="timeline,playback,navigation,playqueues,mirror",
        )
        return xml_response(render(container(player)))

    async def _player(self, request: Request) -> Response:
        if not self._authorized(request):
            return HTMLResponse(UNAUTHORIZED, 401)
        command = Command(
            request.url.path,
            {k: v for k, v in request.query_params.items() if k != "X-Plex-Token"},
            request.headers.get("X-Plex-Target-Client-Identifier", ""),
        )
        with self._lock:
            self.commands.append(command)
        if self.fail_status is not None:
            return html_error(self.fail_status)
        if request.url.path == "/player/timeline/poll":
            tls = [
                attrs(Element("Timeline"), type=k, state="stopped", itemType=k)
                for k in ("music", "photo", "video")
            ]
            cid = command.params.get("commandID", "0")
            return xml_response(render(container(*tls, commandID=cid, location="navigation")))
        return xml_response(response_ok())

    def start(self) -> FakePlayer:
        """Start listening; returns self."""
        app = Starlette(
            routes=[
                Route("/resources", self._resources),
                Route("/player/{rest:path}", self._player, methods=["GET", "POST", "PUT"]),
            ]
        )
        self._server = BackgroundServer(app)
        self.port = self._server.port
        self.url = f"http://127.0.0.1:{self.port}"
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakePlayer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["HEADER", "BackgroundServer", "FakePlayer", "html_error", "xml_response"]
