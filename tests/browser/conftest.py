"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the
engine's real processes (API, dispatcher, worker, projector, evaluator) and the simulator.

Without a Chromium these tests are skipped with a notice saying how to get one
(Playwright's own browser download is not used: CI installs the `chromium` package)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from simulator.config import SimulatorConfig
from tests.support.dashboard import DashboardEngine, running_dashboard

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = (
    "no Chromium found: the dashboard's browser tests need one; on Debian or Ubuntu run "
    "`sudo apt-get install -y chromium` (or set CHROMIUM=/path/to/chromium)"
)


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(NO_BROWSER)
    return path


@pytest.fixture(scope="module")
def dashboard(chromium: str, postgres_admin: str, redis_server: str) -> Iterator[DashboardEngine]:
    with running_dashboard(postgres_admin, redis_server, SimulatorConfig(seed=7)) as running:
        yield running


@pytest.fixture
def api(dashboard: DashboardEngine) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=dashboard.base_url, timeout=10, headers=dashboard.auth) as client:
        yield client


class ConsoleErrors:
    """Every console error and uncaught exception of a page; `expected` are the
    browser's own network lines for refusals a test provokes on purpose."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.expected_statuses: set[int] = set()

    def unexpected(self) -> list[str]:
        allowed = tuple(
            f"the server responded with a status of {status}" for status in self.expected_statuses
        )
        return [m for m in self.messages if not any(text in m for text in allowed)]


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def console() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Browser, dashboard: DashboardEngine, console: ConsoleErrors) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage) at 1280x800 on the dashboard; the
    test fails if the page logged an error it did not expect."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.on(
        "console",
        lambda message: console.messages.append(message.text) if message.type == "error" else None,
    )
    opened.on("pageerror", lambda error: console.messages.append(f"uncaught: {error}"))
    opened.goto(dashboard.base_url + "/")
    opened.wait_for_selector("body[data-ready=true]")
    # As a user does on a first visit: the API answers 401, the page asks for the key.
    dialog = opened.locator("#key-dialog")
    dialog.wait_for(state="visible")
    opened.fill("#key-input", dashboard.admin_key)
    opened.click("#key-dialog button[value=save]")
    dialog.wait_for(state="hidden")
    console.messages.clear()  # the browser's own lines for those first 401s
    yield opened
    context.close()
    assert console.unexpected() == []
