"""The Celery tasks. The ``runs`` row, not Celery, is the source of truth.

``mdval.run`` claims its row with one conditional UPDATE (``queued -> running``, attempt + 1,
worker name); a duplicate delivery finds it claimed or finished and returns at once. The
outcome is written only while this worker still owns the row.
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.crud import catalog, history, series
from app.crud import runs as runs_crud
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
    """Run one validation — with the runs of its submission that can share a batch with it,
    when the worker batches (see :func:`claim_partners`). Returns what happened to
    ``run_id`` (``duplicate`` when not claimed)."""
    engine = _engine()
    worker = worker_name(self.request.hostname)
    with Session(engine) as session:
        claim = _claim(session, run_id, worker)
        session.commit()
    if claim is None:
        log.info("run %s: not queued any more (duplicate delivery or cancelled); skipped", run_id)
        return {"run_id": run_id, "outcome": "duplicate"}
    log.info("run %s: attempt %s on %s", run_id, claim.attempt, worker)
    claims = [claim, *claim_partners(engine, claim)]
    if len(claims) > 1:
        log.info("run %s: batched with runs %s", run_id, [c.run_id for c in claims[1:]])
    results = execute_batch(engine, claims)
    out = dict(results[0])
    if len(claims) > 1:
        out["batched_with"] = [c.run_id for c in claims[1:]]
    return out


def _claim(session: Session, run_id: int, worker: str) -> Claim | None:
    claim = runs_crud.claim_run(session, run_id=run_id, worker=worker)
    if claim is not None and claim.attempt > 1:
        series.delete_series(session, run_id=run_id)  # a retry starts from scratch
    return claim


def batch_limit(device: str | None) -> int:
    """Most runs one worker batches on ``device``, the torch device the run resolved to
    (not its queue's name: the standalone's CPU worker serves the ``gpu`` queue too);
    1 when it resolves to none."""
    settings = get_settings()
    if device is None:
        return 1
    gpu = device.startswith("cuda")
    return settings.batch_max_replicas_gpu if gpu else settings.batch_max_replicas_cpu


def claim_partners(engine: Engine, lead: Claim) -> list[Claim]:
    """Claim queued runs of ``lead``'s submission that can run in one batch with it.

    Partners share the lead's torch potential, queue, device and batch key (timestep, step
    counts, record interval, friction: :func:`mdval.md.batch_protocol.batch_key`); they
    are claimed one conditional UPDATE each, like the lead, so a partner's own task later
    finds its row taken and does nothing. At most :func:`batch_limit` runs in all, for the
    device the lead resolves to on this worker.
    """
    with Session(engine) as session:
        row = session.get(Run, lead.run_id)
        if row is None:
            return []
        model = session.get(Potential, row.model_id)
        if model is None or not catalog.is_torch_potential(model):
            return []
        limit = batch_limit(core_bridge.resolved_device(row.device)) - 1
        # resolving 'auto' may have imported torch (seconds): beat before the reaper,
        # which has seen no heartbeat of the lead since its claim, takes it for lost
        runs_crud.heartbeat(session, claim=lead)
        session.commit()
        if limit < 1:
            return []
        key = core_bridge.batch_key(dict(row.config or {}))
        if key is None:
            return []
        claims: list[Claim] = []
        for candidate in runs_crud.batch_candidates(session, lead=row, limit=4 * limit):
            if core_bridge.batch_key(dict(candidate.config or {})) != key:
                continue
            claim = _claim(session, candidate.id, lead.worker)
            if claim is not None:
                claims.append(claim)
            if len(claims) >= limit:
                break
        session.commit()
    return claims


def execute(engine: Engine, claim: Claim) -> dict[str, Any]:
    """Run a claimed run to its end and record the outcome."""
    return execute_batch(engine, [claim])[0]


#: How a run ended: (status, failure reason, summary).
Ending = tuple[str, str | None, dict[str, Any] | None]


def execute_batch(engine: Engine, claims: list[Claim]) -> list[dict[str, Any]]:
    """Run claimed runs — one alone, several as one batch — and record each outcome.

    A batch that cannot run as one (the core refuses it before the first step: say one run
    is bad input) falls back to running its runs one by one, so each gets its own verdict.
    """
    settings = get_settings()
    with Session(engine) as session:
        rows = session.execute(
            select(Run.id, Run.config).where(Run.id.in_([c.run_id for c in claims]))
        ).all()
    stored: dict[int, dict[str, Any] | None] = {run_id: config for run_id, config in rows}
    configs = [dict(stored.get(c.run_id) or {}) for c in claims]
    out_dirs = [
        settings.artifacts_path / "runs" / str(c.run_id) / f"attempt-{c.attempt}" for c in claims
    ]
    for out_dir in out_dirs:
        out_dir.mkdir(parents=True, exist_ok=True)
    listeners = [
        DbStreamingListener(engine, c, flush_interval_s=settings.flush_interval_s) for c in claims
    ]
    with Heartbeat(engine, listeners, settings.heartbeat_interval_s):
        endings = _simulate(configs, out_dirs, listeners)
        return [
            _record(engine, listener, ending, out_dir)
            for listener, ending, out_dir in zip(listeners, endings, out_dirs, strict=True)
        ]


def _controls_dir() -> Path:
    """Where this deployment caches control runs: ``controls/`` in the artifact store."""
    return get_settings().artifacts_path / "controls"


def _simulate(
    configs: list[dict[str, Any]], out_dirs: list[Path], listeners: list[DbStreamingListener]
) -> list[Ending]:
    if len(configs) == 1:
        return [_simulate_one(configs[0], out_dirs[0], listeners[0])]
    try:
        cores = [core_bridge.make_run_config(c) for c in configs]
        outputs = core_bridge.run_batch(
            cores, out_dirs=out_dirs, listeners=list(listeners), controls_dir=_controls_dir()
        )
    except core_bridge.RunCancelled:  # one replica cancelled while the controls ran
        return [_simulate_one(*args) for args in zip(configs, out_dirs, listeners, strict=True)]
    except core_bridge.InputError as exc:
        log.info("batch of %s runs refused (%s); running them one by one", len(configs), exc)
        return [_simulate_one(*args) for args in zip(configs, out_dirs, listeners, strict=True)]
    except Exception as exc:
        ending = _broken(exc)
        return [ending for _ in configs]
    return [
        _ending(output.status, output.summary, listener)
        for output, listener in zip(outputs, listeners, strict=True)
    ]


def _simulate_one(
    config_dict: dict[str, Any], out_dir: Path, listener: DbStreamingListener
) -> Ending:
    try:
        config = core_bridge.make_run_config(config_dict)
        result = core_bridge.run(
            config, out_dir=out_dir, listener=listener, controls_dir=_controls_dir()
        )
    except core_bridge.InputError as exc:
        return "failed", f"invalid input: {exc}", None
    except core_bridge.RunCancelled as exc:  # cancelled while its control ran
        return "cancelled", "cancelled on request" if listener.cancel else str(exc), None
    except Exception as exc:
        return _broken(exc)
    return _ending(result.status, result.summary, listener)


def _ending(status: str, summary: dict[str, Any], listener: DbStreamingListener) -> Ending:
    reason = summary.get("failure_reason") if status != "completed" else None
    if status == "cancelled":
        reason = "cancelled on request" if listener.cancel else (reason or "cancelled")
    return status, reason, summary


def failure_reason(exc: Exception) -> str:
    """Why a task broke (or hit its time limit), with the traceback's tail; call it in the
    ``except`` block that caught ``exc``."""
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"time limit of {get_settings().run_time_limit_s} s exceeded"
    tail = "".join(traceback.format_exc().splitlines(keepends=True)[-TRACEBACK_LINES:])
    log.exception("task failed")
    return f"{type(exc).__name__}: {exc}\n{tail}"


def _broken(exc: Exception) -> Ending:
    """The system broke (or the time limit hit): record why."""
    return "failed", failure_reason(exc), None


def _record(
    engine: Engine, listener: DbStreamingListener, ending: Ending, out_dir: Path
) -> dict[str, Any]:
    """Write a run's outcome while this worker still owns it; what happened."""
    claim = listener.claim
    status, reason, summary = ending
    stored = listener.final_flush()
    if not stored and not listener.lost:
        # a run whose series is incomplete is not a result: fail it and say why
        status, summary = "failed", None
        reason = (
            f"the end of the series could not be stored ({listener.pending} rows after "
            f"{listener.rows_written} stored; last error: {listener.last_flush_error}); "
            f"the core ended it {ending[0]}" + (f" ({ending[1]})" if ending[1] else "")
        )
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
    caller's transaction.

    Two workers finishing runs of one model at once are serialised by a lock on the model's
    row (``SELECT ... FOR UPDATE``; SQLite's write lock serialises already): the second
    reads the runs after the first committed, so its recommendation counts both runs (it
    would otherwise miss the first one's run and overwrite the first's result). The rows are
    written with one INSERT ... ON CONFLICT DO UPDATE, never a duplicate-key error, and each
    change is kept in ``recommendation_history`` with its validity time (same transaction).
    """
    run = session.get(Run, run_id)
    if run is None:
        return
    model_id = run.model_id
    session.execute(select(Potential.id).where(Potential.id == model_id).with_for_update())
    demo = core_bridge.demo_suites()
    for suite in sorted({run.suite or "", ""}):
        stmt = select(Run.summary).where(
            Run.model_id == model_id,
            Run.status.in_(("completed", "crashed")),
            Run.summary.is_not(None),
        )
        if suite:
            stmt = stmt.where(Run.suite == suite)
        else:  # the overall recommendation counts no demo-sized run
            stmt = stmt.where(or_(Run.suite.is_(None), Run.suite.not_in(demo)))
        summaries = session.scalars(
            stmt.order_by(Run.finished_at.desc()).limit(RECOMMENDATION_WINDOW)
        ).all()
        decided = core_bridge.recommend([s for s in summaries if s])
        if decided is None:
            continue
        level, evidence = decided
        now = utcnow()
        upsert_recommendation(
            session,
            model_id=model_id,
            suite=suite,
            values={
                "recommendation": level,
                "evidence": evidence,
                "n_runs": len(summaries),
                "updated_at": now,
            },
        )
        history.record(
            session,
            model_id=model_id,
            suite=suite,
            recommendation=level,
            evidence=evidence,
            n_runs=len(summaries),
            verdicts=history.verdict_counts(s.get("verdict") for s in summaries if s),
            run_id=run_id,
            now=now,
        )
    session.flush()


def upsert_recommendation(
    session: Session, *, model_id: int, suite: str, values: dict[str, Any]
) -> None:
    """Insert or replace the recommendation of (model, suite) in one statement."""
    dialect = session.get_bind().dialect.name
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the service runs on Postgres or SQLite
        raise RuntimeError(f"no upsert for {dialect}")
    stmt = insert(Recommendation).values(model_id=model_id, suite=suite, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["model_id", "suite"], set_=values))


# --- short tasks on the ``validate`` queue (the API waits for them) -------------------------

#: Hard and soft time limits of the short tasks: an RDKit embedding or a model's test forward
#: pass that runs away must not hold a ``validate`` worker for the 48 h of a run.
SHORT_HARD_LIMIT_S = float(get_settings().short_task_time_limit_s)
SHORT_SOFT_LIMIT_S = SHORT_HARD_LIMIT_S - 5.0
_SHORT = {"time_limit": SHORT_HARD_LIMIT_S, "soft_time_limit": SHORT_SOFT_LIMIT_S}


def too_slow(what: str) -> str:
    """The message of a short task cut off by its soft time limit."""
    return (
        f"the {what} took longer than the limit of {SHORT_SOFT_LIMIT_S:g} s on the worker "
        "(setting MDVAL_SHORT_TASK_TIME_LIMIT_S) and was stopped: use a smaller structure "
        "or model, or upload the structure as a file"
    )


@celery_app.task(name=TASK_VALIDATE, **_SHORT)
def validate_request(payload: dict[str, Any]) -> dict[str, Any]:
    return core_bridge.validate_request(
        payload, interrupted=(SoftTimeLimitExceeded,), interrupted_message=too_slow
    )


@celery_app.task(name=TASK_DESCRIBE_STRUCTURE, **_SHORT)
def describe_structure(core_spec: str) -> dict[str, Any]:
    try:
        return {"structure": core_bridge.describe_structure(core_spec), "error": None}
    except core_bridge.InputError as exc:
        return {"structure": None, "error": str(exc)}
    except SoftTimeLimitExceeded:
        return {"structure": None, "error": too_slow("structure check")}


@celery_app.task(name=TASK_CHECK_MODEL, **_SHORT)
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
        if isinstance(exc, SoftTimeLimitExceeded):
            message = too_slow("test forward pass of the model")
        elif isinstance(exc, core_bridge.InputError):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        values = {"status": "rejected", "error": message[:2000]}
    with Session(engine) as session:
        row = session.get(Potential, model_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
            session.commit()
    return {"status": values["status"], "error": values.get("error")}
