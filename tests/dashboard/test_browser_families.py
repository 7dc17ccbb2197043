"""A published model family through the submit form in a real headless Chromium against the
real standalone service: the picker shows a family whose package the server lacks as a
disabled option naming the extra, ANI-1x with its elements and a dtype control, and the
form's ``ani:1x?dtype=float64`` is accepted by the API and its worker (registered on first
use) as the run's model."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import Console, shot
from tests.dashboard.server import ADMIN_TOKEN
from tests.dashboard.test_browser import _dropdown

pytestmark = pytest.mark.browser


def _installed(dist: str) -> bool:
    try:
        version(dist)
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("torchani"), reason="pip install 'mdval[ani]'")
def test_a_family_checkpoint_with_its_dtype_is_queued_from_the_form(
    standalone: str, browser_page: tuple[Any, Console]
) -> None:
    page, console = browser_page
    try:
        page.context.clear_cookies()
        page.goto(standalone + "/submit")
        page.fill("#shell-token", ADMIN_TOKEN)
        page.click("#shell-signin")
        page.wait_for_selector("#shell-user:has-text('admin')")
        if not _installed("sevenn"):  # the server lacks it: listed, not selectable
            page.click("#submit-model")
            page.fill(".dash-dropdown-search", "SevenNet-0")
            option = page.wait_for_selector("[role=option]:has-text('SevenNet-0 (sevennet')")
            assert "needs pip install 'mdval[materials]'" in option.inner_text()
            assert option.is_disabled()
            page.keyboard.press("Escape")
        _dropdown(page, "submit-model", "ANI-1x (ani:1x)")
        page.wait_for_selector("#submit-model-options", state="visible")
        page.wait_for_selector("#submit-model-info:has-text('elements: H C N O')")
        _dropdown(page, "submit-model-dtype", "float64")
        _dropdown(page, "submit-structure", "H2O")
        page.fill("#submit-duration-ps", "0.01")
        page.fill("#submit-equilibration-ps", "0")
        page.wait_for_selector("#submit-checks .ok:has-text('Ready: queues 1 run')")
        shot(page, "22-submit-family")
        page.click("#submit-button")
        page.wait_for_url(re.compile(r".*/runs/\d+$"), timeout=60_000)
        run_id = int(page.url.rsplit("/", 1)[1])
        run = httpx.get(f"{standalone}/api/v1/runs/{run_id}", timeout=10).json()
        assert run["model"] == "ani:1x?dtype=float64", run
    except Exception:
        shot(page, "99-submit-family-failure")
        raise
    finally:
        page.context.clear_cookies()
        page.goto("about:blank")
    assert console.errors == []
