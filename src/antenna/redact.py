"""Secret redaction for logs, the UI and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"

# user:password@ inside any URL
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s:]+(?::[^/@\s]*)?)@")
# ?token=…, &password=…, X-Plex-Token=…, api_key: … and friends
_SECRET_PARAMS = re.compile(
    r"(?i)(?P<key>(?:x-plex-token|x-api-key|api[_-]?key|apikey|token|password|passwd|pass|secret|"
    r"access_token|auth)[\"']?\s*[=:]\s*[\"']?)(?P<value>[^&\s\"',;<>]+)"
)
# Xtream-style /live/USER/PASS/123.ts and /movie/USER/PASS/… paths
_XTREAM_PATH = re.compile(r"(?P<pre>/(?:live|movie|series|timeshift)/)(?P<user>[^/\s]+)/(?P<pw>[^/\s]+)/")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return text with credentials in URLs, secret query parameters and known secret values masked."""
    out = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    out = _SECRET_PARAMS.sub(lambda m: f"{m['key']}{MASK}", out)
    out = _XTREAM_PATH.sub(lambda m: f"{m['pre']}{MASK}/{MASK}/", out)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """Mask secrets in every record before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def add_secret(self, secret: str) -> None:
        """Also mask this exact value from now on (an API key made at run time, say)."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask it, and drop the arguments."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info), self._secrets)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True
