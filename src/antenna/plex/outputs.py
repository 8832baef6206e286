"""Where Plex events go: outgoing webhooks, the MQTT broker, and the stored event history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from antenna.db.repos.plex import Columns, PlexRepository
from antenna.errors import UserError
from antenna.plex.models import EventType, MqttConfig, WebhookConfig

EVENT_TYPES = tuple(t.value for t in EventType)


@dataclass(frozen=True, slots=True)
class WebhookView:
    """A webhook as shown to users: the secret is only said to be set."""

    id: int
    name: str
    url: str
    has_secret: bool
    events: tuple[str, ...]
    enabled: bool
    last_status: str
    last_delivery_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "has_secret": self.has_secret,
            "events": list(self.events),
            "enabled": self.enabled,
            "last_status": self.last_status,
            "last_delivery_at": self.last_delivery_at.isoformat() if self.last_delivery_at else None,
        }


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event from the history."""

    id: int
    type: str
    server_id: int
    server_name: str
    at: datetime
    client_id: str
    slot: int | None
    user: str
    title: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**{k: getattr(self, k) for k in self.__slots__}, "at": self.at.isoformat()}


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    """Return the event filter, refusing unknown event names with the list of valid ones."""
    chosen = tuple(dict.fromkeys(e.strip() for e in events if e.strip()))
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise UserError(
            f"Unknown event type(s): {', '.join(unknown)}.", f"Choose from: {', '.join(EVENT_TYPES)}."
        )
    return chosen


def check_webhook_url(url: str) -> str:
    """Return the URL or raise a UserError when it is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(f"{url!r} is not an http(s) URL.", "Example: https://example.org/hooks/plex")
    return url.strip()


class PlexOutputs:
    """Reads and edits webhooks, the MQTT settings and the event history."""

    def __init__(self, repo: PlexRepository) -> None:
        self.repo = repo

    def webhooks(self) -> list[WebhookView]:
        """Return every webhook."""
        return [_webhook_view(row) for row in self.repo.webhooks()]

    def add_webhook(
        self, name: str, url: str, *, secret: str = "", events: Iterable[str] = (), enabled: bool = True
    ) -> WebhookView:
        """Add a webhook."""
        if not name.strip():
            raise UserError("A webhook needs a name.")
        row = self.repo.add_webhook(
            {
                "name": name.strip(),
                "url": check_webhook_url(url),
                "secret": secret,
                "events": list(check_events(events)),
                "enabled": enabled,
            }
        )
        return _webhook_view(row)

    def update_webhook(self, hook_id: int, **changes: Any) -> None:
        """Change a webhook; an empty secret keeps the stored one unless clear_secret is given."""
        values = {k: v for k, v in changes.items() if k in {"name", "url", "secret", "events", "enabled"}}
        if "url" in values:
            values["url"] = check_webhook_url(values["url"])
        if "events" in values:
            values["events"] = list(check_events(values["events"]))
        if not values.get("secret") and not changes.get("clear_secret"):
            values.pop("secret", None)
        self.repo.update_webhook(hook_id, values)

    def delete_webhook(self, hook_id: int) -> None:
        """Remove a webhook."""
        self.repo.delete_webhook(hook_id)

    def mqtt(self) -> MqttConfig:
        """Return the MQTT settings."""
        row = self.repo.mqtt()
        return MqttConfig(**{k: v for k, v in row.items() if k != "id"}) if row else MqttConfig()

    def save_mqtt(self, config: MqttConfig, *, keep_password: bool = True) -> MqttConfig:
        """Store MQTT settings; an empty password keeps the stored one when keep_password is set."""
        if not config.host.strip():
            raise UserError("The MQTT broker needs a host.", "Example: 127.0.0.1")
        if not 1 <= config.port <= 65535:
            raise UserError(
                f"MQTT port {config.port} is out of range.", "The usual port is 1883 (8883 with TLS)."
            )
        for label, prefix in (
            ("topic prefix", config.topic_prefix),
            ("discovery prefix", config.discovery_prefix),
        ):
            if not prefix.strip("/ ") or any(ch in prefix for ch in "+#"):
                raise UserError(
                    f"The MQTT {label} {prefix!r} is not usable.", "Use plain words, e.g. antenna."
                )
        values = {
            "enabled": config.enabled,
            "host": config.host.strip(),
            "port": config.port,
            "username": config.username,
            "tls": config.tls,
            "topic_prefix": config.topic_prefix.strip("/ "),
            "discovery_prefix": config.discovery_prefix.strip("/ "),
            "discovery": config.discovery,
        }
        if config.password or not keep_password:
            values["password"] = config.password
        self.repo.save_mqtt(values)
        return self.mqtt()

    def events(
        self,
        *,
        types: Iterable[str] = (),
        server_id: int | None = None,
        text: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[StoredEvent], int]:
        """Return a page of stored events (newest first) and how many match."""
        rows, total = self.repo.events(
            types=check_events(types), server_id=server_id, text=text.strip(), limit=limit, offset=offset
        )
        return [StoredEvent(**row) for row in rows], total


def _webhook_view(row: Columns) -> WebhookView:
    return WebhookView(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        has_secret=bool(row["secret"]),
        events=tuple(row["events"] or ()),
        enabled=row["enabled"],
        last_status=row["last_status"],
        last_delivery_at=row["last_delivery_at"],
    )


def webhook_config(row: Columns) -> WebhookConfig:
    """Build a WebhookConfig (with its secret) from its stored columns."""
    return WebhookConfig(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        secret=row["secret"],
        events=tuple(row["events"] or ()),
        enabled=row["enabled"],
    )
