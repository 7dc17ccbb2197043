"""Benchmark jobs (``mdval bench`` run by a worker) and their records.

The state machine is that of a run without retries: ``queued -> running -> completed |
failed``. Every transition is one conditional UPDATE, so a duplicate delivery, a second
worker or the reaper can never both win; the worker writes only while the row is
``running`` under its own name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import BenchJob, BenchRecordRow

#: Keys of a core ``BenchRecord`` stored as columns of ``bench_records`` (units in the
#: names, as in the record); every other key of the record goes to ``extra``.
RECORD_COLUMNS = (
    "experiment",
    "model",
    "structure",
    "n_atoms",
    "engine",
    "replicas",
    "device",
    "inference_ms_per_step",
    "step_ms",
    "harness_overhead",
    "throughput_atom_steps_per_s",
    "peak_memory_MB",
    "n_steps",
)
#: Longest progress line kept on the job row.
PROGRESS_CHARS = 500


def create_job(
    session: Session,
    *,
    request: dict[str, Any],
    plan: dict[str, Any],
    device: str,
    queue: str,
    created_by: str | None,
) -> BenchJob:
    job = BenchJob(
        status="queued",
        request=request,
        plan=plan,
        device=device,
        queue=queue,
        created_by=created_by,
        created_at=utcnow(),
        n_records=0,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, job_id: int) -> BenchJob | None:
    return session.get(BenchJob, job_id)


def list_jobs(
    session: Session, *, status: Sequence[str] | None, limit: int, offset: int
) -> tuple[list[BenchJob], int]:
    """Jobs newest first (by id), and how many match."""
    stmt = select(BenchJob)
    if status:
        stmt = stmt.where(BenchJob.status.in_(list(status)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(BenchJob.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def read_records(session: Session, *, job_id: int) -> list[dict[str, Any]]:
    """The job's records in the order the benchmark measured them, each as the core's
    ``BenchRecord.to_dict()`` (columns and ``extra`` merged)."""
    rows = session.scalars(
        select(BenchRecordRow).where(BenchRecordRow.job_id == job_id).order_by(BenchRecordRow.seq)
    ).all()
    return [{**(r.extra or {}), **{k: getattr(r, k) for k in RECORD_COLUMNS}} for r in rows]


def fail_job(session: Session, *, job_id: int, reason: str) -> bool:
    """``queued -> failed`` (the message could not be published). False: not queued."""
    row = session.execute(
        update(BenchJob)
        .where(BenchJob.id == job_id, BenchJob.status == "queued")
        .values(status="failed", failure_reason=reason, finished_at=utcnow())
        .returning(BenchJob.id)
    ).first()
    return row is not None


# --- the worker's side ----------------------------------------------------------------------


def claim_job(session: Session, *, job_id: int, worker: str) -> dict[str, Any] | None:
    """``queued -> running`` under ``worker`` in ONE conditional UPDATE; returns the plan to
    run. None when the job is not queued (a duplicate delivery, or it already ended)."""
    now = utcnow()
    row = session.execute(
        update(BenchJob)
        .where(BenchJob.id == job_id, BenchJob.status == "queued")
        .values(status="running", worker=worker, started_at=now, heartbeat_at=now)
        .returning(BenchJob.plan)
    ).first()
    return None if row is None else dict(row[0])


def _owned(job_id: int, worker: str) -> Any:
    return (BenchJob.id == job_id) & (BenchJob.status == "running") & (BenchJob.worker == worker)


def heartbeat(session: Session, *, job_id: int, worker: str, progress: str | None) -> bool:
    """Refresh the heartbeat (and the last progress line); False when no longer owned."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress[:PROGRESS_CHARS]
    row = session.execute(
        update(BenchJob).where(_owned(job_id, worker)).values(**values).returning(BenchJob.id)
    ).first()
    return row is not None


def record_values(job_id: int, seq: int, record: dict[str, Any]) -> dict[str, Any]:
    """One ``bench_records`` row from a core record dict (``BenchRecord.to_dict()``)."""
    values = {k: record.get(k) for k in RECORD_COLUMNS}
    values["experiment"] = values["experiment"] or ""
    values["n_steps"] = int(values["n_steps"] or 0)
    extra = {k: v for k, v in record.items() if k not in RECORD_COLUMNS}
    return {"job_id": job_id, "seq": seq, **values, "extra": extra}


def finish_job(
    session: Session,
    *,
    job_id: int,
    worker: str,
    status: str,
    failure_reason: str | None = None,
    report: dict[str, Any] | None = None,
) -> bool:
    """The final state, and with a ``report`` (``BenchReport.to_dict()``: context, plan,
    records, summary, wall_s) its records and summary, in the caller's transaction.
    False (and nothing written) when the worker no longer owns the job."""
    if status not in ("completed", "failed"):
        raise ValueError(f"not a final status of a benchmark: {status}")
    now = utcnow()
    values: dict[str, Any] = {
        "status": status,
        "failure_reason": failure_reason,
        "finished_at": now,
        "heartbeat_at": now,
    }
    records: list[dict[str, Any]] = []
    if report is not None:
        context = dict(report.get("context") or {})
        records = list(report.get("records") or [])
        threads = context.get("torch_threads")
        values.update(
            context=context,
            summary=report.get("summary"),
            wall_s=report.get("wall_s"),
            device_name=str(context.get("device_name") or "")[:200] or None,
            torch_version=str(context.get("torch_version") or "")[:64] or None,
            threads=int(threads) if isinstance(threads, int) else None,
            n_records=len(records),
        )
        if report.get("plan"):
            values["plan"] = report["plan"]  # the full plan the core ran
    owned = session.execute(
        update(BenchJob).where(_owned(job_id, worker)).values(**values).returning(BenchJob.id)
    ).first()
    if owned is None:
        return False
    session.execute(delete(BenchRecordRow).where(BenchRecordRow.job_id == job_id))
    if records:
        session.execute(
            insert(BenchRecordRow), [record_values(job_id, i, r) for i, r in enumerate(records)]
        )
    return True


# --- the reaper -----------------------------------------------------------------------------


def fail_lost_jobs(session: Session, *, now: datetime, stale_after_s: float) -> list[int]:
    """Running jobs without heartbeat for ``stale_after_s`` lost their worker: ``failed``
    (a benchmark is not retried: its timings would mix two machines' states). Returns
    their ids."""
    cutoff = now - timedelta(seconds=stale_after_s)
    lost = session.execute(
        select(BenchJob.id, BenchJob.worker, BenchJob.heartbeat_at).where(
            BenchJob.status == "running", BenchJob.heartbeat_at < cutoff
        )
    ).all()
    failed = []
    for job_id, worker, beat in lost:
        reason = (
            f"worker {worker} lost (no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC); "
            "submit the benchmark again"
        )
        row = session.execute(
            update(BenchJob)
            .where(
                BenchJob.id == job_id,
                BenchJob.status == "running",
                BenchJob.heartbeat_at < cutoff,
            )
            .values(status="failed", failure_reason=reason, finished_at=now)
            .returning(BenchJob.id)
        ).first()
        if row is not None:
            failed.append(job_id)
    return failed
