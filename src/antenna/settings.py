"""Settings: ``antenna.toml`` in the data dir, each key overridable by an ``ANTENNA_<KEY>`` variable.

Built once at start and passed down; nothing imports settings for values.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from antenna.errors import SettingsError
from antenna.redact import redact

SETTINGS_FILE = "antenna.toml"
ENV_PREFIX = "ANTENNA_"
# Environment variables that share the prefix but are not settings.
NON_SETTING_ENV = frozenset({"ANTENNA_DATA", "ANTENNA_REQUIRE_SERVICES", "ANTENNA_TEST_PG_URL"})
# Keys that are never written to antenna.toml with their value (env or hand-edited only).
SECRET_KEYS = frozenset({"admin_password"})


class Settings(BaseModel):
    """Every setting Antenna reads, with its default and meaning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: int = Field(8765, ge=1, le=65535, description="Port of the web server.")
    database_url: str = Field(
        "",
        description="Empty: SQLite file in the data dir. Or postgresql+psycopg://user@host:5432/dbname.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe level written to the console and the log file."
    )
    log_max_bytes: int = Field(5_000_000, ge=10_000, description="Rotate the log file at this size.")
    log_backups: int = Field(3, ge=0, le=100, description="How many rotated log files to keep.")
    timezone: str = Field("", description="Default IANA timezone for schedules. Empty: the machine's.")
    admin_password: SecretStr | None = Field(
        None, description="Web UI password. Better set with ANTENNA_ADMIN_PASSWORD; generated if unset."
    )
    session_days: int = Field(30, ge=1, le=365, description="How long a web login lasts.")
    media_token: SecretStr | None = Field(
        None, description="Optional secret ?token= for URLs fetched without login (Plex art; IPTV, VOD)."
    )
    backup_keep: int = Field(7, ge=1, le=1000, description="How many backup archives to keep.")
    backup_pages_per_step: int = Field(
        1024, ge=1, description="SQLite pages copied per backup step (smaller: shorter locks)."
    )
    backup_step_sleep_ms: int = Field(
        0, ge=0, le=10_000, description="Pause between backup steps so a busy server keeps writing."
    )
    trash_retention_days: int = Field(30, ge=0, le=3650, description="Days before trashed files are purged.")
    job_concurrency: int = Field(2, ge=1, le=64, description="Jobs of different kinds running at once.")
    public_url: str = Field(
        "", description="How others reach this server (art URLs in MQTT). Empty: http://<host>:<port>."
    )
    plex_poll_seconds: float = Field(
        20.0,
        ge=1,
        le=3600,
        description="Plex reconcile poll; also the poll rate while the websocket is down.",
    )
    plex_event_retention_days: int = Field(30, ge=1, le=3650, description="Days of Plex event history kept.")
    plex_art_placeholder: str = Field(
        "", description="Image file served as now-playing art when nothing plays. Empty: a built-in one."
    )

    podcasts_library: str = Field(
        "",
        description="Folder the podcast shows are written into ([podcasts] library). Empty: <data>/podcasts.",
    )
    podcasts_check_schedule: str = Field("every 12h", description="When feeds are checked for new episodes.")
    podcasts_housekeep_schedule: str = Field(
        "daily 05:00", description="When quotas, expiry and watched removal run."
    )
    podcasts_concurrency: int = Field(3, ge=1, le=32, description="Podcast downloads running at once.")
    podcasts_per_host: int = Field(2, ge=1, le=32, description="Podcast downloads at once from one host.")
    podcasts_search_url: str = Field(
        "https://itunes.apple.com/search", description="Podcast directory (iTunes Search API format)."
    )
    podcasts_keep: int = Field(0, ge=0, description="Episodes kept per podcast by default. 0: all.")
    podcasts_order: Literal["newest", "oldest"] = Field(
        "newest", description="Which episodes the quota keeps by default."
    )
    podcasts_delete_watched: bool = Field(False, description="Remove episodes watched in Plex by default.")
    podcasts_watched_grace_days: int = Field(
        0, ge=0, description="Days a watched episode stays before removal."
    )
    podcasts_expire_days: int = Field(
        0, ge=0, description="Remove episodes older than this by default. 0: never."
    )
    podcasts_backfill: bool = Field(True, description="Download older episodes when some are removed.")
    podcasts_audio_to_video: bool = Field(
        False,
        description="Turn audio episodes into MP4 with the artwork as video, so Plex TV libraries show them.",
    )
    podcasts_kodi_safe: bool = Field(
        False, description="Strip emoji and other 4-byte characters from NFO text."
    )
    podcasts_plex_server: str = Field(
        "", description="Plex server (name) asked for watched state and refreshes. Empty: the first one."
    )

    data_dir: Path = Field(Path("data"), exclude=True, description="Set by --data; not a file key.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)"
                ) from exc
        return value

    @property
    def base_url(self) -> str:
        """Return the URL other machines use to reach this server."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def podcast_library(self) -> Path:
        """Return the folder podcast shows go into."""
        return (
            Path(self.podcasts_library).expanduser() if self.podcasts_library else self.data_dir / "podcasts"
        )

    @property
    def effective_database_url(self) -> str:
        """Return the database URL, defaulting to the SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'antenna.db').resolve()}"


def setting_keys() -> list[str]:
    """Return the keys a user may set, in declaration order."""
    return [name for name in Settings.model_fields if name != "data_dir"]


def load_settings(data_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read antenna.toml (if present) and ANTENNA_* overrides; raise SettingsError naming the bad key."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    path = data_dir / SETTINGS_FILE
    if path.exists():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc}).", "Fix the file or delete it.") from exc
        except OSError as exc:
            raise SettingsError(f"{path}: cannot be read ({exc.strerror}).") from exc
        for key, value in _flatten(file_values).items():
            _check_known(key, f"{path}: unknown key {key!r}")
            values[key] = value
            origin[key] = f"{path}: key {key!r}"
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in NON_SETTING_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        _check_known(key, f"environment: unknown setting {name}")
        values[key] = raw
        origin[key] = f"environment variable {name}"
    try:
        return Settings.model_validate({**values, "data_dir": data_dir})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        where = origin.get(key, f"setting {key!r}")
        raise SettingsError(f"{where}: {first['msg']}.", "Fix it and start again.") from None


def _flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn TOML tables into flat keys: `[podcasts] library = …` is the key `podcasts_library`."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                flat[f"{key}_{inner}"] = inner_value
        else:
            flat[key] = value
    return flat


def _check_known(key: str, message: str) -> None:
    keys = setting_keys()
    if key in keys:
        return
    close = difflib.get_close_matches(key, keys, n=1)
    hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(keys)}."
    raise SettingsError(message + ".", hint)


def default_toml() -> str:
    """Return antenna.toml as written on first start: every key commented out with its default."""
    lines = [
        "# Antenna settings. Uncomment a line to change it; ANTENNA_<KEY> variables override this file.",
        "# Restart `antenna serve` after editing.",
        "",
    ]
    for key in setting_keys():
        field = Settings.model_fields[key]
        lines.append(f"# {field.description}")
        default = field.default
        if key in SECRET_KEYS or isinstance(default, SecretStr) or default is None:
            lines.append(f'# {key} = ""')
        else:
            lines.append(f"# {key} = {_toml_value(default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def redacted_view(settings: Settings) -> dict[str, str]:
    """Return every setting as display text, secrets masked."""
    out: dict[str, str] = {}
    for key in setting_keys():
        value = getattr(settings, key)
        if isinstance(value, SecretStr):
            out[key] = "********"
        elif key == "database_url" and value:
            out[key] = redact(value)
        else:
            out[key] = "" if value is None else str(value)
    out["data_dir"] = str(settings.data_dir)
    return out
