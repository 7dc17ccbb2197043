"""Recommendation history: every recommendation a (model, suite) has had, with the time it
held, so that the leaderboard and the stand-up can be read as of a time.

The worker writes it in the transaction that upserts ``recommendations`` (under the lock on
the model's row), so the two never disagree: the open row (``valid_to`` NULL) of a (model,
suite) is its current recommendation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db.models import RecommendationHistory


def verdict_counts(verdicts: Iterable[str | None]) -> dict[str, int]:
    """How many runs had each verdict (``none``: a run without one)."""
    return dict(sorted(Counter(v or "none" for v in verdicts).items()))


def record(
    session: Session,
    *,
    model_id: int,
    suite: str,
    recommendation: str,
    evidence: Any,
    n_runs: int,
    verdicts: dict[str, int],
    run_id: int | None,
    now: datetime,
) -> bool:
    """Close the open history row of (model, suite) at ``now`` and open one with these
    values, unless they are the open row's already. In the caller's transaction; True when a
    row was written."""
    current = session.scalars(
        select(RecommendationHistory).where(
            RecommendationHistory.model_id == model_id,
            RecommendationHistory.suite == suite,
            RecommendationHistory.valid_to.is_(None),
        )
    ).all()
    same = (
        len(current) == 1
        and current[0].recommendation == recommendation
        and current[0].n_runs == n_runs
        and current[0].verdicts == verdicts
        and current[0].evidence == evidence
    )
    if same:
        return False
    if current:
        session.execute(
            update(RecommendationHistory)
            .where(RecommendationHistory.id.in_([c.id for c in current]))
            .values(valid_to=now)
        )
    session.add(
        RecommendationHistory(
            model_id=model_id,
            suite=suite,
            recommendation=recommendation,
            evidence=evidence,
            n_runs=n_runs,
            verdicts=verdicts,
            run_id=run_id,
            valid_from=now,
            valid_to=None,
        )
    )
    return True


def _rows(
    session: Session, model_ids: Iterable[int], suite: str, *where: Any
) -> list[RecommendationHistory]:
    """History rows of ``suite`` for these models matching ``where``, oldest first."""
    ids = list(model_ids)
    if not ids:
        return []
    stmt = select(RecommendationHistory).where(
        RecommendationHistory.model_id.in_(ids), RecommendationHistory.suite == suite, *where
    )
    order = (RecommendationHistory.valid_from, RecommendationHistory.id)
    return list(session.scalars(stmt.order_by(*order)).all())


def as_of(
    session: Session, *, model_ids: Iterable[int], suite: str, at: datetime
) -> dict[int, RecommendationHistory]:
    """model -> the recommendation of (model, ``suite``) that held at ``at`` (models that
    had none then are absent)."""
    held = (
        RecommendationHistory.valid_from <= at,
        or_(RecommendationHistory.valid_to.is_(None), RecommendationHistory.valid_to > at),
    )
    # the latest wins, should two overlap
    return {r.model_id: r for r in _rows(session, model_ids, suite, *held)}


def opened_since(
    session: Session, *, model_ids: Iterable[int], suite: str, since: datetime
) -> dict[int, list[RecommendationHistory]]:
    """model -> its history rows of ``suite`` opened after ``since``, oldest first."""
    out: dict[int, list[RecommendationHistory]] = {}
    for r in _rows(session, model_ids, suite, RecommendationHistory.valid_from > since):
        out.setdefault(r.model_id, []).append(r)
    return out
