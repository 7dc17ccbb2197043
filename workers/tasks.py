"""The Celery tasks. The ``runs`` row, not Celery, is the source of truth.

``mdval.run`` claims its row with one conditional UPDATE (``queued -> running``, attempt + 1,
worker name); a duplicate delivery finds it claimed or finished and returns at once. The
outcome is written only while this worker still owns the row.
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.crud import runs as runs_crud
from app.crud import series
from app.crud.runs import Claim
from app.db.base import utcnow
from app.db.models import Potential, Recommendation, Run
from app.db.session import get_engine
from workers import core_bridge, lifecycle
from workers.celery_app import (
    TASK_CHECK_MODEL,
    TASK_DESCRIBE_STRUCTURE,
    TASK_RUN,
    TASK_VALIDATE,
    celery_app,
)
from workers.listener import DbStreamingListener, Heartbeat

log = logging.getLogger(__name__)

#: Runs read to recompute a model's recommendation (newest first).
RECOMMENDATION_WINDOW = 500
TRACEBACK_LINES = 6

lifecycle.install()


def _engine() -> Engine:
    return get_engine(get_settings().database_url)


def worker_name(hostname: str | None) -> str:
    return f"{hostname or 'worker'}:{os.getpid()}"


@celery_app.task(name=TASK_RUN, bind=True, acks_late=True)
def run_task(self: Any, run_id: int) -> dict[str, Any]:
    """Run one validation. Returns what happened (``duplicate`` when not claimed)."""
    engine = _engine()
    worker = worker_name(self.request.hostname)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker=worker)
        if claim is not None and claim.attempt > 1:
            series.delete_series(session, run_id=run_id)  # a retry starts from scratch
        session.commit()
    if claim is None:
        log.info("run %s: not queued any more (duplicate delivery or cancelled); skipped", run_id)
        return {"run_id": run_id, "outcome": "duplicate"}
    log.info("run %s: attempt %s on %s", run_id, claim.attempt, worker)
    return execute(engine, claim)


def execute(engine: Engine, claim: Claim) -> dict[str, Any]:
    """Run a claimed run to its end and record the outcome."""
    settings = get_settings()
    with Session(engine) as session:
        config_dict = session.scalar(select(Run.config).where(Run.id == claim.run_id))
    out_dir = settings.artifacts_path / "runs" / str(claim.run_id) / f"attempt-{claim.attempt}"
    out_dir.mkdir(parents=True, exist_ok=True)
    listener = DbStreamingListener(engine, claim, flush_interval_s=settings.flush_interval_s)
    heartbeat = Heartbeat(engine, claim, listener, settings.heartbeat_interval_s)
    heartbeat.start()
    status, reason, summary = "failed", None, None
    try:
        config = core_bridge.make_run_config(dict(config_dict or {}))
        result = core_bridge.run(config, out_dir=out_dir, listener=listener)
        status, summary = result.status, result.summary
        reason = summary.get("failure_reason") if status != "completed" else None
        if status == "cancelled":
            reason = "cancelled on request" if listener.cancel else (reason or "cancelled")
    except core_bridge.InputError as exc:
        reason = f"invalid input: {exc}"
    except SoftTimeLimitExceeded:
        reason = f"time limit of {settings.run_time_limit_s} s exceeded"
    except Exception as exc:  # the system broke: record why
        tail = "".join(traceback.format_exc().splitlines(keepends=True)[-TRACEBACK_LINES:])
        reason = f"{type(exc).__name__}: {exc}\n{tail}"
        log.exception("run %s failed", claim.run_id)
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=5)
    listener.flush()
    if listener.lost:
        log.warning(
            "run %s attempt %s: result discarded (ownership lost)", claim.run_id, claim.attempt
        )
        return {"run_id": claim.run_id, "outcome": "lost"}
    trajectory = out_dir / "trajectory.extxyz"
    with Session(engine) as session:
        written = runs_crud.finish_run(
            session,
            claim=claim,
            status=status,
            failure_reason=reason,
            summary=summary,
            out_dir=str(out_dir.resolve()),
            trajectory_path=str(trajectory.resolve()) if trajectory.is_file() else None,
        )
        if written and status in ("completed", "crashed"):
            # same transaction: the leaderboard never shows the run without its effect on
            # the recommendation; a savepoint keeps the result if the recommendation fails
            try:
                with session.begin_nested():
                    update_recommendations(session, run_id=claim.run_id)
            except Exception:
                log.exception("run %s: recommendation update failed", claim.run_id)
        session.commit()
    log.info("run %s: %s (%s)", claim.run_id, status, reason or "ok")
    return {
        "run_id": claim.run_id,
        "outcome": status,
        "rows": listener.rows_written,
        "flush_s": listener.flush_seconds,
    }


def update_recommendations(session: Session, *, run_id: int) -> None:
    """Recompute the model's recommendation over its runs of this suite, and overall, in the
    caller's transaction."""
    run = session.get(Run, run_id)
    if run is None:
        return
    for suite in {run.suite or "", ""}:
        stmt = select(Run.summary).where(
            Run.model_id == run.model_id,
            Run.status.in_(("completed", "crashed")),
            Run.summary.is_not(None),
        )
        if suite:
            stmt = stmt.where(Run.suite == suite)
        summaries = session.scalars(
            stmt.order_by(Run.finished_at.desc()).limit(RECOMMENDATION_WINDOW)
        ).all()
        decided = core_bridge.recommend([s for s in summaries if s])
        if decided is None:
            continue
        level, evidence = decided
        row = session.get(Recommendation, (run.model_id, suite))
        if row is None:
            row = Recommendation(model_id=run.model_id, suite=suite)
            session.add(row)
        row.recommendation = level
        row.evidence = evidence
        row.n_runs = len(summaries)
        row.updated_at = utcnow()
    session.flush()


# --- short tasks on the ``validate`` queue (the API waits for them) -------------------------


@celery_app.task(name=TASK_VALIDATE)
def validate_request(payload: dict[str, Any]) -> dict[str, Any]:
    return core_bridge.validate_request(payload)


@celery_app.task(name=TASK_DESCRIBE_STRUCTURE)
def describe_structure(core_spec: str) -> dict[str, Any]:
    try:
        return {"structure": core_bridge.describe_structure(core_spec), "error": None}
    except core_bridge.InputError as exc:
        return {"structure": None, "error": str(exc)}


@celery_app.task(name=TASK_CHECK_MODEL)
def check_model(model_id: int) -> dict[str, Any]:
    """Test-forward an uploaded model and mark its row ``ready`` or ``rejected``."""
    engine = _engine()
    with Session(engine) as session:
        row = session.get(Potential, model_id)
        if row is None:
            return {"status": "missing", "error": f"no model {model_id}"}
        path = row.core_spec
    try:
        desc = core_bridge.check_uploaded_model(path)
        values: dict[str, Any] = {
            "status": "ready",
            "error": None,
            "supported_elements": sorted(desc.get("supported_elements") or []),
            "n_params": desc.get("n_params"),
            "periodic_ok": bool(desc.get("periodic_ok", False)),
            "description": desc,
        }
    except Exception as exc:  # any failure rejects the upload, with its reason
        message = (
            str(exc) if isinstance(exc, core_bridge.InputError) else f"{type(exc).__name__}: {exc}"
        )
        values = {"status": "rejected", "error": message[:2000]}
    with Session(engine) as session:
        row = session.get(Potential, model_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
            session.commit()
    return {"status": values["status"], "error": values.get("error")}
