"""An ``Idempotency-Key`` makes a retried CI call queue nothing twice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.utils.service import RecordingQueue, count_runs

pytestmark = pytest.mark.service

RUN = {
    "model": "lj",
    "structure": "cu-fcc",
    "duration_ps": 0.02,
    "equilibration_ps": 0.0,
    "timestep_fs": 2.0,
    "device": "cpu",
}


def headers(token: str, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}


@pytest.mark.usefixtures("catalog")
def test_retry_with_the_same_key_queues_nothing_twice(
    api: TestClient, submitter_token: str, engine: Engine
) -> None:
    queue: RecordingQueue = api.app.state.queue  # type: ignore[attr-defined]
    key = f"ci-{uuid.uuid4()}"
    first = api.post("/api/v1/runs", json=RUN, headers=headers(submitter_token, key))
    assert first.status_code == 201
    rows, published = count_runs(engine), len(queue.published)
    second = api.post("/api/v1/runs", json=RUN, headers=headers(submitter_token, key))
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    a: dict[str, Any] = first.json()
    b: dict[str, Any] = second.json()
    assert b["replayed"] is True and a["replayed"] is False
    assert b["id"] == a["id"] and b["submission_id"] == a["submission_id"]
    assert count_runs(engine) == rows and len(queue.published) == published


@pytest.mark.usefixtures("catalog")
def test_same_key_with_another_body_or_token_is_a_conflict(
    api: TestClient, submitter_token: str, admin_token: str, engine: Engine
) -> None:
    key = f"ci-{uuid.uuid4()}"
    assert (
        api.post("/api/v1/runs", json=RUN, headers=headers(submitter_token, key)).status_code == 201
    )
    rows = count_runs(engine)
    other = api.post("/api/v1/runs", json={**RUN, "seed": 7}, headers=headers(submitter_token, key))
    assert other.status_code == 409 and "different request body" in other.json()["detail"]
    stolen = api.post("/api/v1/runs", json=RUN, headers=headers(admin_token, key))
    assert stolen.status_code == 409 and "another token" in stolen.json()["detail"]
    assert count_runs(engine) == rows


@pytest.mark.usefixtures("catalog")
def test_without_a_key_each_call_queues(
    api: TestClient, submitter_token: str, engine: Engine
) -> None:
    auth = {"Authorization": f"Bearer {submitter_token}"}
    rows = count_runs(engine)
    api.post("/api/v1/runs", json=RUN, headers=auth)
    api.post("/api/v1/runs", json=RUN, headers=auth)
    assert count_runs(engine) == rows + 2


@pytest.mark.usefixtures("catalog", "worker")
def test_a_suite_is_queued_in_one_call(api: TestClient, submitter_token: str) -> None:
    """m6-quick for a zoo student: nine runs (H2O, CH4, alanine dipeptide × 3 seeds), one
    answer."""
    if api.get("/api/v1/models/zoo:tiny").status_code != 200:
        pytest.skip("zoo:tiny is not installed")
    auth = {"Authorization": f"Bearer {submitter_token}", "Idempotency-Key": str(uuid.uuid4())}
    r = api.post("/api/v1/runs", json={"model": "zoo:tiny", "suite": "m6-quick"}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    try:
        assert body["suite"] == "m6-quick" and len(body["runs"]) == 9
        assert {run["structure"] for run in body["runs"]} == {"H2O", "CH4", "alanine-dipeptide"}
        assert sorted(run["seed"] for run in body["runs"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
        assert all(
            run["reference"] == "gfn2-xtb" and run["equilibration_ps"] == 1.0
            for run in body["runs"]
        )
        listed = api.get("/api/v1/runs", params={"submission_id": body["submission_id"]}).json()
        assert listed["total"] == 9
    finally:
        for run in body["runs"]:  # hour-long on this machine: stop them
            api.post(f"/api/v1/runs/{run['id']}/cancel", headers=auth)
