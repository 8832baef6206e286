"""One error tree for all of Antenna.

AntennaError
├── UserError            something the user can fix: CLI exit 2, HTTP 4xx
│   ├── SettingsError    antenna.toml or an ANTENNA_* variable is wrong
│   ├── NotFound         a named thing does not exist (HTTP 404)
│   ├── Conflict         the thing is busy or already exists (HTTP 409)
│   ├── AuthError        wrong password or API key (HTTP 401)
│   ├── UnsafePath       a path would leave its root
│   └── DataDirError     the data dir cannot be used (not writable, locked)
└── (anything else)      a bug: logged once with its traceback, CLI exit 1, HTTP 500
"""

from __future__ import annotations


class AntennaError(Exception):
    """Base of every error Antenna raises on purpose."""


class UserError(AntennaError):
    """A problem the user can fix; carries what went wrong and what to do."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message

    def __reduce__(self) -> tuple[type[UserError], tuple[str, str]]:
        # Keep the hint when the error crosses a process boundary (feeds are parsed in worker processes).
        return (type(self), (self.message, self.hint))


class SettingsError(UserError):
    """A setting in antenna.toml or the environment is invalid."""


class NotFound(UserError):
    """A named thing does not exist."""

    http_status = 404


class Conflict(UserError):
    """The thing is busy, running, or already exists."""

    http_status = 409


class AuthError(UserError):
    """Wrong password or API key."""

    http_status = 401


class UnsafePath(UserError):
    """A path would leave its root or is not a usable name."""


class DataDirError(UserError):
    """The data dir cannot be used: not writable, or locked by another process."""


class Unavailable(UserError):
    """An outside system (the database, a server) does not answer."""

    http_status = 503
