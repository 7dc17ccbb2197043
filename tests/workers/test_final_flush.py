"""The final flush of a run's series (issue 13, item 11c): retried when it fails, and a run
whose series could not be stored does not end ``completed``. The database fails for real: a
trigger on the test's own database rejects the run's thermo rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.db.models import Run, ThermoRow
from tests.utils.factories import make_run
from workers.core_bridge import ThermoRecord
from workers.listener import DbStreamingListener, Heartbeat
from workers.tasks import _record

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

N_ROWS = 5
#: The task's heartbeat beats through the final flush; the tests beat as the task does, on
#: the session's short interval (its reaper calls a run stale after 6 s, and a final flush
#: that keeps failing retries for 7.5 s: without the beat the run would be re-queued).
BEAT_S = 1.0


@pytest.fixture
def reject_thermo(engine: Engine) -> Iterator[object]:
    """``reject(run_id, times)``: the next ``times`` thermo inserts of the run fail."""
    name = f"reject_{uuid.uuid4().hex[:8]}"

    def reject(run_id: int, times: int) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SEQUENCE {name}_seq"))
            conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.run_id = {int(run_id)} AND nextval('{name}_seq') <= {int(times)} "
                    "THEN RAISE EXCEPTION 'injected fault: thermo insert rejected'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON thermo FOR EACH ROW "
                    f"EXECUTE FUNCTION {name}()"
                )
            )

    yield reject
    with engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON thermo"))
        conn.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
        conn.execute(text(f"DROP SEQUENCE IF EXISTS {name}_seq"))


def _listener(engine: Engine) -> DbStreamingListener:
    run_id = make_run(engine)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="flush-test")
        session.commit()
    assert claim is not None
    listener = DbStreamingListener(engine, claim, flush_interval_s=3600)
    listener.on_start({"total_steps": 10 * (N_ROWS - 1), "n_atoms": 4, "formula": "Cu4"})
    for i in range(N_ROWS):
        listener.on_thermo(
            ThermoRecord("production", 10 * i, 0.02 * i, -1.0, 0.1, -0.9, 300.0, 0.5, 1.0)
        )
    return listener


def _state(engine: Engine, run_id: int) -> tuple[str, str | None, int]:
    with Session(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        n = session.scalar(select(func.count()).where(ThermoRow.run_id == run_id)) or 0
        return run.status, run.failure_reason, int(n)


def test_a_failed_final_flush_is_retried(
    engine: Engine, reject_thermo: object, tmp_path: Path
) -> None:
    listener = _listener(engine)
    reject_thermo(listener.claim.run_id, 2)  # type: ignore[operator]
    with Heartbeat(engine, [listener], BEAT_S):
        out = _record(engine, listener, ("completed", None, None), tmp_path)
    assert out["outcome"] == "completed"
    assert _state(engine, listener.claim.run_id) == ("completed", None, N_ROWS)


def test_a_run_whose_series_cannot_be_stored_fails_with_the_reason(
    engine: Engine, reject_thermo: object, tmp_path: Path
) -> None:
    listener = _listener(engine)
    reject_thermo(listener.claim.run_id, 10**6)  # type: ignore[operator]
    with Heartbeat(engine, [listener], BEAT_S):
        out = _record(engine, listener, ("completed", None, None), tmp_path)
    status, reason, n = _state(engine, listener.claim.run_id)
    assert out["outcome"] == status == "failed"
    assert n == 0
    assert reason is not None and "could not be stored" in reason and "injected fault" in reason
    assert f"{N_ROWS} rows" in reason and "ended it completed" in reason
