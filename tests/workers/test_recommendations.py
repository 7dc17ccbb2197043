"""Two workers finishing runs of one model at once (issue 13, item 11b): the recommendation
counts both runs, and neither worker hits a duplicate key."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.db.models import Recommendation, Run
from tests.utils.factories import make_run
from workers.tasks import update_recommendations

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

CRITERION = {
    "name": "drift",
    "metric": "drift_percent",
    "value": 0.1,
    "target": 1.0,
    "acceptable": 2.0,
    "level": "target",
    "comparison": "le",
    "category": "energy",
}
SUMMARY = {"status": "completed", "criteria": [CRITERION], "config": {"duration_ps": 1.0}}


def _finish(session: Session, run_id: int) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status="completed", summary=SUMMARY, finished_at=Run.created_at)
    )


def test_concurrent_updates_count_every_run(engine: Engine) -> None:
    suite = f"race-{uuid.uuid4().hex[:8]}"
    first, second = (make_run(engine, suite=suite) for _ in range(2))
    errors: list[BaseException] = []
    started = threading.Event()

    def other_worker() -> None:
        try:
            with Session(engine) as session:
                _finish(session, second)
                started.set()
                update_recommendations(session, run_id=second)  # waits for the first
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
            started.set()

    with Session(engine) as session:
        _finish(session, first)
        update_recommendations(session, run_id=first)
        thread = threading.Thread(target=other_worker)
        thread.start()
        assert started.wait(10)
        time.sleep(1.0)  # the other worker reaches its recommendation update meanwhile
        session.commit()
    thread.join(30)
    assert not thread.is_alive()
    assert not errors, errors
    with Session(engine) as session:
        row: Any = session.get(Recommendation, (_model_id(session, first), suite))
        assert row is not None
        assert row.n_runs == 2  # the second update saw the first run
        session.execute(update(Run).where(Run.suite == suite).values(status="cancelled"))
        session.commit()


def _model_id(session: Session, run_id: int) -> int:
    run = session.get(Run, run_id)
    assert run is not None
    return run.model_id
