"""``GET /api/v1/survival``: the survival of a model's replicas per cell, computed by the
core's functions over real rows in Postgres; bad requests are 4xx, never 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from mdval.metrics.statistics import median_time_to_failure, survival_curve
from tests.utils.factories import make_run

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

DURATION_PS = 5.0


def finished(
    engine: Engine,
    *,
    suite: str,
    status: str,
    stable_ps: float | None = None,
    model: str = "emt",
    summary: dict[str, Any] | None = None,
    **config: Any,
) -> int:
    """A run through the real state machine, ending ``status`` with a core-shaped summary."""
    run_id = make_run(
        engine, model=model, suite=suite, config={"duration_ps": DURATION_PS, **config}
    )
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="survival-test")
        assert claim is not None
        if summary is None and status in ("completed", "crashed"):
            stable = DURATION_PS if status == "completed" else stable_ps
            summary = {
                "status": status,
                "time_to_failure_ps": stable if status == "crashed" else None,
                "metrics": {"stable_duration_ps": stable, "duration_cap_ps": DURATION_PS},
                "verdict": "fail" if status == "crashed" else "pass",
                "config": {"duration_ps": DURATION_PS, "equilibration_ps": 0.0, **config},
            }
        runs_crud.finish_run(
            session,
            claim=claim,
            status=status,
            failure_reason="explosion" if status == "crashed" else None,
            summary=summary,
        )
        session.commit()
    return run_id


@pytest.fixture(scope="module")
def suite(engine: Engine) -> str:
    """emt on cu-fcc, 300 K, 2 fs, 5 ps: 3 finished replicas, 2 crashed at 1 and 2 ps, plus
    a failed and a cancelled run (not the model's outcome: left out); one replica at 600 K."""
    name = f"surv-{uuid.uuid4().hex[:6]}"
    finished(engine, suite=name, status="crashed", stable_ps=1.0, seed=0)
    finished(engine, suite=name, status="crashed", stable_ps=2.0, seed=1)
    finished(engine, suite=name, status="completed", seed=2)
    finished(engine, suite=name, status="failed", seed=3)
    finished(engine, suite=name, status="cancelled", seed=4)
    finished(engine, suite=name, status="completed", seed=0, temperature_K=600.0)
    return name


def get(api: TestClient, **params: Any) -> Any:
    return api.get("/api/v1/survival", params=params)


def test_survival_and_median_time_to_failure_of_a_cell(api: TestClient, suite: str) -> None:
    r = get(api, model="emt", suite=suite, temperature_K=300)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "emt" and body["suite"] == suite
    [cell] = body["cells"]
    assert cell["structure"] == "cu-fcc"
    assert (cell["temperature_K"], cell["timestep_fs"], cell["duration_ps"]) == (300, 2, 5)
    assert (cell["n_runs"], cell["n_crashed"]) == (3, 2)
    assert cell["failure_times_ps"] == [1.0, 2.0, None]
    ttf = cell["time_to_failure"]
    assert ttf["median_ps"] == pytest.approx(2.0)
    assert ttf["ci95_low_ps"] == 0.0  # n = 3: too few replicas for a lower rank
    assert ttf["ci95_high_ps"] is None  # beyond the run
    curve = cell["survival"]
    time_ps, alive = curve["time_ps"], curve["alive_fraction"]
    assert time_ps[0] == 0.0 and time_ps[-1] == pytest.approx(DURATION_PS)
    assert alive[0] == 1.0
    assert alive[-1] == pytest.approx(1.0 / 3.0)
    i = min(range(len(time_ps)), key=lambda k: abs(time_ps[k] - 1.5))
    assert alive[i] == pytest.approx(2.0 / 3.0)  # between the two crashes
    # one implementation of every number: exactly the core's
    assert curve == survival_curve([1.0, 2.0, None], DURATION_PS)
    assert ttf == median_time_to_failure([1.0, 2.0, None], DURATION_PS)


def test_cells_are_grouped_and_filtered(api: TestClient, suite: str) -> None:
    cells = get(api, model="emt", suite=suite).json()["cells"]
    assert [(c["temperature_K"], c["n_runs"], c["n_crashed"]) for c in cells] == [
        (300.0, 3, 2),
        (600.0, 1, 0),
    ]
    hot = cells[1]
    assert hot["survival"]["alive_fraction"][-1] == 1.0
    assert hot["time_to_failure"]["median_ps"] is None  # more than half survived
    only = get(api, model="emt", suite=suite, structure="cu-fcc", timestep_fs=2.0).json()
    assert len(only["cells"]) == 2
    assert get(api, model="emt", suite=suite, timestep_fs=1.0).json()["cells"] == []
    assert get(api, model="lj", suite=suite).json()["cells"] == []  # no run of that model


def test_an_older_summary_uses_time_to_failure_less_equilibration(
    api: TestClient, engine: Engine
) -> None:
    name = f"surv-old-{uuid.uuid4().hex[:6]}"
    old = {"status": "crashed", "time_to_failure_ps": 1.5, "metrics": {}}  # no stable_duration
    finished(engine, suite=name, status="crashed", summary=old, equilibration_ps=0.5)
    [cell] = get(api, model="emt", suite=name).json()["cells"]
    assert cell["failure_times_ps"] == [pytest.approx(1.0)]


def test_unknown_model_is_a_404_with_a_message(api: TestClient) -> None:
    r = get(api, model="no-such-model")
    assert r.status_code == 404
    assert r.json()["detail"].startswith("no model 'no-such-model'")
    assert r.json()["field"] == "model"


def test_unknown_structure_is_a_422(api: TestClient) -> None:
    r = get(api, model="emt", structure="no-such-structure")
    assert r.status_code == 422
    assert "no-such-structure" in r.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {},  # no model
        {"model": ""},
        {"model": "emt", "temperature_K": "-1"},
        {"model": "emt", "temperature_K": "0"},
        {"model": "emt", "temperature_K": "hot"},
        {"model": "emt", "temperature_K": "nan"},
        {"model": "emt", "temperature_K": "inf"},
        {"model": "emt", "timestep_fs": "0"},
        {"model": "emt", "timestep_fs": "1e999"},
    ],
)
def test_bad_parameters_are_a_422(api: TestClient, params: dict[str, str]) -> None:
    r = get(api, **params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
