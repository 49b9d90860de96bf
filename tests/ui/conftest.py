"""Browser tests of the dashboard: the real server (`hoist serve`, embedded worker) and
headless Chromium from the system's package, driven by Playwright's sync API."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.live_server import LiveServer, live_server
from tests.ui.scenario import Shop, build_shop

__all__ = ["live_server"]

CHROMIUM = Path(os.environ.get("HOIST_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
# `make screenshots` sets this to refresh the README's pictures; otherwise they go to a
# temporary folder, so a test run never dirties the checkout.
SCREENSHOTS_ENV = "HOIST_UI_SCREENSHOTS"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("HOIST_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (HOIST_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shop(live_server: LiveServer) -> Iterator[Shop]:
    shop = build_shop(live_server.url, live_server.token)
    yield shop
    shop.api.close()


SignIn = Callable[[str], Page]


@pytest.fixture
def sign_in(browser: Browser, shop: Shop) -> Iterator[SignIn]:
    """Open the dashboard in a fresh browser context (its own sessionStorage) and sign in
    with a token, through the sign-in form like a person."""
    contexts = []
    errors: list[str] = []

    def open_as(token: str) -> Page:
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{shop.url}/ui/")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get(SCREENSHOTS_ENV) == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


Shoot = Callable[[Page, str], None]


@pytest.fixture
def shoot(screenshot_dir: Path) -> Shoot:
    def take(page: Page, name: str) -> None:
        page.screenshot(path=screenshot_dir / f"{name}.png")

    return take
