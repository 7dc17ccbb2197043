"""The leaderboard: per-model aggregates over the indexed summary columns of ``runs``.

It never reads the series tables. One narrow SELECT of finished runs, aggregated in
Python (medians are portable that way and 10,000 runs take a few milliseconds).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import FINISHED_STATUSES, Potential, Recommendation, Run

_METRICS = (
    "drift_percent",
    "drift_meV_per_atom_per_ps",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "energy_rmse_meV_per_atom",
    "inference_ms_per_step",
)


def _median(values: Iterable[float | None], *, absolute: bool = False) -> float | None:
    clean = [abs(v) if absolute else v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(clean) if clean else None


def _rows(
    session: Session,
    *,
    suite: str | None,
    structure_id: int | None,
    temperature_K: float | None,
    until: datetime | None,
) -> list[Any]:
    cols = [
        Run.model_id,
        Run.status,
        Run.verdict,
        Run.structure_id,
        Run.device_name,
        Run.finished_at,
        *(getattr(Run, m) for m in _METRICS),
    ]
    stmt = select(*cols).where(Run.status.in_(FINISHED_STATUSES))
    if suite is not None:
        stmt = stmt.where(Run.suite == suite)
    if structure_id is not None:
        stmt = stmt.where(Run.structure_id == structure_id)
    if temperature_K is not None:
        stmt = stmt.where(Run.temperature_K == temperature_K)
    if until is not None:
        stmt = stmt.where(Run.finished_at < until)
    return list(session.execute(stmt).all())


def leaderboard(
    session: Session,
    *,
    suite: str | None = None,
    structure_id: int | None = None,
    temperature_K: float | None = None,
    baseline_id: int | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """One dict per model with runs (fields of :class:`app.schemas.leaderboard.LeaderboardRow`)."""
    rows = _rows(
        session, suite=suite, structure_id=structure_id, temperature_K=temperature_K, until=until
    )
    by_model: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_model[r.model_id].append(r)
    if not by_model:
        return []
    models = {p.id: p for p in session.scalars(select(Potential).where(Potential.id.in_(by_model)))}
    recs = {
        r.model_id: r
        for r in session.scalars(
            select(Recommendation).where(
                Recommendation.model_id.in_(by_model), Recommendation.suite == (suite or "")
            )
        )
    }
    speed = _inference_by_case(rows)
    out = []
    for model_id, runs in by_model.items():
        model = models[model_id]
        count: dict[str, int] = defaultdict(int)
        for r in runs:
            count[r.status] += 1
        scored = [r for r in runs if r.status in ("completed", "crashed")]
        passed = sum(1 for r in scored if r.verdict == "pass")
        rec = recs.get(model_id)
        finished = [r.finished_at for r in runs if r.finished_at is not None]
        out.append(
            {
                "model": model.spec,
                "name": model.name,
                "kind": model.kind,
                "n_params": model.n_params,
                "runs": len(scored),
                "completed": count["completed"],
                "crashed": count["crashed"],
                "failed": count["failed"],
                "cancelled": count["cancelled"],
                "passed": passed,
                "pass_rate": passed / len(scored) if scored else None,
                "crash_rate": count["crashed"] / len(scored) if scored else None,
                "median_drift_percent": _median(r.drift_percent for r in scored),
                "median_abs_drift_meV_per_atom_per_ps": _median(
                    (r.drift_meV_per_atom_per_ps for r in scored), absolute=True
                ),
                "median_force_rmse_eV_per_A": _median(r.force_rmse_eV_per_A for r in scored),
                "median_force_mae_eV_per_A": _median(r.force_mae_eV_per_A for r in scored),
                "median_force_r2": _median(r.force_r2 for r in scored),
                "median_force_angle_error_deg": _median(r.force_angle_error_deg for r in scored),
                "median_energy_rmse_meV_per_atom": _median(
                    r.energy_rmse_meV_per_atom for r in scored
                ),
                "median_inference_ms_per_step": _median(r.inference_ms_per_step for r in scored),
                "speedup": _speedup(speed, model_id, baseline_id),
                "recommendation": rec.recommendation if rec else None,
                "recommendation_evidence": rec.evidence if rec else None,
                "last_finished_at": max(finished) if finished else None,
            }
        )
    return out


def _inference_by_case(rows: list[Any]) -> dict[int, dict[tuple[int, str | None], float]]:
    """model -> (structure, device) -> median inference ms/step."""
    samples: dict[int, dict[tuple[int, str | None], list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in rows:
        v = r.inference_ms_per_step
        if v is not None and math.isfinite(v) and v > 0:
            samples[r.model_id][(r.structure_id, r.device_name)].append(v)
    return {
        m: {case: statistics.median(v) for case, v in cases.items()} for m, cases in samples.items()
    }


def _speedup(
    speed: dict[int, dict[tuple[int, str | None], float]], model_id: int, baseline_id: int | None
) -> float | None:
    """Geometric mean over shared (structure, device) cases of baseline ms / model ms."""
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
