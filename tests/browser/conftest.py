"""Browser tests: headless Chromium driven by Playwright, one browser per test session (per
xdist worker). The system's Chromium is used (Playwright's own browser download is not
needed): ``chromium`` on PATH, or the path in ``RUNAGENTS_MOCK_CHROMIUM``.

Without a Chromium these tests skip, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mockserver.testkit.live_server import LiveServer

CHROMIUM_ENV = "RUNAGENTS_MOCK_CHROMIUM"
HOW_TO_GET_IT = f"no Chromium found: apt-get install chromium (or set {CHROMIUM_ENV}=/path/to/chromium)"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
]


def chromium_path() -> str | None:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if os.path.exists(configured) else None
    return next(filter(None, (shutil.which(name) for name in ("chromium", "chromium-browser"))), None)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        _unavailable(HOW_TO_GET_IT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable('Playwright is missing: pip install ".[test]"')
    from playwright.sync_api import expect

    # Waits end as soon as the page shows what is expected; the limit is only for a loaded
    # machine (Swagger UI alone renders for seconds there). No timing is asserted.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


class Site:
    """A live mock plus a helper for calling its API and control API from the test."""

    def __init__(self, live: LiveServer, api_key: str, admin_key: str | None):
        self.live = live
        self.url = live.url
        self.api_key = api_key
        self.admin_key = admin_key or api_key

    @property
    def server(self):
        return self.live.mock

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        return requests.request(method, self.url + "/_mock/" + path, headers=headers, timeout=10, **kwargs)

    def seed(self, fixture: str) -> dict[str, Any]:
        response = self.control("POST", "seed", data=fixture)
        assert response.status_code == 200, response.text
        return response.json()["ids"]


@pytest.fixture
def make_site():
    """``make_site(api_keys=[...], admin_key=...)``: a served mock for one test."""
    started: list[LiveServer] = []

    def make(**config: Any) -> Site:
        live = LiveServer(config).start()
        started.append(live)
        keys = config.get("api_keys") or ["browser-test-key"]
        return Site(live, keys[0], config.get("admin_key"))

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def site(make_site) -> Site:
    return make_site()


@pytest.fixture
def page(browser):
    """A fresh tab (own context: no shared storage). Script errors, dialogs and anything the
    pages' Content-Security-Policy blocks fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"blocked by the page's policy: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("dialog", lambda dialog: (problems.append(f"dialog opened: {dialog.message}"), dialog.dismiss()))
    page.problems = problems
    yield page
    context.close()
    assert not problems, problems


def pytest_terminal_summary(terminalreporter) -> None:
    # The one line a run without Chromium prints (skip reasons are hidden without -rs).
    if chromium_path() is None and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line(f"browser tests skipped: {HOW_TO_GET_IT}")
