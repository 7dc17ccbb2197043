"""The submit form in a real headless Chromium against the real standalone service: a SMILES
the server rejects cannot be queued (the check panel names the field and shows RDKit's
whole message), and a three-temperature form is one request that a second click replays
instead of queueing the runs twice."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import Console, shot
from tests.dashboard.server import ADMIN_TOKEN
from tests.dashboard.test_browser import _dropdown

pytestmark = pytest.mark.browser

BAD_SMILES = "CC(=O)X"


def _runs(standalone: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{standalone}/api/v1/runs", params={"limit": 1000}).json()["items"])


def test_rejected_smiles_cannot_be_queued_and_a_double_click_queues_once(
    standalone: str, browser_page: tuple[Any, Console]
) -> None:
    page, console = browser_page
    try:
        _rejected_smiles(standalone, page)
        _double_click(standalone, page)
    except Exception:
        shot(page, "99-submit-failure")
        raise
    finally:  # signed out again for the browser tests that follow
        page.context.clear_cookies()
        page.goto("about:blank")
    assert console.errors == []


def _rejected_smiles(standalone: str, page: Any) -> None:
    page.context.clear_cookies()
    page.goto(standalone + "/submit")
    page.fill("#shell-token", ADMIN_TOKEN)
    page.click("#shell-signin")
    page.wait_for_selector("#shell-user:has-text('admin')")
    _dropdown(page, "submit-model", "gfn2-xtb")
    _dropdown(page, "submit-structure", "H2O")
    page.wait_for_selector("#submit-checks .ok:has-text('Ready: queues 1 run')")
    runs_before = len(_runs(standalone))

    # SMILES chosen: the H2O picked before is no longer what the form would queue
    page.check("#submit-structure-source input[value=smiles]")
    page.fill("#submit-smiles", BAD_SMILES)
    page.click("#submit-smiles-preview")
    page.wait_for_selector("#submit-structure-status .alert:has-text('~~~~~~^')")
    problem = page.wait_for_selector(f"#submit-checks li:has-text(\"SMILES '{BAD_SMILES}'\")")
    text = problem.inner_text()
    assert text.startswith("Structure: ") and "was rejected" in text
    assert "around position 7:" in text and "~~~~~~^" in text  # RDKit's message in full
    assert page.is_disabled("#submit-button")
    shot(page, "21-submit-rejected-smiles")
    assert len(_runs(standalone)) == runs_before


def _double_click(standalone: str, page: Any) -> None:
    page.check("#submit-structure-source input[value=builtin]")
    _dropdown(page, "submit-model", "emt")
    _dropdown(page, "submit-structure", "cu-fcc")
    page.fill("#submit-temperatures", "100, 200, 300")
    page.fill("#submit-timesteps", "1")
    page.fill("#submit-duration-ps", "0.01")
    page.fill("#submit-equilibration-ps", "0")
    page.wait_for_selector("#submit-checks .ok:has-text('queues 3 runs as one submission')")
    before = {r["id"] for r in _runs(standalone)}
    # A double click on a slow server: the first click's request is held back until the
    # second one has been answered, so the two reach the server with the same form.
    held: list[Any] = []
    clicks: list[str] = []

    def hold_first(route: Any) -> None:
        body = route.request.post_data or ""
        if "submit-button.n_clicks" not in body:
            route.continue_()
            return
        clicks.append(body)
        if len(clicks) == 1:
            held.append(route)
        else:
            route.continue_()

    answers: list[Any] = []
    page.on("response", lambda r: answers.append(r) if r.request.post_data in clicks else None)
    dash_update = re.compile(r".*_dash-update-component.*")
    page.route(dash_update, hold_first)
    page.click("#submit-button")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.click("#submit-button")
    page.wait_for_url(re.compile(r".*/runs/\d+$"))
    held[0].continue_()
    while len(answers) < 2 and time.monotonic() < deadline + 20:
        page.wait_for_timeout(100)
    page.unroute(dash_update)
    assert len(clicks) == 2  # both clicks reached the server, with the same form
    replies = [a.text() for a in answers]
    assert sum("Already queued" in r for r in replies) == 1, replies  # the other replayed
    new = [r for r in _runs(standalone) if r["id"] not in before]
    assert len(new) == 3 and len({r["submission_id"] for r in new}) == 1  # one request
    assert sorted(r["temperature_K"] for r in new) == [100.0, 200.0, 300.0]
    assert int(page.url.rsplit("/", 1)[1]) == min(r["id"] for r in new)
