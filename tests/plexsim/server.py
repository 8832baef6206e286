"""PlexSim: a stateful fake Plex Media Server on loopback (Starlette on uvicorn in a thread).

Websocket notifications (``/:/websockets/notifications``) are JSON ``{"NotificationContainer": {...}}``:

* ``playing``: ``PlaySessionStateNotification`` list (sessionKey, clientIdentifier, ratingKey, key,
  viewOffset, playQueueItemID, state) — from start/update/stop_session.
* ``timeline``: ``TimelineEntry`` list (identifier, sectionID, itemID, type, title, state, metadataState,
  updatedAt).
* ``reachability``: ``ReachabilityNotification`` ``[{"reachability": true}]``.
* ``update.statechange``: ``StatusNotification`` ``[{"title", "description", "notificationName":
  "CLIENT_STATE_CHANGE", "clientIdentifier", "state"}]`` — a player connecting/disconnecting.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import time
from functools import lru_cache
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.plexsim import xml as X
from tests.plexsim.player import UNAUTHORIZED, BackgroundServer, html_error, xml_response
from tests.plexsim.state import Command, SimState

MALFORMED = X.HEADER + '<MediaContainer size="2"><Video ratingKey="1" title="trunc'
_METADATA_STATES = {0: "created", 1: "processing", 2: "matching", 3: "downloading", 4: "processing"}


@lru_cache(maxsize=64)
def jpeg(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour JPEG of the given size."""
    buf = io.BytesIO()
    Image.new("RGB", (max(1, width), max(1, height)), rgb).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _paging(request: Request) -> tuple[int, int | None]:
    """Container start/size from X-Plex-Container-* headers or query params."""

    def get(name: str) -> str | None:
        return request.headers.get(name) or request.query_params.get(name)

    start, size = get("X-Plex-Container-Start"), get("X-Plex-Container-Size")
    return int(start or 0), (int(size) if size else None)


class PlexSim(SimState):
    """A fake PMS: mutate it from the test thread, talk to it over HTTP/websocket at `url`."""

    def __init__(
        self,
        token: str = "sim-token",
        *,
        name: str = "Plexsim",
        version: str = "1.43.1.10611-1e34174b1",
        nfo_agent: bool = True,
        machine_id: str = "plexsim-0001",
        platform: str = "Linux",
    ) -> None:
        super().__init__()
        self.token, self.name, self.version, self.machine_id = token, name, version, machine_id
        self.platform, self.nfo_agent = platform, nfo_agent
        self.websocket_enabled = True
        self.url = ""
        self._fail: list[int] = []
        self._malformed = 0
        self._sockets: set[WebSocket] = set()
        self._server: BackgroundServer | None = None
        self._started = int(time.time())

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> PlexSim:
        """Start serving; returns once connections are accepted."""
        self._server = BackgroundServer(_SimApp(self))
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._server.start()
        return self

    def stop(self) -> None:
        """Close websockets and shut the server down."""
        if self._server is not None:
            self.drop_websockets()
            self._server.stop()
            self._server = None

    def __enter__(self) -> PlexSim:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- failure injection ----------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` HTTP requests with `status` (e.g. a restarting server)."""
        with self.lock:
            self._fail.extend([status] * count)

    def malformed_next(self, count: int) -> None:
        """Answer the next `count` HTTP requests with truncated XML."""
        with self.lock:
            self._malformed += count

    def _take_fault(self) -> Response | None:
        with self.lock:
            if self._fail:
                return html_error(self._fail.pop(0))
            if self._malformed:
                self._malformed -= 1
                return xml_response(MALFORMED)
        return None

    # -- websockets -----------------------------------------------------------------------------------
    def _notify(self, message: dict[str, Any]) -> None:
        self.push(message)

    def push(self, message: str | dict[str, Any]) -> None:
        """Send a raw message (dict -> JSON) to every connected websocket."""
        text = message if isinstance(message, str) else json.dumps(message)
        if self._server is not None:
            self._server.run_coroutine(self._broadcast(text))

    async def _broadcast(self, text: str) -> None:
        for ws in list(self._sockets):
            try:
                await ws.send_text(text)
            except Exception:
                self._sockets.discard(ws)

    def push_timeline(
        self, item_id: str, section_id: str, *, type: int = 4, state: int = 5, title: str = ""
    ) -> None:
        """Push a library `timeline` notification (state 0 created, 5 processed, 9 deleted)."""
        entry = {
            "identifier": X.LIBRARY_ID,
            "sectionID": section_id,
            "itemID": item_id,
            "type": type,
            "title": title,
            "state": state,
            "metadataState": _METADATA_STATES.get(state, ""),
            "updatedAt": int(time.time()),
        }
        if state == 9:
            entry["metadataState"] = "deleted"
        self.push(X.notification("timeline", "TimelineEntry", [entry]))

    def push_reachability(self, reachable: bool = True) -> None:
        """Push a `reachability` notification."""
        self.push(X.notification("reachability", "ReachabilityNotification", [{"reachability": reachable}]))

    def push_statechange(self, client_id: str, state: str = "connected") -> None:
        """Push an `update.statechange` StatusNotification naming a client and its state."""
        entry = {
            "title": f"Client {state}",
            "description": f"{client_id} is {state}",
            "notificationName": "CLIENT_STATE_CHANGE",
            "clientIdentifier": client_id,
            "state": state,
        }
        self.push(X.notification("update.statechange", "StatusNotification", [entry]))

    def drop_websockets(self) -> None:
        """Close every websocket connection now; the server keeps running."""
        if self._server is not None:
            self._server.run_coroutine(self._close_all())

    async def _close_all(self) -> None:
        for ws in list(self._sockets):
            self._sockets.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close(code=1001)

    def websocket_count(self) -> int:
        """Websocket clients connected right now."""
        return len(self._sockets)

    def wait_websockets(self, n: int = 1, timeout: float = 5.0) -> None:
        """Block until at least `n` websockets are connected."""
        deadline = time.monotonic() + timeout
        while self.websocket_count() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.websocket_count()} websockets connected, wanted {n}")
            time.sleep(0.01)

    def info(self) -> dict[str, Any]:
        """Attributes of GET / and /identity."""
        return {
            "started": self._started,
            "attrs": {
                "friendlyName": self.name,
                "machineIdentifier": self.machine_id,
                "version": self.version,
                "platform": self.platform,
                "platformVersion": "6.1.0",
            },
        }


class _SimApp:
    """The ASGI app: records requests, injects faults, checks the token, then routes."""

    def __init__(self, sim: PlexSim) -> None:
        self.sim = sim
        routes: list[Any] = [
            *build_routes(sim),
            WebSocketRoute("/:/websockets/notifications", self.websocket),
        ]
        self.app = Starlette(routes=routes)

    def authorized(self, headers: Any, query: Any) -> bool:
        return (headers.get("X-Plex-Token") or query.get("X-Plex-Token")) == self.sim.token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            with self.sim.lock:
                self.sim.requests.append((request.method, request.url.path))
            response = self.sim._take_fault()
            if response is None and not self.authorized(request.headers, request.query_params):
                response = HTMLResponse(UNAUTHORIZED, 401)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def websocket(self, ws: WebSocket) -> None:
        if not self.authorized(ws.headers, ws.query_params):
            await ws.send_denial_response(HTMLResponse(UNAUTHORIZED, 401))
            return
        if not self.sim.websocket_enabled:
            await ws.send_denial_response(html_error(503))
            return
        await ws.accept()
        self.sim._sockets.add(ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except (RuntimeError, asyncio.CancelledError):
            pass
        finally:
            self.sim._sockets.discard(ws)


def record_command(sim: PlexSim, request: Request) -> Command:
    """Record a proxied /player/* command."""
    cmd = Command(
        request.url.path,
        {k: v for k, v in request.query_params.items() if k != "X-Plex-Token"},
        request.headers.get("X-Plex-Target-Client-Identifier", ""),
    )
    with sim.lock:
        sim.proxy_commands.append(cmd)
    return cmd


def build_routes(sim: PlexSim) -> list[Route]:
    """Every HTTP endpoint of the fake PMS."""

    def xml(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        response = xml_response(body, status)
        response.headers.update(headers or {})
        return response

    async def root(request: Request) -> Response:
        with sim.lock:
            return xml(X.server_root(sim, sim.info()))

    async def identity(request: Request) -> Response:
        return xml(X.render(X.attrs(Element("MediaContainer"), size=0, claimed=True, **sim.info()["attrs"])))

    async def sections(request: Request) -> Response:
        with sim.lock:
            els = [X.section_element(s) for s in sim.sections.values()]
        return xml(
            X.render(X.container(*els, allowSync=False, title1="Plex Library", identifier=X.LIBRARY_ID))
        )

    async def add_section(request: Request) -> Response:
        q = request.query_params
        locations = q.getlist("location")
        needed = [q.get(k) for k in ("name", "type", "agent", "scanner")]
        if not all(needed) or not locations or not all(sim.path_exists(p) for p in locations):
            return html_error(400)
        sid = sim.add_section(
            q["name"], q["type"], locations, q["agent"], q["scanner"], q.get("language", "en-US")
        )
        with sim.lock:
            body = X.render(X.container(X.section_element(sim.sections[sid])))
        return xml(body, 201, {"Location": f"/library/sections/{sid}"})

    async def browse(request: Request) -> Response:
        encoded = request.path_params.get("b64")
        path = base64.b64decode(encoded).decode() if encoded else None
        with sim.lock:
            return xml(X.browse_container(sim, path, request.query_params.get("includeFiles", "1") != "0"))

    async def agents(request: Request) -> Response:
        mtype = request.query_params.get("mediaType")
        return xml(X.agents_container(int(mtype) if mtype else None, sim.nfo_agent))

    def section_or_404(request: Request) -> str | None:
        sid = request.path_params["sid"]
        return sid if sid in sim.sections else None

    async def refresh(request: Request) -> Response:
        sid = request.path_params["sid"]
        if sid != "all" and section_or_404(request) is None:
            return html_error(404)
        if request.method != "DELETE":
            with sim.lock:
                sim.refresh_calls.append((sid, request.query_params.get("path")))
        return Response(status_code=200)

    async def empty_trash(request: Request) -> Response:
        if section_or_404(request) is None:
            return html_error(404)
        with sim.lock:
            sim.empty_trash_calls.append(request.path_params["sid"])
        return Response(status_code=200)

    async def section_all(request: Request) -> Response:
        sid = section_or_404(request)
        if sid is None:
            return html_error(404)
        with sim.lock:
            section = sim.sections[sid]
            default = "2" if section.type == "show" else "1"
            want = int(request.query_params.get("type", default))
            items = [i for i in sim.items.values() if i.section_id == sid and X.KIND_TYPES[i.kind] == want]
            items.sort(key=lambda i: (i.title.lower(), int(i.rating_key)))
            start, size = _paging(request)
            return xml(X.items_container(sim, items, start, size, librarySectionID=sid, title1=section.title))

    async def metadata(request: Request) -> Response:
        keys, sub = request.path_params["keys"].split(","), request.path_params.get("sub")
        if request.method == "DELETE":
            with sim.lock:
                if keys[0] not in sim.items:
                    return html_error(404)
                sim.delete_item(keys[0])
                sim.deleted.append(keys[0])
            return Response(status_code=200)
        with sim.lock:
            if any(k not in sim.items for k in keys):
                return html_error(404)
            if sub == "children":
                items = sim.children(keys[0])
            elif sub == "allLeaves":
                items = sim.leaves(keys[0])
            else:
                items = [sim.items[k] for k in keys]
            start, size = _paging(request)
            return xml(
                X.items_container(
                    sim, items, start, size, librarySectionID=items[0].section_id if items else None
                )
            )

    async def artwork(request: Request) -> Response:
        key, kind = request.path_params["key"], request.path_params["kind"]
        if kind not in ("thumb", "art"):
            return html_error(404)
        width, height = (300, 450) if kind == "thumb" else (640, 360)
        return Response(jpeg(width, height, X.colour(key)), media_type="image/jpeg")

    async def transcode_photo(request: Request) -> Response:
        q = request.query_params
        try:
            width, height = int(q["width"]), int(q["height"])
        except (KeyError, ValueError):
            return html_error(400)
        return Response(jpeg(width, height, X.colour(q.get("url", ""))), media_type="image/jpeg")

    async def scrobble(request: Request) -> Response:
        key = request.query_params.get("key", "")
        with sim.lock:
            if key not in sim.items:
                return html_error(404)
            if request.url.path.endswith("/unscrobble"):
                sim.mark_unwatched(key)
            else:
                sim.mark_watched(key)
                sim.scrobbles.append(key)
        return Response(status_code=200)

    async def status_sessions(request: Request) -> Response:
        with sim.lock:
            els = [X.session_element(sim, s) for s in sim.sessions.values()]
        return xml(X.render(X.container(*els)))

    async def history(request: Request) -> Response:
        q = request.query_params
        with sim.lock:
            rows = list(sim.history)
        rk = q.get("metadataItemID") or q.get("ratingKey")
        filters = {"accountID": "account_id", "librarySectionID": "section_id"}
        rows = [r for r in rows if not rk or r.rating_key == rk]
        rows = [r for r in rows if all(str(getattr(r, a)) == q[k] for k, a in filters.items() if k in q)]
        mindate = q.get("viewedAt>") or q.get("mindate")
        rows = [r for r in rows if not mindate or r.viewed_at > int(mindate)]
        rows.sort(key=lambda r: (r.viewed_at, r.id), reverse=q.get("sort", "viewedAt:desc").endswith(":desc"))
        start, size = _paging(request)
        page = rows[start : start + size if size is not None else None]
        return xml(
            X.render(X.container(*(X.history_element(r) for r in page), totalSize=len(rows), offset=start))
        )

    async def delete_history(request: Request) -> Response:
        with sim.lock:
            sim.history = [h for h in sim.history if str(h.id) != request.path_params["hid"]]
        return Response(status_code=200)

    async def accounts(request: Request) -> Response:
        with sim.lock:
            els = [
                X.attrs(Element("Account"), id=i, key=f"/accounts/{i}", name=n, thumb="")
                for i, n in sorted(sim.accounts.items())
            ]
        return xml(X.render(X.container(*els, identifier=X.LIBRARY_ID)))

    async def transcode_sessions(request: Request) -> Response:
        with sim.lock:
            els = [X.transcode_element(s, sim.items[s.rating_key]) for s in sim.transcoding()]
        return xml(X.render(X.container(*els)))

    async def clients(request: Request) -> Response:
        with sim.lock:
            return xml(X.clients_container(sim))

    async def player(request: Request) -> Response:
        target = request.headers.get("X-Plex-Target-Client-Identifier", "")
        with sim.lock:
            if target not in sim.clients:
                return html_error(400)
        record_command(sim, request)
        if request.url.path == "/player/timeline/poll":
            with sim.lock:
                return xml(X.timelines(sim, target))
        return xml(X.response_ok())

    async def dvrs(request: Request) -> Response:
        return xml(X.dvrs_container(sim.lineup_channels))

    async def lineup(request: Request) -> Response:
        return xml(X.lineup_container(request.query_params.get("lineup", X.LINEUP), sim.lineup_channels))

    return [
        Route("/", root),
        Route("/identity", identity),
        Route("/library", sections),
        Route("/library/sections", sections),
        Route("/library/sections", add_section, methods=["POST"]),
        Route("/services/browse", browse),
        Route("/services/browse/{b64:path}", browse),
        Route("/system/agents", agents),
        Route("/library/sections/{sid}/refresh", refresh, methods=["GET", "POST", "DELETE"]),
        Route("/library/sections/{sid}/emptyTrash", empty_trash, methods=["PUT"]),
        Route("/library/sections/{sid}/all", section_all),
        Route("/library/metadata/{key}/{kind:str}/{stamp}", artwork),
        Route("/library/metadata/{keys}", metadata, methods=["GET", "DELETE"]),
        Route("/library/metadata/{keys}/{sub}", metadata),
        Route("/photo/:/transcode", transcode_photo),
        Route("/:/scrobble", scrobble, methods=["GET", "PUT"]),
        Route("/:/unscrobble", scrobble, methods=["GET", "PUT"]),
        Route("/status/sessions", status_sessions),
        Route("/status/sessions/history/all", history),
        Route("/status/sessions/history/{hid}", delete_history, methods=["DELETE"]),
        Route("/accounts", accounts),
        Route("/transcode/sessions", transcode_sessions),
        Route("/clients", clients),
        Route("/player/{rest:path}", player, methods=["GET", "POST", "PUT"]),
        Route("/livetv/dvrs", dvrs),
        Route("/livetv/epg/lineupchannels", lineup),
    ]
