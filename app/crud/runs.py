"""Run rows: creation, listing, and the state machine the workers drive.

Every transition is one conditional UPDATE, so that concurrent workers, duplicate
deliveries and the reaper can never both win: a worker writes only while the row is
``running`` with its own ``attempt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import FINISHED_STATUSES, VERDICTS, Counter, Run

#: The counter bumped whenever a run reaches a final state.
FINISHED_COUNTER = "finished_runs"

#: Columns copied from ``summary["metrics"]`` into indexed columns of ``runs``.
SUMMARY_METRIC_COLUMNS = (
    "drift_meV_per_atom_per_ps",
    "drift_percent",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "energy_rmse_meV_per_atom",
    "inference_ms_per_step",
    "inference_ms_per_replica_step",
    "step_ms",
)


def bump_finished(session: Session, n: int = 1) -> None:
    """Count ``n`` more finished runs (the leaderboard cache's version), in the caller's
    transaction."""
    if n <= 0:
        return
    updated = session.execute(
        update(Counter).where(Counter.name == FINISHED_COUNTER).values(value=Counter.value + n)
    )
    if not getattr(updated, "rowcount", 0):
        session.add(Counter(name=FINISHED_COUNTER, value=n))
        session.flush()


def finished_count(session: Session) -> int:
    return session.scalar(select(Counter.value).where(Counter.name == FINISHED_COUNTER)) or 0


def get_run(session: Session, *, run_id: int) -> Run | None:
    return session.get(Run, run_id)


def runs_query(
    *,
    model_ids: list[int] | None = None,
    status: list[str] | None = None,
    suite: str | None = None,
    since: datetime | None = None,
    submission_id: str | None = None,
) -> Select[Run]:
    stmt = select(Run)
    if model_ids is not None:
        stmt = stmt.where(Run.model_id.in_(model_ids))
    if status:
        stmt = stmt.where(Run.status.in_(status))
    if suite is not None:
        stmt = stmt.where(Run.suite == suite)
    if since is not None:
        stmt = stmt.where(Run.created_at >= since)
    if submission_id is not None:
        stmt = stmt.where(Run.submission_id == submission_id)
    return stmt


def list_runs(
    session: Session, *, stmt: Select[Run], limit: int, offset: int
) -> tuple[list[Run], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.order_by(Run.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def mark_enqueued(session: Session, *, run_ids: list[int]) -> None:
    if run_ids:
        session.execute(
            update(Run)
            .where(Run.id.in_(run_ids), Run.status == "queued")
            .values(enqueued_at=utcnow())
        )


def request_cancel(session: Session, *, run_id: int) -> str | None:
    """Cancel a run: a queued run ends ``cancelled`` now; a running one is flagged and its
    worker stops at the next record. Returns the status after the request (None: no row)."""
    now = utcnow()
    cancelled = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "queued")
        .values(
            status="cancelled",
            cancel_requested=True,
            finished_at=now,
            failure_reason="cancelled before it started",
        )
        .returning(Run.id)
    ).first()
    if cancelled is not None:
        bump_finished(session)
    session.execute(
        update(Run).where(Run.id == run_id, Run.status == "running").values(cancel_requested=True)
    )
    return session.scalar(select(Run.status).where(Run.id == run_id))


# --- the worker's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a worker owns after claiming: the row while it is ``running`` at ``attempt``."""

    run_id: int
    attempt: int
    worker: str


def claim_run(session: Session, *, run_id: int, worker: str) -> Claim | None:
    """``queued -> running`` with attempt + 1, in ONE conditional UPDATE.

    Returns None when the row is not queued (a duplicate delivery, a cancelled or finished
    run): the caller then does nothing.
    """
    now = utcnow()
    row = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "queued")
        .values(
            status="running",
            attempt=Run.attempt + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            done_steps=0,
            progress=0.0,
            eta_at=None,
        )
        .returning(Run.attempt)
    ).first()
    return None if row is None else Claim(run_id=run_id, attempt=row[0], worker=worker)


def batch_candidates(session: Session, *, lead: Run, limit: int) -> list[Run]:
    """Queued runs of ``lead``'s submission with its model, queue and device (oldest
    first): the runs a worker may claim to run in one batch with ``lead``."""
    stmt = (
        select(Run)
        .where(
            Run.submission_id == lead.submission_id,
            Run.status == "queued",
            Run.model_id == lead.model_id,
            Run.queue == lead.queue,
            Run.device == lead.device,
            Run.id != lead.id,
        )
        .order_by(Run.id)
        .limit(limit)
    )
    return list(session.scalars(stmt).all())


def _owned(claim: Claim) -> Any:
    return (
        (Run.id == claim.run_id)
        & (Run.status == "running")
        & (Run.attempt == claim.attempt)
        & (Run.worker == claim.worker)
    )


def heartbeat(session: Session, *, claim: Claim) -> bool:
    """Refresh the heartbeat; False when the worker no longer owns the run."""
    result = session.execute(
        update(Run).where(_owned(claim)).values(heartbeat_at=utcnow()).returning(Run.id)
    ).first()
    return result is not None


@dataclass(frozen=True)
class ProgressAck:
    owned: bool
    cancel_requested: bool


def update_progress(
    session: Session,
    *,
    claim: Claim,
    done_steps: int,
    total_steps: int | None,
    eta_at: datetime | None,
    n_atoms: int | None = None,
    formula: str | None = None,
) -> ProgressAck:
    """Progress, ETA and heartbeat in one UPDATE that also reads the cancel flag."""
    values: dict[str, Any] = {
        "done_steps": done_steps,
        "total_steps": total_steps,
        "progress": min(1.0, done_steps / total_steps) if total_steps else 0.0,
        "eta_at": eta_at,
        "heartbeat_at": utcnow(),
    }
    if n_atoms is not None:
        values["n_atoms"] = n_atoms
    if formula is not None:
        values["formula"] = formula
    row = session.execute(
        update(Run).where(_owned(claim)).values(**values).returning(Run.cancel_requested)
    ).first()
    if row is None:
        return ProgressAck(owned=False, cancel_requested=True)
    return ProgressAck(owned=True, cancel_requested=bool(row[0]))


def summary_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns of ``runs`` taken from a core summary (missing keys -> None)."""
    metrics = summary.get("metrics") or {}
    values: dict[str, Any] = {}
    for name in SUMMARY_METRIC_COLUMNS:
        value = metrics.get(name, summary.get(name))
        values[name] = float(value) if isinstance(value, int | float) else None
    provenance = summary.get("provenance") or {}
    device = provenance.get("device_name") or provenance.get("device")
    values["device_name"] = str(device)[:200] if device is not None else None
    verdict = summary.get("verdict")
    values["verdict"] = verdict if verdict in VERDICTS else None
    recommendation = summary.get("recommendation")
    if isinstance(recommendation, dict):
        recommendation = recommendation.get("recommendation") or recommendation.get("name")
    values["recommendation"] = str(recommendation)[:100] if recommendation else None
    ttf = summary.get("time_to_failure_ps")
    values["time_to_failure_ps"] = float(ttf) if isinstance(ttf, int | float) else None
    size = metrics.get("batch_size", provenance.get("batch_size"))
    values["batch_size"] = int(size) if isinstance(size, int | float) and size >= 1 else None
    if values["inference_ms_per_replica_step"] is None and values["inference_ms_per_step"]:
        # summaries from before per-replica timing: a batch's time over its size
        values["inference_ms_per_replica_step"] = values["inference_ms_per_step"] / (
            values["batch_size"] or 1
        )
    return values


def finish_run(
    session: Session,
    *,
    claim: Claim,
    status: str,
    failure_reason: str | None,
    summary: dict[str, Any] | None = None,
    out_dir: str | None = None,
    trajectory_path: str | None = None,
) -> bool:
    """Write the final state; False when the worker no longer owns the run."""
    if status not in FINISHED_STATUSES:
        raise ValueError(f"not a final status: {status}")
    now = utcnow()
    values: dict[str, Any] = {
        "status": status,
        "failure_reason": failure_reason,
        "finished_at": now,
        "heartbeat_at": now,
        "eta_at": None,
        "out_dir": out_dir,
        "trajectory_path": trajectory_path,
    }
    if status == "completed":
        values["progress"] = 1.0
    if summary is not None:
        values["summary"] = summary
        values.update(summary_columns(summary))
    if status == "cancelled":
        # a cancelled run decides nothing: no verdict, whatever the part it ran looked like
        values["verdict"] = values["recommendation"] = None
    result = session.execute(update(Run).where(_owned(claim)).values(**values).returning(Run.id))
    written = result.first() is not None
    if written:
        bump_finished(session)
    return written


# --- the reaper -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reaped:
    run_id: int
    action: str  # "retry" | "failed" | "cancelled" | "resend" | "unclaimed"
    queue: str


def reap_stale_runs(
    session: Session,
    *,
    now: datetime,
    stale_after_s: float,
    requeue_unsent_after_s: float,
    requeue_unclaimed_after_s: float | None = None,
) -> list[Reaped]:
    """Runs whose worker died (no heartbeat for ``stale_after_s``) go back to ``queued``
    while attempts remain, else end ``failed``; queued runs whose message was never
    published are re-sent (``resend``). Queued runs published more than
    ``requeue_unclaimed_after_s`` ago that no worker has claimed are returned as
    ``unclaimed``, oldest first: their message may be lost (a broker that came back empty);
    the caller re-sends as many as its broker queue lacks (:func:`app.services.reaper.reap_once`)
    — a duplicate is harmless, its claim finds the row taken. The caller publishes the
    returned retries/resends after commit.
    """
    cutoff = now - timedelta(seconds=stale_after_s)
    reaped: list[Reaped] = []
    stale = session.execute(
        select(
            Run.id,
            Run.attempt,
            Run.max_attempts,
            Run.worker,
            Run.heartbeat_at,
            Run.queue,
            Run.cancel_requested,
        ).where(Run.status == "running", Run.heartbeat_at < cutoff)
    ).all()
    for run_id, attempt, max_attempts, worker, beat, queue, cancel in stale:
        since = f"{beat:%Y-%m-%d %H:%M:%S} UTC"
        lost = f"attempt {attempt}: worker {worker} lost (no heartbeat since {since})"
        guard = (
            (Run.id == run_id)
            & (Run.status == "running")
            & (Run.attempt == attempt)
            & (Run.heartbeat_at < cutoff)
        )
        if cancel:
            values: dict[str, Any] = {"status": "cancelled", "finished_at": now, "eta_at": None}
            values["failure_reason"] = f"{lost}; it had been cancelled"
            action = "cancelled"
        elif attempt < max_attempts:
            values = {"status": "queued", "worker": None, "enqueued_at": None, "eta_at": None}
            values["failure_reason"] = f"{lost}; retrying ({attempt + 1} of {max_attempts})"
            action = "retry"
        else:
            values = {"status": "failed", "finished_at": now, "eta_at": None}
            values["failure_reason"] = f"{lost}; no attempts left ({attempt} of {max_attempts})"
            action = "failed"
        if session.execute(update(Run).where(guard).values(**values).returning(Run.id)).first():
            reaped.append(Reaped(run_id=run_id, action=action, queue=queue))
            if action != "retry":
                bump_finished(session)

    unsent_cutoff = now - timedelta(seconds=requeue_unsent_after_s)
    for run_id, queue in session.execute(
        select(Run.id, Run.queue).where(
            Run.status == "queued", Run.enqueued_at.is_(None), Run.created_at < unsent_cutoff
        )
    ).all():
        if not any(r.run_id == run_id for r in reaped):
            reaped.append(Reaped(run_id=run_id, action="resend", queue=queue))

    if requeue_unclaimed_after_s is not None:
        unclaimed_cutoff = now - timedelta(seconds=requeue_unclaimed_after_s)
        for run_id, queue in session.execute(
            select(Run.id, Run.queue)
            .where(
                Run.status == "queued",
                Run.worker.is_(None),
                Run.enqueued_at.is_not(None),
                Run.enqueued_at < unclaimed_cutoff,
            )
            .order_by(Run.enqueued_at, Run.id)
        ).all():
            reaped.append(Reaped(run_id=run_id, action="unclaimed", queue=queue))
    return reaped


def take_unclaimed(session: Session, *, run_ids: list[int], before: datetime) -> list[int]:
    """Of ``run_ids``, those still queued and published before ``before``, with their
    ``enqueued_at`` moved to now in the same conditional UPDATE: of concurrent reapers
    (the API's and every worker's), one re-sends each run."""
    if not run_ids:
        return []
    rows = session.execute(
        update(Run)
        .where(
            Run.id.in_(run_ids),
            Run.status == "queued",
            Run.enqueued_at.is_not(None),
            Run.enqueued_at < before,
        )
        .values(enqueued_at=utcnow())
        .returning(Run.id)
    ).all()
    return [int(r[0]) for r in rows]


def queued_counts(session: Session) -> dict[str, int]:
    """Queued runs per queue (the messages each broker queue should hold at least)."""
    rows = session.execute(
        select(Run.queue, func.count()).where(Run.status == "queued").group_by(Run.queue)
    ).all()
    return {queue: int(n) for queue, n in rows}
