"""The stand-up reads "before" from the recommendation history (issue 14, item 1): a model
whose recommendation changes after ``since`` shows before -> after with its runs; a
cancelled run is neither finished nor a failure and has no verdict."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Potential, Recommendation, RecommendationHistory
from tests.utils.outcomes import CRASHED, PASSED, end_run, own_model

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


@pytest.fixture()
def model(engine: Engine) -> str:
    return own_model(engine, "lj-standup")


def _current(engine: Engine, model: str) -> str:
    with Session(engine) as session:
        row = session.scalars(
            select(Recommendation)
            .join(Potential, Potential.id == Recommendation.model_id)
            .where(Potential.spec == model, Recommendation.suite == "")
        ).one()
        return row.recommendation


def _standup(api: TestClient, since: datetime) -> dict[str, Any]:
    r = api.get("/api/v1/standup", params={"since": since.isoformat()})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_standup_shows_a_changed_recommendation(
    api: TestClient, engine: Engine, model: str
) -> None:
    first = end_run(engine, model, "completed", PASSED)
    before = _current(engine, model)
    time.sleep(0.01)
    since = utcnow()
    time.sleep(0.01)
    crashed = end_run(engine, model, "crashed", CRASHED)
    after = _current(engine, model)
    assert before != after, "the crash must change the recommendation for this test to mean it"

    body = _standup(api, since)
    changes = {c["model"]: c for c in body["recommendation_changes"]}
    assert changes[model]["before"] == before and changes[model]["after"] == after
    assert changes[model]["decided_by_run_id"] == crashed
    assert changes[model]["run_ids"] == [crashed]  # evidence: the runs since, not the first
    board = {c["model"]: c for c in body["leaderboard_changes"]}[model]
    assert board["change"] == "changed" and board["run_ids"] == [crashed]
    assert (board["before"]["recommendation"], board["after"]["recommendation"]) == (before, after)
    assert (board["before"]["runs"], board["after"]["runs"]) == (1, 2)
    assert crashed in [r["id"] for r in body["new_failures"]]
    assert model not in [m["model"] for m in body["new_models"]]

    # read as of a time before the first run: the model was new since then
    early = _standup(api, datetime.fromtimestamp(0, tz=since.tzinfo))
    assert model in [m["model"] for m in early["new_models"]]
    assert {first, crashed} <= {r["id"] for r in early["finished"]}
    # the leaderboard as of `since` is the one before the crash
    r = api.get("/api/v1/leaderboard", params={"as_of": since.isoformat()})
    row = {x["model"]: x for x in r.json()["rows"]}[model]
    assert (row["runs"], row["recommendation"]) == (1, before)

    with Session(engine) as session:
        kept = session.scalars(
            select(RecommendationHistory)
            .join(Potential, Potential.id == RecommendationHistory.model_id)
            .where(Potential.spec == model, RecommendationHistory.suite == "")
            .order_by(RecommendationHistory.valid_from)
        ).all()
    assert [(h.recommendation, h.run_id) for h in kept] == [(before, first), (after, crashed)]
    assert kept[0].valid_to == kept[1].valid_from and kept[1].valid_to is None
    assert kept[1].verdicts == {"fail": 1, "pass": 1}


def test_cancelled_runs_are_not_finished_and_have_no_verdict(
    api: TestClient, engine: Engine, model: str
) -> None:
    since = utcnow()
    # a partial summary judged "fail" (too short) must not make the cancelled run a failure
    run_id = end_run(engine, model, "cancelled", {**CRASHED, "status": "cancelled"})
    body = _standup(api, since)
    assert run_id not in [r["id"] for r in body["finished"] + body["new_failures"]]
    cancelled = {r["id"]: r for r in body["cancelled"]}
    assert cancelled[run_id]["verdict"] is None
    assert api.get(f"/api/v1/runs/{run_id}").json()["verdict"] is None
