"""The batch limit follows the device a run resolves to, not its queue's name (issue 14,
item 3): the standalone's CPU worker serves the ``gpu`` queue too and must not batch 256."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.crud import runs as runs_crud
from app.db.models import Run
from tests.utils.factories import make_run
from workers import core_bridge
from workers.tasks import batch_limit, claim_partners

STUDENT = {"timestep_fs": 0.5, "duration_ps": 0.03, "record_every": 5, "device": "auto"}


@pytest.fixture()
def small_cpu_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MDVAL_BATCH_MAX_REPLICAS_CPU", "3")
    monkeypatch.setenv("MDVAL_BATCH_MAX_REPLICAS_GPU", "256")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("small_cpu_limit")
def test_limit_by_device() -> None:
    assert batch_limit("cpu") == 3
    assert batch_limit("cuda") == batch_limit("cuda:1") == 256
    assert batch_limit(None) == 1  # a device this worker cannot give: never batch


@pytest.mark.service
@pytest.mark.usefixtures("catalog", "small_cpu_limit")
def test_a_cpu_worker_on_the_gpu_queue_batches_to_the_cpu_limit(engine: Engine) -> None:
    if core_bridge.resolved_device("auto") != "cpu":
        pytest.skip("needs a worker without CUDA (device auto resolves to cpu)")
    submission = str(uuid.uuid4())
    ids = [
        make_run(
            engine,
            model="zoo:ultra-tiny",
            structure="H2O",
            queue="gpu",
            submission_id=submission,
            config={**STUDENT, "seed": k},
        )
        for k in range(6)
    ]
    with Session(engine) as session:
        lead = runs_crud.claim_run(session, run_id=ids[0], worker="limit-test")
        session.commit()
    assert lead is not None
    try:
        partners = claim_partners(engine, lead)
        assert [c.run_id for c in partners] == ids[1:3]  # 3 in all, not 6 (the gpu limit)
    finally:
        with Session(engine) as session:
            session.execute(
                update(Run).where(Run.id.in_(ids)).values(status="cancelled", cancel_requested=True)
            )
            session.commit()
