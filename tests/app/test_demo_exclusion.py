"""Runs of a demo-sized suite (``demo: true``, e.g. ``mdval standalone --demo``'s) are no
validation: they have their suite's own leaderboard and recommendation, and neither the
overall leaderboard nor the model's overall recommendation counts them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.models import Potential, Recommendation
from mdval.suites import demo_suites
from tests.utils.outcomes import CRASHED, PASSED, end_run, own_model

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


def _recommendations(engine: Engine, model: str) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.execute(
            select(Recommendation.suite, Recommendation.recommendation)
            .join(Potential, Potential.id == Recommendation.model_id)
            .where(Potential.spec == model)
        ).all()
    return {suite: level for suite, level in rows}


def _row(api: TestClient, model: str, **params: Any) -> dict[str, Any] | None:
    r = api.get("/api/v1/leaderboard", params=params)
    assert r.status_code == 200, r.text
    rows = [row for row in r.json()["rows"] if row["model"] == model]
    return rows[0] if rows else None


def test_the_demo_suite_is_the_demo_sized_one() -> None:
    assert demo_suites() == ("demo",)


def test_demo_runs_count_in_their_suite_only(api: TestClient, engine: Engine) -> None:
    model = own_model(engine, "lj-demo")
    end_run(engine, model, "completed", PASSED)
    overall = _recommendations(engine, model)[""]
    end_run(engine, model, "crashed", CRASHED, suite="demo")

    levels = _recommendations(engine, model)
    assert levels[""] == overall, "a demo crash must not move the overall recommendation"
    assert levels["demo"] != overall  # the demo suite judged its crash
    everything = _row(api, model)
    demo = _row(api, model, suite="demo")
    assert everything is not None and everything["runs"] == 1
    assert demo is not None and demo["runs"] == 1 and demo["recommendation"] == levels["demo"]
