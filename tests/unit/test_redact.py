"""Secrets never reach logs: URL credentials, token parameters, Xtream paths, known values."""

from __future__ import annotations

import io
import logging
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from antenna.redact import RedactingFilter, redact


def test_url_credentials() -> None:
    assert redact("get http://user:pw@host/x") == "get http://***@host/x"
    assert "s3cret" not in redact("postgresql+psycopg://bob:s3cret@db:5432/a")


def test_query_and_header_secrets() -> None:
    text = redact("GET /library?X-Plex-Token=abcdEFGH123&x=1 api_key: zzz987 password=hunter2")
    assert "abcdEFGH123" not in text
    assert "zzz987" not in text
    assert "hunter2" not in text
    assert "x=1" in text


def test_xtream_path() -> None:
    assert redact("http://p.example/live/alice/pa55/123.ts") == "http://p.example/live/***/***/123.ts"


def test_known_secret_values() -> None:
    assert redact("key is Zm9vYmFy!", ["Zm9vYmFy!"]) == "key is ***"


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=6, max_size=40),
    before=st.text(max_size=30),
)
def test_token_parameter_never_survives(secret: str, before: str) -> None:
    out = redact(f"{before} http://h/p?token={secret}&a=b")
    assert f"token={secret}" not in out


def test_filter_masks_formatted_args_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["TOPSECRETKEY"]))
    logger = logging.getLogger("antenna.test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting to %s with %s", "http://a:b@h/", "TOPSECRETKEY")
        try:
            raise RuntimeError("failed for http://h/?token=abcdef123")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "TOPSECRETKEY" not in output
    assert "a:b@" not in output
    assert "abcdef123" not in output
    assert "Traceback" in output
