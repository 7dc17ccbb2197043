"""The API's side of the queue: enqueue runs and call the short validation tasks, by name.

The API never imports the task code (it would pull in torch and ase); it sends messages
with :meth:`Celery.send_task` and, for validation, waits for the result with a timeout.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from celery import Celery
from celery.exceptions import TimeLimitExceeded, WorkerLostError
from celery.exceptions import TimeoutError as CeleryTimeout

from app.api.errors import ApiError
from app.core.config import Settings
from workers.celery_app import (
    TASK_BENCH,
    TASK_CHECK_MODEL,
    TASK_DESCRIBE_STRUCTURE,
    TASK_RUN,
    TASK_VALIDATE,
    create_celery,
)

log = logging.getLogger(__name__)


class Queue(Protocol):
    """What the routes need from the queue (a fake in unit tests)."""

    def enqueue_run(self, run_id: int, queue: str) -> None: ...

    def enqueue_bench(self, job_id: int, queue: str) -> None: ...

    def validate(self, payload: dict[str, Any]) -> dict[str, Any]: ...

    def check_model(self, model_id: int) -> dict[str, Any] | None: ...

    def describe_structure(self, core_spec: str) -> dict[str, Any]: ...

    def ping_broker(self, timeout_s: float) -> str: ...


class CeleryQueue:
    """:class:`Queue` over Celery."""

    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        self.settings = settings
        self.app = app or create_celery(settings)

    def enqueue_run(self, run_id: int, queue: str) -> None:
        # ignore_result: the runs row records the outcome; no result subscription per send
        self.app.send_task(
            TASK_RUN, args=[run_id], queue=queue, routing_key=queue, ignore_result=True
        )

    def enqueue_bench(self, job_id: int, queue: str) -> None:
        # the bench_jobs row records the outcome, as for runs
        self.app.send_task(
            TASK_BENCH, args=[job_id], queue=queue, routing_key=queue, ignore_result=True
        )

    def queue_depth(self, queue: str) -> int | None:
        """Messages waiting in broker queue ``queue`` (None when it cannot be read)."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=5)
                declared = conn.default_channel.queue_declare(queue=queue, passive=True)
                return int(declared.message_count)
        except Exception:  # a queue never declared, a broker down: unknown
            log.debug("could not read the depth of queue %s", queue, exc_info=True)
            return None

    def _call(self, name: str, kwargs: dict[str, Any], what: str) -> Any:
        queue = self.settings.queue("validate")
        try:
            result = self.app.send_task(name, kwargs=kwargs, queue=queue, routing_key=queue)
        except Exception as exc:  # broker down
            raise ApiError(503, f"the job queue is unreachable ({exc}); try again later") from exc
        try:
            return result.get(timeout=self.settings.validate_timeout_s, interval=0.05)
        except CeleryTimeout as exc:
            result.forget()
            raise ApiError(
                503,
                f"no worker answered the {what} within {self.settings.validate_timeout_s:g} s: "
                f"is a worker consuming the queue '{queue}'? Nothing was queued.",
            ) from exc
        except (TimeLimitExceeded, WorkerLostError) as exc:  # the hard limit killed it
            raise ApiError(
                422,
                f"the {what} took longer than the limit of "
                f"{self.settings.short_task_time_limit_s:g} s on the worker and was stopped "
                "(setting MDVAL_SHORT_TASK_TIME_LIMIT_S): use a smaller structure or model. "
                "Nothing was queued.",
            ) from exc
        finally:
            try:
                result.forget()
            except Exception:  # best-effort cleanup of a result key
                log.debug("could not forget result %s", result.id)

    def validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call(TASK_VALIDATE, {"payload": payload}, "validation request"))

    def check_model(self, model_id: int) -> dict[str, Any] | None:
        """Test-forward an uploaded model on a worker; None when it takes too long (the
        check still finishes in the background and updates the row)."""
        try:
            return dict(self._call(TASK_CHECK_MODEL, {"model_id": model_id}, "model check"))
        except ApiError as exc:
            if exc.status_code == 503 and "no worker answered" in exc.detail:
                return None
            raise

    def describe_structure(self, core_spec: str) -> dict[str, Any]:
        return dict(
            self._call(TASK_DESCRIBE_STRUCTURE, {"core_spec": core_spec}, "structure check")
        )

    def ping_broker(self, timeout_s: float) -> str:
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
            return f"{conn.transport_cls} reachable"
