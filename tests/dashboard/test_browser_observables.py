"""In headless Chromium against the service (API + dashboard, no workers) on a prepared
database (tests/dashboard/fake_data.py): a finished run's page shows its observables beside
the control's noise, the control block and the warnings; a run without a control says why;
the compare page draws the survival of the student's and the teacher's replicas in the
compared cell and the observables of the two runs compared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db.session import make_engine
from dashboard.observables import NO_CONTROL, NOISE, VS_CONTROL
from tests.dashboard import fake_data, server
from tests.dashboard.conftest import Console, shot

pytestmark = pytest.mark.browser

SURVIVAL = """() => {
  const g = document.querySelector('#comp-survival .js-plotly-plot');
  if (!g || !g.data || !g.data.length) return null;
  return {
    names: g.data.map(t => t.name),
    shapes: g.data.map(t => t.line && t.line.shape),
    last: g.data.map(t => t.y[t.y.length - 1]),
    x: g.layout.xaxis.title.text,
    y: g.layout.yaxis.title.text,
  };
}"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    data: Path = tmp_path_factory.mktemp("browser-observables")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    case = fake_data.populate_observables(engine)
    engine.dispose()
    with server.serve(data) as url:
        yield url, case


def test_observables_control_and_survival_are_shown(
    seeded: tuple[str, Any], browser_page: tuple[Any, Console]
) -> None:
    url, case = seeded
    page, console = browser_page
    errors_before = len(console.errors)
    try:
        _run_page(page, url, case)
        _compare_page(page, url, case)
    except Exception:
        shot(page, "99-observables-failure")
        raise
    assert console.errors[errors_before:] == []


def _run_page(page: Any, url: str, case: Any) -> None:
    page.goto(f"{url}/runs/{case.run_id}")
    table = page.wait_for_selector("#run-observables-table", state="visible")
    text = table.inner_text()
    assert VS_CONTROL in text and NOISE in text
    for header in ("(Å)", "(°)", "(—)", "(THz)"):
        assert header in text
    assert "0.0312 Å" in text and "0.0127 Å" in text  # RDF W1 and its noise floor
    assert "2.36 THz" in text
    control = page.wait_for_selector("#run-control-block", state="visible").inner_text()
    assert "Control valid: yes" in control
    assert "the control passes energy_drift, stable_duration" in control
    warnings = page.inner_text("#run-warnings")
    assert "sampled frames" in warnings and page.is_visible("#run-warnings .alert-warning")
    shot(page, "11-run-observables")

    page.goto(f"{url}/runs/{case.no_control_id}")
    page.wait_for_selector(f'#run-observables-table:has-text("{NO_CONTROL}")', state="visible")
    control = page.wait_for_selector("#run-control-block", state="visible").inner_text()
    assert "Control valid: undecided" in control and "no control run" in control


def _compare_page(page: Any, url: str, case: Any) -> None:
    page.goto(f"{url}/compare?models={case.student}&structure={case.structure}")
    page.wait_for_selector("#comp-survival .js-plotly-plot")
    page.wait_for_function(f"() => ({SURVIVAL})() !== null")
    fig = page.evaluate(f"({SURVIVAL})()")
    assert fig["names"] == [
        f"{case.student} · 4 runs, 2 crashed",
        f"{case.teacher} (teacher) · 3 runs, 0 crashed",
    ]
    assert fig["shapes"] == ["hv", "hv"]
    assert fig["last"] == [0.5, 1.0]  # 2 of 4 replicas crashed; the teacher's all survived
    assert fig["x"] == "production time (ps)"
    assert fig["y"].startswith("fraction of replicas alive")
    legend = page.inner_text("#comp-survival")
    assert f"{case.student} · 4 runs, 2 crashed" in legend
    table = page.wait_for_selector("#comp-observables-table", state="visible").inner_text()
    assert f"run #{case.run_id}" in table and f"run #{case.teacher_run_id}" in table
    assert VS_CONTROL in table and "0.0312 Å" in table
    assert "300 K" in page.inner_text("#comp-cell")
    shot(page, "12-compare-survival")
