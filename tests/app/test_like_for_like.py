"""Leaderboard speed-ups per replica step (issue 14, item 3): a batched run's batch time
over its batch size against a run alone, with the batch sizes shown."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import catalog
from app.crud import runs as runs_crud
from app.crud.leaderboard import leaderboard
from tests.utils.factories import make_run
from tests.utils.outcomes import own_model

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


def _timed(engine: Engine, model: str, *, batch_ms: float, batch_size: int) -> int:
    run_id = make_run(engine, model=model)
    summary = {
        "status": "completed",
        "verdict": "pass",
        "metrics": {
            "inference_ms_per_step": batch_ms,
            "inference_ms_per_replica_step": batch_ms / batch_size,
            "batch_size": batch_size,
        },
        "provenance": {"device": "cpu", "batch_size": batch_size},
    }
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="like-for-like")
        assert claim is not None
        runs_crud.finish_run(
            session, claim=claim, status="completed", failure_reason=None, summary=summary
        )
        session.commit()
    return run_id


def test_speedup_is_per_replica_with_the_batch_size_shown(engine: Engine) -> None:
    student, teacher = own_model(engine, "lj-batched"), own_model(engine, "lj-alone")
    for _ in range(2):  # 8 replicas, 80 ms per batch step: 10 ms each
        _timed(engine, student, batch_ms=80.0, batch_size=8)
    _timed(engine, teacher, batch_ms=20.0, batch_size=1)
    with Session(engine) as session:
        base = catalog.get_potential(session, key=teacher)
        assert base is not None
        rows = {r["model"]: r for r in leaderboard(session, baseline_id=base.id)}
    s = rows[student]
    assert s["speedup"] == pytest.approx(2.0)  # 20 ms / 10 ms, not 20 / 80
    assert s["median_inference_ms_per_replica_step"] == pytest.approx(10.0)
    assert s["median_inference_ms_per_step"] == pytest.approx(80.0)
    assert (s["batch_size_min"], s["batch_size_max"]) == (8, 8)
    assert (rows[teacher]["batch_size_max"], rows[teacher]["speedup"]) == (1, pytest.approx(1.0))


def test_levels_through_the_api_judge_a_batch_per_replica(api: TestClient) -> None:
    """The registered m6 (from the core's data) carries ``per: batch_size``: 400 ms per
    batch step of 8 is 50 ms a replica, at target on a CPU (< 100); alone it fails."""

    def speed(metrics: dict[str, float]) -> dict[str, Any]:
        r = api.post("/api/v1/profiles/m6/levels", json={"items": [metrics], "device": "cpu"})
        assert r.status_code == 200, r.text
        return next(row for row in r.json()["items"][0] if row["name"] == "inference_time")

    batched = speed({"inference_ms_per_step": 400.0, "batch_size": 8})
    assert (batched["level"], batched["value"]) == ("target", 50.0)
    assert speed({"inference_ms_per_step": 400.0})["level"] == "fail"


def test_a_run_reads_with_its_per_replica_time_and_batch_size(
    api: TestClient, engine: Engine
) -> None:
    run_id = _timed(engine, own_model(engine, "lj-read"), batch_ms=80.0, batch_size=8)
    r = api.get(f"/api/v1/runs/{run_id}")
    assert r.status_code == 200, r.text
    metrics = r.json()["metrics"]
    assert metrics["inference_ms_per_step"] == pytest.approx(80.0)
    assert metrics["inference_ms_per_replica_step"] == pytest.approx(10.0)
    assert metrics["batch_size"] == 8
