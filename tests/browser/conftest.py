"""Chromium driven by Playwright: the Debian `chromium` package, never Playwright's own
browser download. Without Chromium the browser tests skip, unless FEEDSVC_REQUIRE_BROWSER=1
(as CI sets it) makes that a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from tests.conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

ARTIFACTS = REPO / "test-artifacts"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
TIMEOUT_MS = 10_000  # a page on 127.0.0.1 that needs longer is a failure, not a slow test


def _unavailable(reason: str, log: str = "") -> NoReturn:
    """Skip, or fail with Chromium's own log when CI asked for the browser."""
    if os.environ.get("FEEDSVC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FEEDSVC_REQUIRE_BROWSER=1 but {reason}\n{log}".rstrip(), pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        _unavailable(f"no Chromium at {executable}: apt-get install chromium")
    playwright = sync_playwright().start()
    try:
        # --no-sandbox: CI runs as root, where Chromium refuses to start sandboxed.
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
    except Error as e:
        failure = e.message  # reported below, outside this block: no chained traceback
    else:
        failure = ""
    if failure:
        playwright.stop()
        first, _, log = failure.partition("\n")
        _unavailable(f"Chromium at {executable} did not start: {first}", log)
    yield chromium
    chromium.close()
    playwright.stop()


def _page(browser: Browser, options: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page in a fresh context (no cookies or cache from other tests)."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A phone: 390 CSS px wide at 2x, honouring <meta name=viewport>, with touch."""
    yield from _page(browser, PHONE)


@pytest.fixture
def no_script_page(browser: Browser) -> Iterator[Page]:
    """A desktop page with JavaScript turned off, as some readers and most crawlers have it."""
    yield from _page(browser, {**DESKTOP, "java_script_enabled": False})


@pytest.fixture
def csp_free_page(browser: Browser) -> Iterator[Page]:
    """A desktop page that ignores Content-Security-Policy: escaping is then tested on its
    own, not hidden behind the policy that would block an injected script anyway."""
    yield from _page(browser, {**DESKTOP, "bypass_csp": True})


def page_errors(page: Page) -> list[str]:
    """From now on, every console error and uncaught exception on `page`, as text."""
    errors: list[str] = []

    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text} at {msg.location['url']}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under test-artifacts/, which CI keeps."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
