"""In headless Chromium against the service (API + dashboard, no workers) on a prepared
database: while demo runs exist every page says the protocol is demo-sized, and a run that
does not exist says so plainly — no Cancel button, no "Loading…" left on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.db.session import make_engine
from tests.dashboard import fake_data, server
from tests.dashboard.conftest import Console, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data: Path = tmp_path_factory.mktemp("browser-demo")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    with Session(engine) as s:
        run = fake_data._run(
            s, model="zoo:tiny", structure="H2O", suite="demo", status="queued",
            temperature_K=300.0, timestep_fs=0.5, duration_ps=1.0, queue="demo",
        )  # fmt: skip
        s.commit()
        run_id = run.id
    engine.dispose()
    with server.serve(data) as url:
        yield url, run_id


def test_demo_banner_and_a_missing_run(
    seeded: tuple[str, int], browser_page: tuple[Any, Console]
) -> None:
    url, demo_run = seeded
    page, console = browser_page
    errors_before = len(console.errors)
    try:
        page.goto(url + "/")
        banner = page.wait_for_selector("#demo-notice-demo")
        assert "Demo-sized protocol (suite 'demo')" in banner.inner_text()
        assert "not a validation" in banner.inner_text()
        page.goto(f"{url}/runs/{demo_run}")  # the demo run's own page says it too
        page.wait_for_selector("#demo-notice-demo")
        page.wait_for_selector("#run-cancel-confirm", state="attached")

        page.goto(f"{url}/runs/{demo_run + 9999}")
        page.wait_for_selector("#run-message:has-text('No such run')")
        shot(page, "run-missing")
        assert not page.is_visible("#run-cancel")
        assert not page.is_visible("#run-body")
        assert "Loading…" not in page.inner_text("main")
    except Exception:
        shot(page, "99-demo-missing-failure")
        raise
    assert console.errors[errors_before:] == []
