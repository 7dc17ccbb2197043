"""Fixtures of the browser tests: the real standalone service (SQLite, filesystem broker,
two Celery workers, API and dashboard on one port) and Debian's Chromium through
Playwright. Screenshots go to test-artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.server import ADMIN_TOKEN, REPO
from tests.utils.service import standalone_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
#: Console messages that are not the dashboard's (software WebGL in headless Chromium).
IGNORED_CONSOLE = ("GL Driver Message", "GPU stall", "willReadFrequently", "WebGL")


@pytest.fixture(scope="session")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mdval standalone`` on a free port with a temp data dir; yields its URL."""

    def emt_registered(url: str) -> bool:
        models = httpx.get(f"{url}/api/v1/models", timeout=2).json()["items"]
        return any(m["spec"] == "emt" for m in models)

    with standalone_server(
        tmp_path_factory.mktemp("standalone"),
        ADMIN_TOKEN,
        ready=emt_registered,
        MDVAL_HEARTBEAT_INTERVAL_S="1",
        MDVAL_FLUSH_INTERVAL_S="0.5",
    ) as url:
        yield url


class Console:
    """Errors the browser reported (console errors and uncaught exceptions)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, kind: str, text: str) -> None:
        if not any(s in text for s in IGNORED_CONSOLE):
            self.errors.append(f"{kind}: {text[:500]}")


@pytest.fixture(scope="session")
def browser_page() -> Iterator[tuple[Any, Console]]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="mdval-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 900},
            accept_downloads=True,
        )
        page = context.new_page()
        # a bound on each wait, not a speed test: on the 2-core CI host the standalone's
        # worker may be running a run (its controls on both cores) while a page signs in,
        # and a CI run once took over 30 s to show the signed-in user
        page.set_default_timeout(90_000)
        page.on("console", lambda m: console("console", m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console("pageerror", str(e)))
        yield page, console
        context.close()


def shot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
