"""A worker runs the runs of one submission that share a torch potential as one batch."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import Run, ThermoRow
from mdval.md.config import RunConfig
from mdval.md.protocol import run_validation
from tests.utils.factories import make_run
from workers.celery_app import TASK_RUN, create_celery

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog", "worker")]

#: 60 steps of the ultra-tiny student: a second or two per run.
STUDENT = {"timestep_fs": 0.5, "duration_ps": 0.03, "record_every": 5}


def _send_all(settings: Settings, run_ids: list[int]) -> list[dict[str, Any]]:
    celery = create_celery(settings)
    queue = settings.queue("cpu")
    sent = [celery.send_task(TASK_RUN, args=[i], queue=queue, routing_key=queue) for i in run_ids]
    outcomes = [s.get(timeout=240) for s in sent]
    for s in sent:
        s.forget()
    return outcomes


def _rows(engine: Engine, run_ids: list[int]) -> dict[int, Run]:
    with Session(engine) as session:
        rows = session.scalars(select(Run).where(Run.id.in_(run_ids))).all()
        session.expunge_all()
    return {r.id: r for r in rows}


def test_runs_sharing_a_potential_run_as_one_batch(
    service_settings: Settings, engine: Engine
) -> None:
    submission = str(uuid.uuid4())
    batchable = [
        make_run(
            engine,
            model="zoo:ultra-tiny",
            structure=name,
            submission_id=submission,
            config={**STUDENT, "temperature_K": t, "seed": k},
        )
        for k, (name, t) in enumerate(
            [("H2O", 300.0), ("CH4", 400.0), ("alanine-dipeptide", 500.0)]
        )
    ]
    other_step = make_run(
        engine,
        model="zoo:ultra-tiny",
        structure="H2O",
        submission_id=submission,
        config={**STUDENT, "timestep_fs": 0.25},
    )
    other_submission = make_run(engine, model="zoo:ultra-tiny", structure="H2O", config=STUDENT)
    ids = [*batchable, other_step, other_submission]

    outcomes = _send_all(service_settings, ids)

    assert outcomes[0]["batched_with"] == batchable[1:]
    assert [o["outcome"] for o in outcomes[1:3]] == ["duplicate", "duplicate"]
    assert "batched_with" not in outcomes[3] and "batched_with" not in outcomes[4]
    rows = _rows(engine, ids)
    for run_id in ids:
        assert rows[run_id].status == "completed", rows[run_id].failure_reason
    sizes = {i: rows[i].summary["provenance"]["batch_size"] for i in ids}  # type: ignore[index]
    assert sizes == {**dict.fromkeys(batchable, 3), other_step: 1, other_submission: 1}
    assert len({rows[i].worker for i in batchable}) == 1
    with Session(engine) as session:
        for run_id in batchable:  # each replica streamed its own records: steps 0, 5, ..., 60
            n = session.scalar(select(func.count()).where(ThermoRow.run_id == run_id))
            assert n == 13

    # a replica of the batch is the run alone: same seeded trajectory, same energies
    replica = rows[batchable[2]]
    alone = run_validation(RunConfig(**replica.config))
    together = replica.summary["metrics"]  # type: ignore[index]
    assert together["drift_meV_per_atom_per_ps"] == pytest.approx(
        alone.summary["metrics"]["drift_meV_per_atom_per_ps"], rel=1e-6, abs=1e-9
    )
    assert together["inference_ms_per_replica_step"] == pytest.approx(
        together["inference_ms_per_step"] / 3
    )


def test_a_bad_run_in_a_batch_fails_alone(service_settings: Settings, engine: Engine) -> None:
    submission = str(uuid.uuid4())
    good = make_run(
        engine, model="zoo:ultra-tiny", structure="H2O", submission_id=submission, config=STUDENT
    )
    bad = make_run(
        engine,
        model="zoo:ultra-tiny",
        structure="CH4",
        submission_id=submission,
        config={**STUDENT, "structure": "/no/such/structure.xyz"},
    )
    outcomes = _send_all(service_settings, [good, bad])
    assert outcomes[0]["batched_with"] == [bad]
    rows = _rows(engine, [good, bad])
    assert rows[good].status == "completed", rows[good].failure_reason
    assert rows[good].summary["provenance"]["batch_size"] == 1  # type: ignore[index]
    assert rows[bad].status == "failed"
    assert (rows[bad].failure_reason or "").startswith("invalid input:")
