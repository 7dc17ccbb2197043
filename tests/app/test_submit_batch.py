"""``POST /api/v1/runs/batch``: several runs as one submission, all or none, under one
``Idempotency-Key`` (what the dashboard's multi-temperature form sends)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.db.models import Run
from tests.app.test_idempotency import RUN
from tests.utils.service import RecordingQueue, count_runs

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

BATCH = {"runs": [{**RUN, "temperature_K": t} for t in (100.0, 300.0, 500.0)]}


def headers(token: str, key: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {token}"}
    return {**h, "Idempotency-Key": key} if key else h


def test_three_temperatures_are_one_submission_and_a_repeat_is_replayed(
    api: TestClient, submitter_token: str, engine: Engine
) -> None:
    queue: RecordingQueue = api.app.state.queue  # type: ignore[attr-defined]
    rows, published = count_runs(engine), len(queue.published)
    key = f"form-{uuid.uuid4()}"
    first = api.post("/api/v1/runs/batch", json=BATCH, headers=headers(submitter_token, key))
    assert first.status_code == 201, first.text
    a: dict[str, Any] = first.json()
    assert [r["temperature_K"] for r in a["runs"]] == [100.0, 300.0, 500.0]
    assert {r["submission_id"] for r in a["runs"]} == {a["submission_id"]}
    assert count_runs(engine) == rows + 3 and len(queue.published) == published + 3

    # one submission: the worker that takes the first run may claim the other two with it
    with Session(engine) as session:
        lead = session.get(Run, a["id"])
        assert lead is not None
        partners = runs_crud.batch_candidates(session, lead=lead, limit=10)
    assert sorted(r.id for r in partners) == sorted(r["id"] for r in a["runs"][1:])

    again = api.post("/api/v1/runs/batch", json=BATCH, headers=headers(submitter_token, key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    b: dict[str, Any] = again.json()
    assert b["replayed"] is True and b["submission_id"] == a["submission_id"]
    assert [r["id"] for r in b["runs"]] == [r["id"] for r in a["runs"]]
    assert count_runs(engine) == rows + 3 and len(queue.published) == published + 3

    # the key answers this body only: a single run under it is a conflict
    single = api.post("/api/v1/runs", json=RUN, headers=headers(submitter_token, key))
    assert single.status_code == 409


@pytest.mark.parametrize(
    ("runs", "where", "message"),
    [
        (
            [RUN, {**RUN, "structure": "no-such-structure"}, {**RUN, "seed": 2}],
            "runs.1.structure",
            "run 2 of 3: unknown structure 'no-such-structure'",
        ),
        ([RUN, {**RUN, "seed": 5}, RUN], "runs.2", "runs 1 and 3 are the same run"),
    ],
)
def test_one_refused_run_queues_none(
    api: TestClient,
    submitter_token: str,
    engine: Engine,
    runs: list[dict[str, Any]],
    where: str,
    message: str,
) -> None:
    queue: RecordingQueue = api.app.state.queue  # type: ignore[attr-defined]
    rows, published = count_runs(engine), len(queue.published)
    answer = api.post(
        "/api/v1/runs/batch",
        json={"runs": runs},
        headers=headers(submitter_token, f"form-{uuid.uuid4()}"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == where and message in answer.json()["detail"]
    assert count_runs(engine) == rows and len(queue.published) == published


def test_a_batch_holds_single_runs_within_the_limit(
    api: TestClient, submitter_token: str, engine: Engine
) -> None:
    rows = count_runs(engine)
    suite = api.post(
        "/api/v1/runs/batch",
        json={"runs": [RUN, {"model": "lj", "suite": "m6-quick"}]},
        headers=headers(submitter_token),
    )
    assert suite.status_code == 422 and "a batch holds single runs" in suite.text
    empty = api.post("/api/v1/runs/batch", json={"runs": []}, headers=headers(submitter_token))
    assert empty.status_code == 422
    assert count_runs(engine) == rows
