"""Leaderboard aggregates: Postgres (SQL medians) and SQLite (Python) agree; the cache
follows finished runs."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.crud import catalog
from app.crud import runs as runs_crud
from app.crud.leaderboard import _aggregate_python, _aggregate_sql, _filters, leaderboard
from app.db.models import Run
from app.services.leaderboard import LeaderboardCache
from tests.utils.factories import make_run
from tests.utils.service import wait_for

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


def finished(
    engine: Engine,
    *,
    model: str,
    suite: str,
    status: str,
    verdict: str | None = None,
    **metrics: float,
) -> int:
    """A run through the real state machine: queued -> running -> ``status``."""
    run_id = make_run(engine, model=model, suite=suite)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="leaderboard-test")
        assert claim is not None
        summary = None
        if status in ("completed", "crashed"):
            summary = {"metrics": metrics, "verdict": verdict, "provenance": {"device": "cpu"}}
        runs_crud.finish_run(
            session, claim=claim, status=status, failure_reason=None, summary=summary
        )
        session.commit()
    return run_id


@pytest.fixture(scope="module")
def suite(engine: Engine) -> str:
    name = f"lb-{uuid.uuid4().hex[:6]}"
    for drift, ms, verdict in [(1.0, 10.0, "pass"), (3.0, 20.0, "pass"), (2.0, 30.0, "fail")]:
        finished(
            engine, model="emt", suite=name, status="completed", verdict=verdict,
            drift_percent=drift, drift_meV_per_atom_per_ps=-drift, inference_ms_per_step=ms,
        )  # fmt: skip
    finished(engine, model="emt", suite=name, status="crashed", verdict="fail")
    finished(engine, model="emt", suite=name, status="failed")  # not scored
    for ms in (5.0, 5.0):
        finished(engine, model="lj", suite=name, status="completed", drift_percent=0.5,
                 inference_ms_per_step=ms, verdict="pass")  # fmt: skip
    return name


def test_counts_rates_and_medians(engine: Engine, suite: str) -> None:
    with Session(engine) as session:
        lj = catalog.get_potential(session, key="lj")
        assert lj is not None
        rows = {r["model"]: r for r in leaderboard(session, suite=suite, baseline_id=lj.id)}
    emt = rows["emt"]
    assert (emt["runs"], emt["completed"], emt["crashed"], emt["failed"]) == (4, 3, 1, 1)
    assert emt["pass_rate"] == pytest.approx(2 / 4) and emt["crash_rate"] == pytest.approx(1 / 4)
    assert emt["median_drift_percent"] == pytest.approx(2.0)
    assert emt["median_abs_drift_meV_per_atom_per_ps"] == pytest.approx(2.0)
    assert emt["median_inference_ms_per_step"] == pytest.approx(20.0)
    assert emt["speedup"] == pytest.approx(5.0 / 20.0)  # vs lj on the same structure/device
    assert rows["lj"]["speedup"] == pytest.approx(1.0)


def test_inconclusive_and_protocol_invalid_are_counted_apart(engine: Engine) -> None:
    """Both states are shown on their own; a protocol-invalid run counts neither for nor
    against the pass rate (its control failed), an inconclusive one is not a pass."""
    name = f"lb-{uuid.uuid4().hex[:6]}"
    for verdict in ("pass", "fail", "inconclusive", "protocol invalid", "protocol invalid"):
        finished(engine, model="emt", suite=name, status="completed", verdict=verdict)
    with Session(engine) as session:
        row = {r["model"]: r for r in leaderboard(session, suite=name)}["emt"]
        stored = session.scalars(
            select(Run.verdict).where(Run.suite == name).order_by(Run.id)
        ).all()
    assert stored == ["pass", "fail", "inconclusive", "protocol invalid", "protocol invalid"]
    assert (row["runs"], row["passed"], row["inconclusive"], row["protocol_invalid"]) == (
        5, 1, 1, 2,
    )  # fmt: skip
    assert row["pass_rate"] == pytest.approx(1 / 3)


def test_sql_and_python_aggregation_agree(engine: Engine, suite: str) -> None:
    where = _filters(suite=suite, structure_id=None, temperature_K=None, until=None)
    with Session(engine) as session:
        sql, py = _aggregate_sql(session, where), _aggregate_python(session, where)
    assert sql.keys() == py.keys()
    for model_id in sql:
        for key, value in sql[model_id].items():
            if key == "model_id":
                continue
            if isinstance(value, float):
                assert py[model_id][key] == pytest.approx(value), key
            else:
                assert py[model_id][key] == value, key


def no_run_in_flight(engine: Engine) -> bool:
    """Runs queued by earlier tests and still finishing on their workers would move the
    leaderboard's data version under this test."""
    with Session(engine) as session:
        busy = select(func.count()).where(Run.status.in_(("queued", "running")))
        return session.scalar(busy) == 0


def test_cache_follows_finished_runs(engine: Engine, suite: str) -> None:
    wait_for(lambda: no_run_in_flight(engine), timeout=60, what="earlier tests' runs to end")
    cache = LeaderboardCache()
    with Session(engine) as session:
        first = cache.get(session, suite=suite)
        assert cache.get(session, suite=suite) is first and cache.hits == 1
    finished(engine, model="lj", suite=suite, status="crashed", verdict="fail")
    with Session(engine) as session:
        rows = {r["model"]: r for r in cache.get(session, suite=suite)}
    assert rows["lj"]["crashed"] == 1 and cache.misses == 2
