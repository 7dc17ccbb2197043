"""The stale-run reaper: nothing stays ``running`` after its worker died (runs, and
benchmark jobs, which end ``failed`` rather than being retried).

Runs in the API process (a daemon thread) and in every worker process; the conditional
UPDATEs in :func:`app.crud.runs.reap_stale_runs` make concurrent reapers harmless.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import bench as bench_crud
from app.crud import runs as runs_crud
from app.crud.runs import Reaped
from app.db.base import utcnow
from app.services.queue import Queue

log = logging.getLogger(__name__)


def reap_once(engine: Engine, *, settings: Settings, queue: Queue) -> list[Reaped]:
    """One pass: requeue or fail lost runs, re-send unsent ones, publish after commit; fail
    benchmark jobs whose worker was lost."""
    with Session(engine, expire_on_commit=False) as session:
        reaped = runs_crud.reap_stale_runs(
            session,
            now=utcnow(),
            stale_after_s=settings.stale_after_s,
            requeue_unsent_after_s=settings.requeue_unsent_after_s,
        )
        session.commit()
        sent = []
        for r in reaped:
            log.warning("run %s: %s", r.run_id, r.action)
            if r.action in ("retry", "resend"):
                try:
                    queue.enqueue_run(r.run_id, r.queue)
                    sent.append(r.run_id)
                except Exception:  # next pass re-sends (enqueued_at stays NULL)
                    log.exception("could not publish run %s", r.run_id)
        runs_crud.mark_enqueued(session, run_ids=sent)
        session.commit()
        for job_id in bench_crud.fail_lost_jobs(
            session, now=utcnow(), stale_after_s=settings.stale_after_s
        ):
            log.warning("benchmark %s: worker lost; failed", job_id)
        session.commit()
    return reaped


class ReaperThread(threading.Thread):
    """Calls :func:`reap_once` every ``settings.reaper_interval_s`` until stopped."""

    def __init__(self, engine: Engine, *, settings: Settings, queue: Queue) -> None:
        super().__init__(name="mdval-reaper", daemon=True)
        self.engine = engine
        self.settings = settings
        self.queue = queue
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.settings.reaper_interval_s):
            try:
                reap_once(self.engine, settings=self.settings, queue=self.queue)
            except Exception:  # keep reaping after a database hiccup
                log.exception("reaper pass failed")

    def stop(self) -> None:
        self.stopping.set()
