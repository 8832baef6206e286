"""A read-only Xtream Codes client: account check, live categories and streams, and the XMLTV guide."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from antenna import __version__
from antenna.errors import Unavailable, UserError
from antenna.formats.detect import detect
from antenna.formats.m3u import M3UEntry
from antenna.redact import redact

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"Antenna/{__version__}"
CHUNK = 1024 * 1024
# A live-stream list of 100k channels is ~40 MB of JSON; anything far past that is not an Xtream answer.
MAX_JSON_BYTES = 512 * 1024 * 1024
CREDENTIALS_HINT = "Check the username and password; some providers also answer 403 to a blocked User-Agent."


@dataclass(frozen=True, slots=True)
class XtreamAccount:
    """Where an Xtream Codes panel is and who logs in."""

    server: str
    username: str
    password: str = field(repr=False)


def normalise_server(server: str) -> str:
    """Return scheme://host[:port][/prefix] without a trailing slash; no scheme means http://."""
    text = server.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    # Users paste the whole panel URL they were given (…/player_api.php?username=…, …/get.php?…).
    if path.endswith(".php"):
        path = path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def _text(value: Any) -> str:
    """Return a field as text: numbers as plain digits, None and containers as ""."""
    if value is None or isinstance(value, dict | list | bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _int(value: Any, default: int = 0) -> int:
    """Return an integer field that may arrive as a number, a numeric string, or null."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return default


def _items(answer: Any) -> list[Any]:
    """Return an answer's list; some panels send {"0": {...}, "1": {...}} instead of a JSON array."""
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict) and answer and all(isinstance(v, dict) for v in answer.values()):
        return list(answer.values())
    return []


class XtreamClient:
    """Talk to one Xtream Codes account; every error is one line without the username or password."""

    def __init__(
        self, account: XtreamAccount, *, timeout: float = 30.0, user_agent: str = "", output: str = "ts"
    ) -> None:
        self.account = account
        self.server = normalise_server(account.server)
        self.output = output.lstrip(".") or "ts"
        self.timeout = timeout
        self.skipped = 0  # entries the last live_streams() call could not use
        self._secrets = tuple(s for s in (account.username, account.password) if s)
        self._categories: dict[str, str] | None = None
        self._client = httpx.Client(
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": user_agent or DEFAULT_USER_AGENT, "Accept-Encoding": "gzip"},
        )

    def __enter__(self) -> XtreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    # -- messages -----------------------------------------------------------------------------------------

    @property
    def shown(self) -> str:
        """Return how messages name the panel: its address without any credentials."""
        return f"Xtream server {redact(self.server, self._secrets)}"

    def _clean(self, text: str) -> str:
        """Return text on one line with URLs' credentials and the account's username and password masked."""
        out = " ".join(redact(text, self._secrets).split())
        for secret in self._secrets:
            # redact() leaves secrets under 4 characters alone (too many false hits); a message must not.
            out = out.replace(secret, "***")
        return out

    def _reason(self, exc: httpx.HTTPError) -> str:
        """Return the words of a transport error, without the URL httpx sometimes puts in them."""
        return self._clean(str(exc) or type(exc).__name__).rstrip(".")

    # -- requests -----------------------------------------------------------------------------------------

    def _params(self, **extra: str) -> dict[str, str]:
        return {"username": self.account.username, "password": self.account.password, **extra}

    def _check_status(self, response: httpx.Response, what: str) -> None:
        """Turn an HTTP error status into a one-line UserError."""
        status = response.status_code
        if status in (401, 403):
            raise UserError(
                f"{self.shown} refused the username or password ({status}) for {what}.", CREDENTIALS_HINT
            )
        if status >= 400:
            raise Unavailable(f"{self.shown} answered {status} {response.reason_phrase} for {what}.")

    @staticmethod
    def _read(response: httpx.Response) -> bytes:
        """Read a JSON body, refusing one past MAX_JSON_BYTES instead of filling memory."""
        body = bytearray()
        for chunk in response.iter_bytes(CHUNK):
            body += chunk
            if len(body) > MAX_JSON_BYTES:
                raise ValueError(f"more than {MAX_JSON_BYTES // (1024 * 1024)} MB")
        return bytes(body)

    def _get_json(self, what: str, **params: str) -> Any:
        """GET player_api.php with the account and params; return the decoded JSON."""
        try:
            with self._client.stream(
                "GET", f"{self.server}/player_api.php", params=self._params(**params)
            ) as response:
                self._check_status(response, what)
                body = self._read(response)
        except httpx.TimeoutException:
            raise Unavailable(f"{self.shown} did not answer {what} within {self.timeout:g} s.") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.shown} could not be reached for {what}: {self._reason(exc)}.") from None
        except ValueError as exc:
            raise Unavailable(f"{self.shown} sent {what} of {exc}; that is not an Xtream answer.") from None
        if detect(body[:4096]) == "html":
            raise Unavailable(
                f"{self.shown} answered a web page, not JSON, for {what}.",
                "The provider may be blocking this account, address or User-Agent.",
            )
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            snippet = self._clean(body[:80].decode("utf-8", errors="replace"))
            said = f" (it said {snippet!r})" if snippet else " (an empty body)"
            raise Unavailable(
                f"{self.shown} answered {what} with something that is not JSON{said}."
            ) from None

    def _check_account(self, answer: Any, what: str) -> None:
        """Raise when an answer is an account refusal ({"user_info": {"auth": 0, …}}) instead of data."""
        if not isinstance(answer, dict) or not isinstance(answer.get("user_info"), dict):
            return
        info: Mapping[str, Any] = answer["user_info"]
        status = _text(info.get("status"))
        if _int(info.get("auth"), 1) == 0:
            why = status or "the username or password was not accepted"
            raise UserError(f"{self.shown}: the Xtream account is not active ({why}) for {what}.")
        if status and status.lower() != "active":
            message = self._clean(_text(info.get("message")))[:120]
            detail = f"{status}: {message}" if message else status
            raise UserError(
                f"{self.shown}: the Xtream account is not active ({detail}).",
                "Renew or re-enable it with the provider.",
            )

    # -- the API ------------------------------------------------------------------------------------------

    def authenticate(self) -> dict[str, Any]:
        """Check the account and return the panel's answer (user_info and server_info)."""
        what = "the account check"
        answer = self._get_json(what)
        if not isinstance(answer, dict) or not isinstance(answer.get("user_info"), dict):
            raise Unavailable(f"{self.shown} did not answer the account check like an Xtream panel.")
        self._check_account(answer, what)
        if "auth" not in answer["user_info"] and "status" not in answer["user_info"]:
            raise Unavailable(f"{self.shown} did not say whether the account is active.")
        return answer

    def live_categories(self) -> list[tuple[str, str]]:
        """Return the live categories as (category_id, name)."""
        what = "the live categories"
        answer = self._get_json(what, action="get_live_categories")
        self._check_account(answer, what)
        out: list[tuple[str, str]] = []
        for item in _items(answer):
            if not isinstance(item, dict):
                continue
            category_id, name = _text(item.get("category_id")), _text(item.get("category_name"))
            if category_id:
                out.append((category_id, name or category_id))
        self._categories = dict(out)
        return out

    def live_url(self, stream_id: str) -> str:
        """Return the play URL of a live stream (it carries the credentials; redact before showing it)."""
        user, password = (quote(s, safe="") for s in (self.account.username, self.account.password))
        return f"{self.server}/live/{user}/{password}/{quote(stream_id, safe='')}.{self.output}"

    def live_streams(self) -> list[M3UEntry]:
        """Return the live channels as M3U entries; unusable entries are skipped and counted in `skipped`."""
        what = "the live streams"
        categories = self._categories if self._categories is not None else dict(self.live_categories())
        answer = self._get_json(what, action="get_live_streams")
        self._check_account(answer, what)
        items = _items(answer)
        if not items and answer not in ([], {}):
            log.warning("%s answered %s with %s, not a list", self.shown, what, type(answer).__name__)
        entries: list[M3UEntry] = []
        self.skipped = 0
        for item in items:
            entry = self._entry(item, categories) if isinstance(item, dict) else None
            if entry is None:
                self.skipped += 1
            else:
                entries.append(entry)
        if self.skipped:
            log.warning("%s: skipped %d live streams without a name or stream id", self.shown, self.skipped)
        return entries

    def _entry(self, item: Mapping[str, Any], categories: Mapping[str, str]) -> M3UEntry | None:
        """Return one live stream as an M3U entry, or None when it has no name or stream id."""
        name, stream_id = _text(item.get("name")), _text(item.get("stream_id"))
        if not name or not stream_id:
            return None
        category_id = _text(item.get("category_id"))
        if not category_id and isinstance(item.get("category_ids"), list) and item["category_ids"]:
            category_id = _text(item["category_ids"][0])
        group = categories.get(category_id, "")
        attrs: list[tuple[str, str]] = []
        for key, value in (
            ("tvg-id", _text(item.get("epg_channel_id"))),
            ("tvg-name", name),
            ("tvg-logo", _text(item.get("stream_icon"))),
            ("tvg-chno", _text(item.get("num"))),
            ("group-title", group),
        ):
            if value:
                attrs.append((key, value))
        if _int(item.get("tv_archive")) == 1:
            attrs.append(("catchup", "xc"))
            days = _int(item.get("tv_archive_duration"))
            if days > 0:
                attrs.append(("catchup-days", str(days)))
        return M3UEntry(
            name=name, url=self.live_url(stream_id), attrs=tuple(attrs), groups=(group,) if group else ()
        )

    def download_guide(self, out: BinaryIO) -> None:
        """Stream xmltv.php into out; on an error out holds a partial guide, so write it atomically."""
        what = "the guide"
        try:
            with self._client.stream("GET", f"{self.server}/xmltv.php", params=self._params()) as response:
                self._check_status(response, what)
                self._copy(response.iter_bytes(CHUNK), out)
        except httpx.TimeoutException:
            raise Unavailable(f"{self.shown} did not send {what} within {self.timeout:g} s.") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.shown} could not send {what}: {self._reason(exc)}.") from None

    def _copy(self, chunks: Iterator[bytes], out: BinaryIO) -> None:
        """Copy the guide into out, refusing a web page or an empty answer before writing anything."""
        first = True
        for chunk in chunks:
            if not chunk:
                continue
            if first:
                kind = detect(chunk[:4096])
                if kind == "html":
                    raise Unavailable(
                        f"{self.shown} answered a web page, not XMLTV, for the guide.",
                        "The provider may be blocking this account, address or User-Agent.",
                    )
                if chunk.lstrip()[:1] in (b"{", b"["):
                    # Panels answer {"user_info": {"auth": 0}} or [] here when the account is refused.
                    raise Unavailable(f"{self.shown} answered the guide with JSON, not XMLTV.")
                first = False
            out.write(chunk)
        if first:
            raise Unavailable(f"{self.shown} sent an empty guide.")
