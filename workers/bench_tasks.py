"""The benchmark task: ``mdval bench`` on a worker, its report stored in the database.

``mdval.bench`` claims its ``bench_jobs`` row with one conditional UPDATE (``queued ->
running``, worker name); a duplicate delivery finds it claimed or ended and returns at once.
A heartbeat thread keeps ``heartbeat_at`` (and the last progress line) fresh so that the
reaper can tell a long benchmark from a dead worker. The outcome — records, the core's
analysis, the context of the machine, or the reason it failed — is written only while this
worker still owns the row.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.crud import bench as bench_crud
from app.db.session import get_engine
from workers import core_bridge
from workers.celery_app import TASK_BENCH, celery_app
from workers.tasks import failure_reason, worker_name

log = logging.getLogger(__name__)


class BenchHeartbeat(threading.Thread):
    """Every ``interval_s``: refresh the job's heartbeat and its last progress line."""

    def __init__(self, engine: Engine, job_id: int, worker: str, interval_s: float) -> None:
        super().__init__(name=f"mdval-bench-heartbeat-{job_id}", daemon=True)
        self.engine = engine
        self.job_id = job_id
        self.worker = worker
        self.interval_s = interval_s
        self.stopping = threading.Event()
        self.line: str | None = None
        self._sent: str | None = None

    def say(self, line: str) -> None:
        """The benchmark's progress callback: keep the newest line for the next beat."""
        self.line = line

    def beat(self) -> bool:
        line = self.line
        with Session(self.engine) as session:
            owned = bench_crud.heartbeat(
                session,
                job_id=self.job_id,
                worker=self.worker,
                progress=line if line != self._sent else None,
            )
            session.commit()
        self._sent = line
        return owned

    def run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            try:
                if not self.beat():
                    log.warning("benchmark %s: no longer owned by %s", self.job_id, self.worker)
                    return
            except Exception:  # keep beating after a database hiccup
                log.exception("benchmark %s: heartbeat failed", self.job_id)

    def stop(self) -> None:
        self.stopping.set()


@celery_app.task(name=TASK_BENCH, bind=True, acks_late=True)
def bench_task(self: Any, job_id: int) -> dict[str, Any]:
    """Run one benchmark job. Returns what happened (``duplicate`` when not claimed)."""
    settings = get_settings()
    engine = get_engine(settings.database_url)
    worker = worker_name(self.request.hostname)
    with Session(engine) as session:
        plan = bench_crud.claim_job(session, job_id=job_id, worker=worker)
        session.commit()
    if plan is None:
        log.info("benchmark %s: not queued any more (duplicate delivery); skipped", job_id)
        return {"job_id": job_id, "outcome": "duplicate"}
    log.info("benchmark %s: started on %s", job_id, worker)
    return execute(engine, job_id=job_id, worker=worker, plan=plan)


def execute(engine: Engine, *, job_id: int, worker: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Run a claimed job's plan with the core and record the outcome."""
    settings = get_settings()
    heartbeat = BenchHeartbeat(engine, job_id, worker, settings.heartbeat_interval_s)
    heartbeat.start()
    status, reason, report = "failed", None, None
    try:
        report = core_bridge.bench(plan, progress=heartbeat.say)
        status = "completed"
    except core_bridge.InputError as exc:
        reason = f"invalid input: {exc}"
    except Exception as exc:  # the system broke, or the time limit hit: record why
        reason = failure_reason(exc)
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=5)
    with Session(engine) as session:
        written = bench_crud.finish_job(
            session,
            job_id=job_id,
            worker=worker,
            status=status,
            failure_reason=reason,
            report=report,
        )
        session.commit()
    if not written:
        log.warning("benchmark %s: result discarded (ownership lost)", job_id)
        return {"job_id": job_id, "outcome": "lost"}
    log.info("benchmark %s: %s (%s)", job_id, status, reason or "ok")
    n_records = len(report["records"]) if report else 0
    return {"job_id": job_id, "outcome": status, "records": n_records}
