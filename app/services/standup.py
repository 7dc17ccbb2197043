"""The stand-up: what changed since ``since`` (default: 24 h ago), each item with its
evidence (run ids).

"Before" is the service as it was at ``since``: the leaderboard over the runs finished
before it, with the recommendations that held then (``recommendation_history``) — not
today's rows, which would show a recommendation changed an hour ago as both before and
after. Cancelled runs are listed apart: they are neither finished results nor failures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crud import history
from app.db.models import Potential, Recommendation, RecommendationHistory, Run
from app.schemas.leaderboard import (
    LeaderboardChange,
    NewModel,
    RecommendationChange,
    Standup,
)
from app.services.leaderboard import LeaderboardCache
from app.services.views import run_brief

#: What the stand-up compares between the leaderboard then and now.
CHANGE_FIELDS = (
    "runs",
    "pass_rate",
    "crash_rate",
    "median_drift_percent",
    "median_force_rmse_eV_per_A",
    "median_inference_ms_per_replica_step",
    "recommendation",
)
#: Most runs listed per list (finished, cancelled).
LIST_LIMIT = 200
#: Statuses of the runs that count as finished (a result or a system failure).
FINISHED = ("completed", "crashed", "failed")
FAILURES = ("crashed", "failed")


def standup(
    session: Session, leaderboards: LeaderboardCache, *, since: datetime, now: datetime
) -> Standup:
    ended = session.scalars(
        select(Run)
        .where(Run.finished_at >= since, Run.status.in_((*FINISHED, "cancelled")))
        .order_by(Run.finished_at.desc())
        .limit(2 * LIST_LIMIT)
    ).all()
    finished = [r for r in ended if r.status in FINISHED][:LIST_LIMIT]
    cancelled = [r for r in ended if r.status == "cancelled"][:LIST_LIMIT]
    running = session.scalars(select(Run).where(Run.status == "running").order_by(Run.id)).all()
    queued = session.scalar(select(func.count()).where(Run.status == "queued")) or 0
    evidence: dict[str, list[int]] = defaultdict(list)
    for r in finished:
        evidence[r.model_spec].append(r.id)
    before = {r["model"]: r for r in leaderboards.get(session, until=since)}
    after = {r["model"]: r for r in leaderboards.get(session)}
    return Standup(
        since=since,
        now=now,
        finished=[run_brief(r, now=now) for r in finished],
        cancelled=[run_brief(r, now=now) for r in cancelled],
        new_failures=[run_brief(r, now=now) for r in finished if r.status in FAILURES],
        running=[run_brief(r, now=now) for r in running],
        queued=queued,
        recommendation_changes=recommendation_changes(session, since=since, evidence=evidence),
        new_models=[
            NewModel(
                model=model,
                name=row["name"],
                runs=row["runs"],
                recommendation=row["recommendation"],
                run_ids=evidence.get(model, []),
            )
            for model, row in after.items()
            if model not in before
        ],
        leaderboard_changes=leaderboard_changes(before, after, evidence),
    )


def recommendation_changes(
    session: Session, *, since: datetime, evidence: dict[str, list[int]]
) -> list[RecommendationChange]:
    """Models whose recommendation over all their runs differs from the one that held at
    ``since`` (or that had none then), from the history."""
    current = {
        r.model_id: r
        for r in session.scalars(
            select(Recommendation).where(
                Recommendation.suite == "", Recommendation.updated_at > since
            )
        )
    }
    if not current:
        return []
    then = history.as_of(session, model_ids=current, suite="", at=since)
    opened = history.opened_since(session, model_ids=current, suite="", since=since)
    models = {p.id: p for p in session.scalars(select(Potential).where(Potential.id.in_(current)))}
    out = []
    for model_id, now_row in sorted(current.items(), key=lambda kv: models[kv[0]].spec):
        old = then.get(model_id)
        if old is not None and old.recommendation == now_row.recommendation:
            continue
        model = models[model_id]
        changed = _deciding(old.recommendation if old else None, opened.get(model_id, []))
        out.append(
            RecommendationChange(
                model=model.spec,
                name=model.name,
                before=old.recommendation if old is not None else None,
                after=now_row.recommendation,
                changed_at=changed.valid_from if changed is not None else now_row.updated_at,
                decided_by_run_id=changed.run_id if changed is not None else None,
                run_ids=evidence.get(model.spec, []),
                evidence=now_row.evidence,
            )
        )
    return out


def _deciding(level: str | None, rows: list[RecommendationHistory]) -> RecommendationHistory | None:
    """The last of ``rows`` (oldest first) that changed the level from its predecessor's."""
    deciding = None
    for row in rows:
        if row.recommendation != level:
            deciding, level = row, row.recommendation
    return deciding


def leaderboard_changes(
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    evidence: dict[str, list[int]],
) -> list[LeaderboardChange]:
    """Per model, the leaderboard fields of :data:`CHANGE_FIELDS` then and now."""

    def pick(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row.get(k) for k in CHANGE_FIELDS}

    changes = []
    for model, row in after.items():
        now_fields, old = pick(row), before.get(model)
        run_ids = evidence.get(model, [])
        if old is None:
            changes.append(
                LeaderboardChange(
                    model=model, change="new", before=None, after=now_fields, run_ids=run_ids
                )
            )
        elif pick(old) != now_fields:
            changes.append(
                LeaderboardChange(
                    model=model,
                    change="changed",
                    before=pick(old),
                    after=now_fields,
                    run_ids=run_ids,
                )
            )
    return changes
