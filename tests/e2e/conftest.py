"""Shared browser-test fixtures: one headless Debian chromium per module, driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import service_missing
from tests.support import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots, looked at by people
CHROMIUM = Path("/usr/bin/chromium")
# Playwright never downloads a browser here, and chromium must not phone home: the tests run offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's headless chromium once for the module."""
    if not CHROMIUM.exists():
        service_missing("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    """Open a fresh browser context (no cookies, light theme) on the module's server; fail on JS errors."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    script_errors: list[str] = []
    tab.on("pageerror", lambda exc: script_errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not script_errors, f"uncaught script errors: {script_errors}"
