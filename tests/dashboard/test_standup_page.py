"""The stand-up page, in-process on the embedded stack (SQLite): a model's recommendation
changes after the stand-up window opens and the page shows before -> after with links to
the runs; a cancelled run is counted apart, not as finished."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.db.models import Recommendation, RecommendationHistory, Run
from tests.dashboard.inprocess import callback, embedded, hrefs_of, text_of
from tests.utils.outcomes import CRASHED, PASSED, end_run, own_model

OUTPUT = (
    "..su-tiles.children...su-failures.data...su-running.data...su-finished.data"
    "...su-changes.children...su-recommendations.children...su-new-models.children"
    "...su-error.children.."
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Engine]]:
    with embedded(tmp_path_factory.mktemp("standup")) as pair:
        yield pair


def _load(client: TestClient, hours: int) -> dict[str, Any]:
    return callback(client, OUTPUT, {"su-refresh.n_intervals": 1, "su-window.value": hours})


def test_page_shows_before_and_after(stack: tuple[TestClient, Engine]) -> None:
    client, engine = stack
    model = own_model(engine, "lj-page")
    first = end_run(engine, model, "completed", PASSED)
    # the page's window is in hours: move the first run (and the recommendation it decided)
    # to two days ago, so that a 24 h window opens after it
    _age(engine, first, hours=48)
    time.sleep(0.01)
    crashed = end_run(engine, model, "crashed", CRASHED)
    cancelled = end_run(engine, model, "cancelled", {**CRASHED, "status": "cancelled"})

    response = _load(client, 24)
    changes = response["su-recommendations"]["children"]
    text = text_of(changes)
    line = next(t for t in text.split(model)[1:] if "→" in t)
    before, after = (part.split("·")[0].strip(" :") for part in line.split("→"))
    assert before and after and before != after, text
    assert "none yet" not in before
    assert f"/runs/{crashed}" in hrefs_of(changes) and f"/runs/{first}" not in hrefs_of(changes)
    finished = [r["run"] for r in response["su-finished"]["data"]]
    assert f"[#{crashed}](/runs/{crashed})" in finished
    assert not any(f"#{cancelled}]" in r for r in finished)  # cancelled: apart
    tiles = text_of(response["su-tiles"]["children"])
    assert "Cancelled1" in tiles.replace(" ", "")
    assert model not in text_of(response["su-new-models"]["children"])

    # over 3 days the model is new, with both scored runs as its evidence
    wide = _load(client, 72)
    assert model in text_of(wide["su-new-models"]["children"])
    links = set(hrefs_of(wide["su-new-models"]["children"]))
    assert {f"/runs/{first}", f"/runs/{crashed}"} <= links


def _age(engine: Engine, run_id: int, *, hours: float) -> None:
    """Move a run's end, and the history row it opened, ``hours`` into the past."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None and run.finished_at is not None
        then = run.finished_at - timedelta(hours=hours)
        session.execute(update(Run).where(Run.id == run_id).values(finished_at=then))
        session.execute(
            update(RecommendationHistory)
            .where(RecommendationHistory.run_id == run_id)
            .values(valid_from=then)
        )
        session.execute(
            update(Recommendation)
            .where(Recommendation.model_id == run.model_id)
            .values(updated_at=then)
        )
        session.commit()
