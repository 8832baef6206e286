"""Admin password (scrypt hash), API key and session key, kept in the app_secrets table."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from antenna.db.repos.secrets import SecretRepository

log = logging.getLogger(__name__)

PASSWORD = "admin_password"
API_KEY = "api_key"
SESSION_KEY = "session_key"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Return an scrypt hash string: scrypt$N$r$p$salt$hash."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Return True when password matches the stored scrypt hash (constant time)."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


class AuthService:
    """Owns the admin password, the API key and the session signing key."""

    def __init__(self, secrets_repo: SecretRepository, clock: Callable[[], datetime]) -> None:
        self._repo = secrets_repo
        self._clock = clock

    def ensure_admin_password(self, configured: str | None) -> str | None:
        """Store the configured password, or generate one on first start; return a generated one to print."""
        stored = self._repo.get(PASSWORD)
        if configured:
            if stored is None or not verify_password(configured, stored):
                self._repo.set(PASSWORD, hash_password(configured), now=self._clock())
            return None
        if stored is not None:
            return None
        generated = secrets.token_urlsafe(12)
        if self._repo.set_if_missing(PASSWORD, hash_password(generated), now=self._clock()):
            return generated
        return None

    def check_password(self, password: str) -> bool:
        """Return True when password is the admin password."""
        stored = self._repo.get(PASSWORD)
        return stored is not None and verify_password(password, stored)

    def set_password(self, password: str) -> None:
        """Replace the admin password."""
        self._repo.set(PASSWORD, hash_password(password), now=self._clock())

    def _get_or_create(self, name: str, nbytes: int) -> str:
        # set_if_missing, then read back: two processes starting at once end up with the same value.
        value = self._repo.get(name)
        if value is None:
            self._repo.set_if_missing(name, secrets.token_urlsafe(nbytes), now=self._clock())
            value = self._repo.get(name)
        assert value is not None
        return value

    def api_key(self) -> str:
        """Return the API key, creating it on first use."""
        return self._get_or_create(API_KEY, 32)

    def regenerate_api_key(self) -> str:
        """Replace the API key (the old one stops working at once); return the new one."""
        key = secrets.token_urlsafe(32)
        self._repo.set(API_KEY, key, now=self._clock())
        log.info("API key regenerated")
        return key

    def check_api_key(self, candidate: str | None) -> bool:
        """Return True when candidate is the API key (constant time)."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.api_key().encode())

    def session_key(self) -> str:
        """Return the key that signs session cookies, creating it on first use."""
        return self._get_or_create(SESSION_KEY, 48)
