"""The worker's listener: buffered, batched, float64, cancel-aware, ownership-aware."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.db.models import ForceErrorRow, Run, ThermoRow
from tests.utils.factories import make_run
from workers.core_bridge import ForceErrorSample, ThermoRecord
from workers.listener import DbStreamingListener

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

#: float32 spacing at -900 eV is ~6e-5 eV; this value needs float64 all the way.
ETOT = -900.123456789012


def record(step: int) -> ThermoRecord:
    return ThermoRecord(
        phase="production",
        step=step,
        time_ps=step * 0.001,
        epot_eV=ETOT - 0.5,
        ekin_eV=0.5,
        etot_eV=ETOT + step * 1e-12,
        temperature_K=300.0,
        max_force_eV_per_A=1.0,
        inference_ms=0.1,
    )


@pytest.fixture
def claimed(engine: Engine) -> Iterator[runs_crud.Claim]:
    run_id = make_run(engine)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="listener-test")
        session.commit()
    assert claim is not None
    yield claim
    with Session(engine) as session:  # tidy: keep the session's reapers away from it
        session.execute(update(Run).where(Run.id == run_id).values(status="cancelled"))
        session.commit()


def thermo_rows(engine: Engine, run_id: int) -> list[ThermoRow]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(ThermoRow).where(ThermoRow.run_id == run_id).order_by(ThermoRow.seq)
            )
        )


def test_records_are_buffered_then_flushed_in_one_batch(
    engine: Engine, claimed: runs_crud.Claim
) -> None:
    listener = DbStreamingListener(engine, claimed, flush_interval_s=3600)
    listener.on_start({"n_atoms": 32, "formula": "Cu32", "total_steps": 1000})
    for step in range(0, 500, 10):
        listener.on_thermo(record(step))
        listener.on_progress(step, 1000)
    listener.on_force_errors(ForceErrorSample(10, 0.01, np.linspace(0, 1, 32), 0.5, 1e-3))
    assert thermo_rows(engine, claimed.run_id) == []  # buffered
    listener.flush()
    rows = thermo_rows(engine, claimed.run_id)
    assert [r.seq for r in rows] == list(range(50))
    assert rows[7].etot_eV == ETOT + 70 * 1e-12  # float64, bit for bit
    with Session(engine) as session:
        run = session.get(Run, claimed.run_id)
        assert run is not None and run.done_steps == 490 and run.progress == pytest.approx(0.49)
        assert run.n_atoms == 32
        fe = session.scalars(
            select(ForceErrorRow).where(ForceErrorRow.run_id == claimed.run_id)
        ).one()
        assert len(fe.per_atom_error_eV_per_A) == 32


def test_cancel_flag_and_lost_ownership_stop_the_run(
    engine: Engine, claimed: runs_crud.Claim
) -> None:
    listener = DbStreamingListener(engine, claimed, flush_interval_s=0)
    listener.on_thermo(record(0))
    assert not listener.should_cancel()
    with Session(engine) as session:
        runs_crud.request_cancel(session, run_id=claimed.run_id)
        session.commit()
    listener.on_thermo(record(10))
    assert listener.should_cancel() and not listener.lost
    with Session(engine) as session:  # someone else owns it now
        session.execute(update(Run).where(Run.id == claimed.run_id).values(attempt=99))
        session.commit()
    listener.on_thermo(record(20))
    assert listener.lost and listener.should_cancel()
    assert [r.seq for r in thermo_rows(engine, claimed.run_id)] == [0, 1]  # nothing written after
