"""The run state machine on the real database: claim, ownership, reaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.db.base import utcnow
from app.db.models import Run
from tests.utils.factories import make_run

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


def claim(engine: Engine, run_id: int, worker: str) -> runs_crud.Claim | None:
    with Session(engine) as session:
        result = runs_crud.claim_run(session, run_id=run_id, worker=worker)
        session.commit()
        return result


def test_a_run_is_claimed_once(engine: Engine) -> None:
    run_id = make_run(engine)
    first = claim(engine, run_id, "w1")
    assert first is not None and first.attempt == 1
    assert claim(engine, run_id, "w2") is None  # duplicate delivery: no-op
    with Session(engine) as session:
        row = session.get(Run, run_id)
        assert row is not None and row.status == "running" and row.worker == "w1"
        row.status = "cancelled"  # tidy: keep the session's reapers away from it
        session.commit()


def test_writes_need_ownership(engine: Engine) -> None:
    run_id = make_run(engine)
    mine = claim(engine, run_id, "w1")
    assert mine is not None
    stranger = runs_crud.Claim(run_id=run_id, attempt=mine.attempt, worker="w2")
    with Session(engine) as session:
        assert runs_crud.heartbeat(session, claim=mine)
        assert not runs_crud.heartbeat(session, claim=stranger)
        ack = runs_crud.update_progress(
            session, claim=stranger, done_steps=5, total_steps=10, eta_at=None
        )
        assert not ack.owned
        assert not runs_crud.finish_run(
            session, claim=stranger, status="completed", failure_reason=None
        )
        assert runs_crud.finish_run(session, claim=mine, status="completed", failure_reason=None)
        session.commit()


def _stale_then_reap(engine: Engine, run_id: int) -> list[tuple[int, str]]:
    """Age the heartbeat and reap in ONE transaction, so that the session's background
    reapers (API and worker) cannot take the run first."""
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
        reaped = runs_crud.reap_stale_runs(
            session, now=utcnow(), stale_after_s=60, requeue_unsent_after_s=3600
        )
        session.commit()
    return [(r.run_id, r.action) for r in reaped if r.run_id == run_id]


def test_reaper_retries_then_fails_a_lost_run(engine: Engine) -> None:
    run_id = make_run(engine, max_attempts=2)
    assert claim(engine, run_id, "w1") is not None
    assert _stale_then_reap(engine, run_id) == [(run_id, "retry")]
    with Session(engine) as session:
        row = session.get(Run, run_id)
        assert row is not None and row.status == "queued" and row.worker is None
        reason = row.failure_reason or ""
        assert "worker w1 lost" in reason and "retrying (2 of 2)" in reason

    second = claim(engine, run_id, "w2")
    assert second is not None and second.attempt == 2
    assert _stale_then_reap(engine, run_id) == [(run_id, "failed")]
    with Session(engine) as session:
        row = session.get(Run, run_id)
        assert row is not None and row.status == "failed" and row.finished_at is not None
        assert "no attempts left (2 of 2)" in (row.failure_reason or "")


def test_reaper_resends_a_run_whose_message_was_never_published(engine: Engine) -> None:
    run_id = make_run(engine)
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(created_at=utcnow() - timedelta(hours=1))
        )
        session.commit()
        reaped = runs_crud.reap_stale_runs(
            session, now=utcnow(), stale_after_s=60, requeue_unsent_after_s=60
        )
    assert (run_id, "resend") in [(r.run_id, r.action) for r in reaped]
    with Session(engine) as session:  # tidy: not for the session's worker
        session.execute(update(Run).where(Run.id == run_id).values(status="cancelled"))
        session.commit()
