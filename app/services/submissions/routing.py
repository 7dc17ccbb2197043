"""Which broker queue a run goes to, and which workers are alive on a queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import catalog
from app.db.base import utcnow
from app.db.models import Potential, WorkerHeartbeat


def live_workers_on(session: Session, *, settings: Settings, queue: str) -> list[str]:
    """Names of the workers that consume ``queue`` and sent a heartbeat recently (the same
    window as ``GET /health``)."""
    cutoff = utcnow() - timedelta(seconds=3 * settings.heartbeat_interval_s + 5)
    rows = session.scalars(
        select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= cutoff)
    ).all()
    return [w.name for w in rows if queue in (w.queues or [])]


def route_queue(settings: Settings, *, model: Potential, device: str) -> str:
    """``gpu`` or ``cpu`` (prefixed): by the device asked for, then by the potential."""
    if model.kind == "xtb" or device == "cpu":
        return settings.queue("cpu")
    if device == "cuda":
        return settings.queue("gpu")
    queue = settings.auto_device_queue if catalog.uses_torch(model) else "cpu"
    return settings.queue(queue)
