"""Redeliveries are harmless: the same message delivered twice runs the run once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import Run, ThermoRow
from tests.utils.factories import make_run
from workers.celery_app import TASK_RUN, create_celery

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog", "worker")]


def test_the_same_message_twice_runs_once(service_settings: Settings, engine: Engine) -> None:
    run_id = make_run(engine, config={"duration_ps": 0.1, "record_every": 5})
    celery = create_celery(service_settings)
    queue = service_settings.queue("cpu")
    first = celery.send_task(TASK_RUN, args=[run_id], queue=queue, routing_key=queue)
    second = celery.send_task(TASK_RUN, args=[run_id], queue=queue, routing_key=queue)
    outcomes = sorted(
        [first.get(timeout=180)["outcome"], second.get(timeout=180)["outcome"]],
        key=lambda o: o == "duplicate",
    )
    first.forget()
    second.forget()
    assert outcomes[1] == "duplicate" and outcomes[0] != "duplicate"
    with Session(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None and run.attempt == 1
        assert run.status in ("completed", "crashed"), run.failure_reason
        n = session.scalar(select(func.count()).where(ThermoRow.run_id == run_id))
        assert n == 11  # steps 0, 5, ..., 50 once, not twice


def test_a_message_for_a_finished_or_unknown_run_is_a_no_op(
    service_settings: Settings, engine: Engine
) -> None:
    celery = create_celery(service_settings)
    queue = service_settings.queue("cpu")
    result = celery.send_task(TASK_RUN, args=[10**9], queue=queue, routing_key=queue)
    assert result.get(timeout=60) == {"run_id": 10**9, "outcome": "duplicate"}
    result.forget()
