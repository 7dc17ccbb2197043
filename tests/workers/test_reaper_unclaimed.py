"""Queued runs whose message the broker lost are re-sent (issue 13, item 1), on the real
broker: only as many as the broker queue lacks, one reaper each (``take_unclaimed``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.base import utcnow
from app.db.models import Run
from app.services.queue import CeleryQueue
from app.services.reaper import reap_once
from tests.utils.factories import make_run
from workers.celery_app import TASK_RUN, TASK_VALIDATE, celery_app

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]


def test_lost_messages_are_resent_and_waiting_ones_are_not(
    service_settings: Settings, engine: Engine
) -> None:
    settings = service_settings.model_copy(
        update={
            "queue_prefix": f"{service_settings.queue_prefix}unclaimed-{uuid.uuid4().hex[:4]}-",
            "requeue_unclaimed_after_s": 60.0,
        }
    )
    name = settings.queue("cpu")  # no worker consumes it
    queue = CeleryQueue(settings)
    runs = [make_run(engine, queue=name) for _ in range(3)]
    for run_id in runs:
        queue.enqueue_run(run_id, name)
    assert queue.queue_depth(name) == 3

    def age() -> None:
        with Session(engine) as session:
            session.execute(
                update(Run)
                .where(Run.id.in_(runs))
                .values(enqueued_at=utcnow() - timedelta(hours=1))
            )
            session.commit()

    def resent() -> list[int]:
        done = reap_once(engine, settings=settings, queue=queue)
        return sorted(r.run_id for r in done if r.action == "unclaimed")

    age()
    assert resent() == []  # waiting in the broker: a long queue is not filled with copies
    assert queue.queue_depth(name) == 3

    client = redis.Redis.from_url(settings.broker_url)
    client.delete(name)  # the broker lost them (a restart without persistence)
    client.close()
    assert not queue.queue_depth(name)
    age()
    assert resent() == sorted(runs)
    assert queue.queue_depth(name) == 3
    assert resent() == []  # enqueued_at moved on: not again before the interval

    with Session(engine) as session:  # tidy
        session.execute(update(Run).where(Run.id.in_(runs)).values(status="cancelled"))
        session.commit()
    client = redis.Redis.from_url(settings.broker_url)
    client.delete(name)
    client.close()


def test_short_tasks_have_a_time_limit_and_runs_keep_theirs(service_settings: Settings) -> None:
    import workers.tasks  # noqa: F401  (registers the tasks)

    for name in ("mdval.validate_request", "mdval.describe_structure", "mdval.check_model"):
        task = celery_app.tasks[name]
        assert task.time_limit is not None and task.time_limit <= 600, name
        assert task.soft_time_limit is not None and task.soft_time_limit < task.time_limit
    assert TASK_VALIDATE == "mdval.validate_request"
    run = celery_app.tasks[TASK_RUN]
    assert run.time_limit is None or run.time_limit >= 3600  # the 48 h run limit
    assert celery_app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
