"""With ``MDVAL_READ_REQUIRES_TOKEN`` a signed-in browser downloads a run's trajectory: the
link goes to the dashboard's download route, which sends the API the session's token
(the HttpOnly ``mdval_session`` cookie); without a session the API's 401 comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db.models import Run
from app.db.session import make_engine
from tests.dashboard import fake_data, server
from tests.dashboard.conftest import Console, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data: Path = tmp_path_factory.mktemp("browser-download")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    long = fake_data.populate_long_run(engine, data / "artifacts", duration_ps=2.0)
    path = data / "artifacts" / "runs" / str(long.run_id) / "attempt-1" / "trajectory.extxyz"
    with Session(engine) as s:  # as the worker records a finished run's trajectory
        s.execute(update(Run).where(Run.id == long.run_id).values(trajectory_path=str(path)))
        s.commit()
    engine.dispose()
    with server.serve(data, MDVAL_READ_REQUIRES_TOKEN="true") as url:
        yield url, long.run_id


def test_a_signed_in_browser_downloads_the_trajectory(
    protected: tuple[str, int], browser_page: tuple[Any, Console], tmp_path: Path
) -> None:
    url, run_id = protected
    page, console = browser_page
    errors_before = len(console.errors)
    assert httpx.get(f"{url}/api/v1/runs/{run_id}/trajectory").status_code == 401
    try:
        page.goto(f"{url}/runs/{run_id}")
        page.fill("#shell-token", server.ADMIN_TOKEN)
        page.click("#shell-signin")
        page.wait_for_selector("#shell-user:has-text('dashboard-admin')")
        page.reload()  # the page's reads now carry the session's token
        page.wait_for_selector("#run-download-trajectory")
        href = page.get_attribute("#run-download-trajectory", "href")
        assert href == f"/download/runs/{run_id}/trajectory"
        with page.expect_download(timeout=30_000) as info:
            page.click("#run-download-trajectory")
        saved = tmp_path / "run.extxyz"
        info.value.save_as(saved)
        shot(page, "12-download-signed-in")
    except Exception:
        shot(page, "99-download-failure")
        raise
    text = saved.read_text()
    assert info.value.suggested_filename == f"run-{run_id}.extxyz"
    assert text.splitlines()[0].strip() == "22" and "time_ps=" in text  # alanine dipeptide
    # the same link without the session cookie: the API's own 401
    bare = httpx.get(url + href)
    assert bare.status_code == 401 and "token" in bare.json()["detail"]
    assert console.errors[errors_before:] == []
