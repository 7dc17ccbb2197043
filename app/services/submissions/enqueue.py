"""Publishing written runs to the broker, after the commit that wrote them."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.services.queue import Queue

log = logging.getLogger(__name__)


def enqueue_runs(session: Session, *, queue: Queue, runs: list[tuple[int, str]]) -> None:
    """Publish after the commit; a failed publish is retried by the reaper
    (``requeue_unsent_after_s``) because ``enqueued_at`` stays NULL."""
    sent = []
    for run_id, queue_name in runs:
        try:
            queue.enqueue_run(run_id, queue_name)
            sent.append(run_id)
        except Exception:  # the reaper re-sends it
            log.exception("could not publish run %s; the reaper will retry", run_id)
    runs_crud.mark_enqueued(session, run_ids=sent)
    session.commit()
