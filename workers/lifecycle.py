"""Worker process life: a presence row for the health endpoint, the stale-run reaper, and a
clean database pool in every forked child."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.db.base import utcnow
from app.db.models import WorkerHeartbeat
from app.db.session import get_engine
from app.services.queue import CeleryQueue
from app.services.reaper import reap_once

log = logging.getLogger(__name__)

_state: dict[str, Any] = {}


class Presence(threading.Thread):
    """Every heartbeat interval: upsert this worker's row; every reaper interval: reap."""

    def __init__(self, name: str, queues: list[str]) -> None:
        super().__init__(name="mdval-presence", daemon=True)
        self.worker_name = name
        self.queues = queues
        self.stopping = threading.Event()

    def beat(self) -> None:
        settings = get_settings()
        with Session(get_engine(settings.database_url)) as session:
            row = session.get(WorkerHeartbeat, self.worker_name)
            if row is None:
                row = WorkerHeartbeat(
                    name=self.worker_name,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    queues=self.queues,
                    started_at=utcnow(),
                )
                session.add(row)
            row.last_seen_at = utcnow()
            row.queues = self.queues
            session.commit()

    def run(self) -> None:
        settings = get_settings()
        engine = get_engine(settings.database_url)
        queue = CeleryQueue(settings)
        last_reap = 0.0
        elapsed = 0.0
        while True:
            try:
                self.beat()
                if (
                    settings.reaper_interval_s > 0
                    and elapsed - last_reap >= settings.reaper_interval_s
                ):
                    last_reap = elapsed
                    reap_once(engine, settings=settings, queue=queue)
            except Exception:  # keep going after a database hiccup
                log.exception("presence/reaper pass failed")
            if self.stopping.wait(settings.heartbeat_interval_s):
                return
            elapsed += settings.heartbeat_interval_s

    def stop(self) -> None:
        self.stopping.set()


def _on_ready(sender: Any = None, **_kwargs: Any) -> None:
    consumer = sender if hasattr(sender, "task_consumer") else getattr(sender, "consumer", None)
    queues = []
    if consumer is not None and consumer.task_consumer is not None:
        queues = sorted(q.name for q in consumer.task_consumer.queues)
    name = getattr(sender, "hostname", None) or socket.gethostname()
    presence = Presence(str(name), queues)
    presence.start()
    _state["presence"] = presence


def _on_shutdown(**_kwargs: Any) -> None:
    presence = _state.pop("presence", None)
    if presence is None:
        return
    presence.stop()
    try:
        settings = get_settings()
        with Session(get_engine(settings.database_url)) as session:
            session.execute(
                delete(WorkerHeartbeat).where(WorkerHeartbeat.name == presence.worker_name)
            )
            session.commit()
    except Exception:
        log.exception("could not remove the presence row")


def _on_child_init(**_kwargs: Any) -> None:
    """A forked child must not reuse the parent's pooled database connections."""
    info = get_engine.cache_info()
    if info.currsize:
        for engine in _cached_engines():
            engine.dispose(close=False)
        get_engine.cache_clear()


def _cached_engines() -> list[Any]:
    settings = get_settings()
    return [get_engine(settings.database_url)]


def install() -> None:
    """Connect the signal handlers (idempotent)."""
    if _state.get("installed"):
        return
    worker_ready.connect(_on_ready, weak=False)
    worker_shutdown.connect(_on_shutdown, weak=False)
    worker_process_init.connect(_on_child_init, weak=False)
    _state["installed"] = True
