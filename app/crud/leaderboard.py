"""The leaderboard: per-model aggregates over the indexed summary columns of ``runs``.

It never reads the series tables. On Postgres one GROUP BY computes counts and medians
(``percentile_cont``); SQLite (the embedded default, small) aggregates in Python.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.crud import history
from app.db.models import FINISHED_STATUSES, Potential, Recommendation, Run

#: Runs that count on the leaderboard (failed/cancelled are the system's, not the model's).
SCORED = ("completed", "crashed")
_METRICS = (
    "drift_percent",
    "drift_meV_per_atom_per_ps",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "energy_rmse_meV_per_atom",
    "inference_ms_per_step",
    "inference_ms_per_replica_step",
)
#: The inference time compared across models: per replica (a batch's time / its size);
#: rows stored before that column existed have only the batch's time.
PER_REPLICA_MS = func.coalesce(Run.inference_ms_per_replica_step, Run.inference_ms_per_step)


def _median(values: Iterable[float | None], *, absolute: bool = False) -> float | None:
    clean = [abs(v) if absolute else v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(clean) if clean else None


def _filters(
    *,
    suite: str | None,
    structure_id: int | None,
    temperature_K: float | None,
    until: datetime | None,
    exclude_suites: Sequence[str] = (),
) -> list[Any]:
    where: list[Any] = [Run.status.in_(FINISHED_STATUSES)]
    if suite is not None:
        where.append(Run.suite == suite)
    elif exclude_suites:  # runs of no suite have suite NULL, which NOT IN would drop
        where.append(or_(Run.suite.is_(None), Run.suite.not_in(list(exclude_suites))))
    if structure_id is not None:
        where.append(Run.structure_id == structure_id)
    if temperature_K is not None:
        where.append(Run.temperature_K == temperature_K)
    if until is not None:
        where.append(Run.finished_at < until)
    return where


def _aggregate_sql(session: Session, where: list[Any]) -> dict[int, dict[str, Any]]:
    """Postgres: counts and medians (percentile_cont, NULLs ignored) in one GROUP BY."""
    scored = Run.status.in_(SCORED)

    def median(column: Any) -> Any:
        return func.percentile_cont(0.5).within_group(column).filter(scored)

    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    stmt = (
        select(
            Run.model_id,
            count(scored).label("runs"),
            *(count(Run.status == s).label(s) for s in FINISHED_STATUSES),
            count(scored & (Run.verdict == "pass")).label("passed"),
            count(scored & (Run.verdict == "inconclusive")).label("inconclusive"),
            count(scored & (Run.verdict == "protocol invalid")).label("protocol_invalid"),
            *(median(getattr(Run, m)).label(m) for m in _METRICS),
            median(func.abs(Run.drift_meV_per_atom_per_ps)).label("abs_drift"),
            func.min(Run.batch_size).filter(scored).label("batch_size_min"),
            func.max(Run.batch_size).filter(scored).label("batch_size_max"),
            func.max(Run.finished_at).label("last_finished_at"),
        )
        .where(*where)
        .group_by(Run.model_id)
    )
    return {row.model_id: row._asdict() for row in session.execute(stmt)}


def _aggregate_python(session: Session, where: list[Any]) -> dict[int, dict[str, Any]]:
    """SQLite (no percentile_cont): the same numbers from one narrow SELECT."""
    cols = [
        Run.model_id,
        Run.status,
        Run.verdict,
        Run.finished_at,
        Run.batch_size,
        *(getattr(Run, m) for m in _METRICS),
    ]
    by_model: dict[int, list[Any]] = defaultdict(list)
    for r in session.execute(select(*cols).where(*where)):
        by_model[r.model_id].append(r)
    out = {}
    for model_id, runs in by_model.items():
        scored = [r for r in runs if r.status in SCORED]
        agg: dict[str, Any] = {s: sum(1 for r in runs if r.status == s) for s in FINISHED_STATUSES}
        agg["runs"] = len(scored)
        agg["passed"] = sum(1 for r in scored if r.verdict == "pass")
        agg["inconclusive"] = sum(1 for r in scored if r.verdict == "inconclusive")
        agg["protocol_invalid"] = sum(1 for r in scored if r.verdict == "protocol invalid")
        for m in _METRICS:
            agg[m] = _median(getattr(r, m) for r in scored)
        agg["abs_drift"] = _median((r.drift_meV_per_atom_per_ps for r in scored), absolute=True)
        sizes = [r.batch_size for r in scored if r.batch_size is not None]
        agg["batch_size_min"] = min(sizes) if sizes else None
        agg["batch_size_max"] = max(sizes) if sizes else None
        finished = [r.finished_at for r in runs if r.finished_at is not None]
        agg["last_finished_at"] = max(finished) if finished else None
        out[model_id] = agg
    return out


def _inference_by_case(
    session: Session, where: list[Any]
) -> dict[int, dict[tuple[int, str | None], float]]:
    """model -> (structure, device) -> median inference ms per replica step of its scored
    runs (a batched run's batch time / batch size: like for like with a run alone)."""
    keys = (Run.model_id, Run.structure_id, Run.device_name)
    positive = [*where, Run.status.in_(SCORED), PER_REPLICA_MS > 0]
    out: dict[int, dict[tuple[int, str | None], float]] = defaultdict(dict)
    if session.get_bind().dialect.name == "postgresql":
        stmt = (
            select(*keys, func.percentile_cont(0.5).within_group(PER_REPLICA_MS))
            .where(*positive)
            .group_by(*keys)
        )
        for model_id, structure_id, device, ms in session.execute(stmt):
            out[model_id][(structure_id, device)] = float(ms)
        return out
    samples: dict[tuple[int, int, str | None], list[float]] = defaultdict(list)
    for model_id, structure_id, device, ms in session.execute(
        select(*keys, PER_REPLICA_MS).where(*positive)
    ):
        if ms is not None and math.isfinite(ms):
            samples[(model_id, structure_id, device)].append(ms)
    for (model_id, structure_id, device), values in samples.items():
        out[model_id][(structure_id, device)] = statistics.median(values)
    return out


def leaderboard(
    session: Session,
    *,
    suite: str | None = None,
    structure_id: int | None = None,
    temperature_K: float | None = None,
    baseline_id: int | None = None,
    until: datetime | None = None,
    exclude_suites: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One dict per model with finished runs (the fields of
    :class:`app.schemas.leaderboard.LeaderboardRow`). With ``until``: the leaderboard as it
    was then — runs finished before it, and the recommendations that held at that time
    (``recommendation_history``). Without a ``suite``, runs of ``exclude_suites`` (the
    demo-sized suites) are left out."""
    where = _filters(
        suite=suite,
        structure_id=structure_id,
        temperature_K=temperature_K,
        until=until,
        exclude_suites=exclude_suites,
    )
    if session.get_bind().dialect.name == "postgresql":
        aggregates = _aggregate_sql(session, where)
    else:
        aggregates = _aggregate_python(session, where)
    if not aggregates:
        return []
    models = {
        p.id: p for p in session.scalars(select(Potential).where(Potential.id.in_(aggregates)))
    }
    recs: dict[int, Any]
    if until is not None:
        recs = history.as_of(session, model_ids=aggregates, suite=suite or "", at=until)
    else:
        recs = {
            r.model_id: r
            for r in session.scalars(
                select(Recommendation).where(
                    Recommendation.model_id.in_(aggregates), Recommendation.suite == (suite or "")
                )
            )
        }
    speed = _inference_by_case(session, where) if baseline_id is not None else {}
    out = []
    for model_id, agg in aggregates.items():
        model, rec, n = models[model_id], recs.get(model_id), agg["runs"]
        judged = n - agg["protocol_invalid"]  # a protocol-invalid run counts neither way
        out.append(
            {
                "model": model.spec,
                "name": model.name,
                "kind": model.kind,
                "n_params": model.n_params,
                "runs": n,
                "completed": agg["completed"],
                "crashed": agg["crashed"],
                "failed": agg["failed"],
                "cancelled": agg["cancelled"],
                "passed": agg["passed"],
                "inconclusive": agg["inconclusive"],
                "protocol_invalid": agg["protocol_invalid"],
                "pass_rate": agg["passed"] / judged if judged else None,
                "crash_rate": agg["crashed"] / n if n else None,
                "median_drift_percent": agg["drift_percent"],
                "median_abs_drift_meV_per_atom_per_ps": agg["abs_drift"],
                "median_force_rmse_eV_per_A": agg["force_rmse_eV_per_A"],
                "median_force_mae_eV_per_A": agg["force_mae_eV_per_A"],
                "median_force_r2": agg["force_r2"],
                "median_force_angle_error_deg": agg["force_angle_error_deg"],
                "median_energy_rmse_meV_per_atom": agg["energy_rmse_meV_per_atom"],
                "median_inference_ms_per_step": agg["inference_ms_per_step"],
                "median_inference_ms_per_replica_step": agg["inference_ms_per_replica_step"],
                "batch_size_min": agg["batch_size_min"],
                "batch_size_max": agg["batch_size_max"],
                "speedup": _speedup(speed, model_id, baseline_id),
                "recommendation": rec.recommendation if rec else None,
                "recommendation_evidence": rec.evidence if rec else None,
                "last_finished_at": agg["last_finished_at"],
            }
        )
    return out


def _speedup(
    speed: dict[int, dict[tuple[int, str | None], float]], model_id: int, baseline_id: int | None
) -> float | None:
    """Geometric mean over shared (structure, device) cases of baseline ms / model ms, per
    replica step."""
    if baseline_id is None or model_id not in speed or baseline_id not in speed:
        return None
    mine, base = speed[model_id], speed[baseline_id]
    ratios = [base[c] / mine[c] for c in mine.keys() & base.keys()]
    if not ratios:
        return None
    return math.exp(sum(math.log(x) for x in ratios) / len(ratios))


def sort_rows(rows: list[dict[str, Any]], *, key: str, descending: bool) -> list[dict[str, Any]]:
    """Sort with missing values last whatever the direction."""
    field = "model" if key == "model" else key
    present = [r for r in rows if r.get(field) is not None]
    missing = [r for r in rows if r.get(field) is None]
    present.sort(key=lambda r: r[field], reverse=descending)
    return present + sorted(missing, key=lambda r: r["model"])
