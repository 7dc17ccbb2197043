"""Runs ended through the worker's state machine with hand-written core summaries, and the
recommendation update the worker does at a run's end (tests of the stand-up and history)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.db.models import Potential
from tests.utils.factories import make_run
from workers.tasks import update_recommendations


def _criterion(name: str, metric: str, value: Any, level: str) -> dict[str, Any]:
    return {"name": name, "metric": metric, "value": value, "target": 1.0, "acceptable": 5.0,
            "level": level, "comparison": "lt", "category": "energy"}  # fmt: skip


#: A clean 10 ps run at target.
PASSED: dict[str, Any] = {
    "status": "completed",
    "verdict": "pass",
    "criteria": [_criterion("energy_drift", "drift_percent", 0.1, "target")],
    "metrics": {"stable_duration_ps": 10.0, "drift_percent": 0.1},
    "config": {"duration_ps": 10.0},
}
#: A crash at 0.2 ps of 10.
CRASHED: dict[str, Any] = {
    "status": "crashed",
    "verdict": "fail",
    "time_to_failure_ps": 0.2,
    "criteria": [
        {
            **_criterion("no_crash", "crashed", True, "fail"),
            **{"comparison": "eq", "target": False, "acceptable": False},
            "category": "stability",
        }
    ],
    "metrics": {"stable_duration_ps": 0.2, "crashed": True},
    "config": {"duration_ps": 10.0},
}


def own_model(engine: Engine, prefix: str = "lj-history") -> str:
    """A Lennard-Jones model of its own (no other test's runs move its rows); its spec."""
    spec = f"{prefix}-{uuid.uuid4().hex[:6]}"
    with Session(engine) as session:
        session.add(Potential(spec=spec, name=f"LJ {spec[-6:]}", kind="builtin", core_spec="lj"))
        session.commit()
    return spec


def end_run(engine: Engine, model: str, status: str, summary: dict[str, Any], **fields: Any) -> int:
    """A run of ``model`` (with ``fields`` of its row, e.g. ``suite``) queued, claimed and
    ended ``status`` with ``summary``, and the model's recommendation updated in the same
    transaction (as the worker does)."""
    run_id = make_run(engine, model=model, **fields)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="outcomes-test")
        assert claim is not None
        runs_crud.finish_run(
            session, claim=claim, status=status, failure_reason=None, summary=summary
        )
        if status in ("completed", "crashed"):
            update_recommendations(session, run_id=run_id)
        session.commit()
    return run_id
