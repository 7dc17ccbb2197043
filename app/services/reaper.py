"""The stale-run reaper: nothing stays ``running`` after its worker died (runs, and
benchmark jobs, which end ``failed`` rather than being retried).

Runs in the API process (a daemon thread) and in every worker process; the conditional
UPDATEs in :func:`app.crud.runs.reap_stale_runs` make concurrent reapers harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import bench as bench_crud
from app.crud import runs as runs_crud
from app.crud.runs import Reaped
from app.db.base import utcnow
from app.services.queue import Queue

log = logging.getLogger(__name__)


def lost_messages(session: Session, queue: Queue, unclaimed: list[Reaped]) -> list[Reaped]:
    """Of the queued runs published long ago and still unclaimed (oldest first), those to
    publish again: per broker queue, as many as it holds fewer messages than it has queued
    runs (all of them when its depth cannot be read). A queue that merely waits for a free
    worker is left alone, so a long queue does not fill up with duplicates; a broker that
    came back empty gets every message again. A message for a run that ended meanwhile
    (a stale duplicate) counts as present until a worker drops it; the pass after that
    re-sends."""
    if not unclaimed:
        return []
    depth_of = getattr(queue, "queue_depth", None)
    queued = runs_crud.queued_counts(session)
    out: list[Reaped] = []
    for name in sorted({r.queue for r in unclaimed}):
        candidates = [r for r in unclaimed if r.queue == name]
        depth = depth_of(name) if callable(depth_of) else None
        missing = len(candidates) if depth is None else queued.get(name, 0) - int(depth)
        out += candidates[: max(0, min(missing, len(candidates)))]
    return out


def reap_once(engine: Engine, *, settings: Settings, queue: Queue) -> list[Reaped]:
    """One pass: requeue or fail lost runs, re-send unsent ones and those whose message the
    broker lost, publish after commit; fail benchmark jobs whose worker was lost."""
    with Session(engine, expire_on_commit=False) as session:
        found = runs_crud.reap_stale_runs(
            session,
            now=utcnow(),
            stale_after_s=settings.stale_after_s,
            requeue_unsent_after_s=settings.requeue_unsent_after_s,
            requeue_unclaimed_after_s=settings.requeue_unclaimed_after_s,
        )
        session.commit()
        reaped = [r for r in found if r.action != "unclaimed"]
        lost = lost_messages(session, queue, [r for r in found if r.action == "unclaimed"])
        cutoff = utcnow() - timedelta(seconds=settings.requeue_unclaimed_after_s)
        taken = set(
            runs_crud.take_unclaimed(session, run_ids=[r.run_id for r in lost], before=cutoff)
        )
        reaped += [r for r in lost if r.run_id in taken]
        session.commit()
        sent = []
        for r in reaped:
            log.warning("run %s: %s", r.run_id, r.action)
            if r.action in ("retry", "resend", "unclaimed"):
                try:
                    queue.enqueue_run(r.run_id, r.queue)
                    sent.append(r.run_id)
                except Exception:  # next pass re-sends (enqueued_at not refreshed)
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
