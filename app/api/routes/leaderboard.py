"""``/api/v1/leaderboard`` and ``/api/v1/standup``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.api.deps import LeaderboardsDep, ReaderDep, SessionDep
from app.api.errors import ApiError
from app.crud import catalog
from app.crud.leaderboard import sort_rows
from app.db.base import utcnow
from app.db.models import Run
from app.schemas.common import ERROR_RESPONSES, FiniteFloat, Text, Timestamp
from app.schemas.leaderboard import (
    Leaderboard,
    LeaderboardChange,
    LeaderboardRow,
    SortKey,
    Standup,
)
from app.services.redaction import for_caller
from app.services.views import run_brief

router = APIRouter(tags=["leaderboard"], responses=ERROR_RESPONSES)

#: What the stand-up compares between the leaderboard then and now.
CHANGE_FIELDS = (
    "runs",
    "pass_rate",
    "crash_rate",
    "median_drift_percent",
    "median_force_rmse_eV_per_A",
    "median_inference_ms_per_step",
    "recommendation",
)
STANDUP_LIST_LIMIT = 200


def _resolve_ids(
    session: SessionDep, baseline: str | None, structure: str | None
) -> tuple[int | None, int | None]:
    baseline_id = structure_id = None
    if baseline is not None:
        row = catalog.get_potential(session, key=baseline)
        if row is None:
            raise ApiError(422, f"unknown baseline model '{baseline}'", field="baseline")
        baseline_id = row.id
    if structure is not None:
        srow = catalog.get_structure(session, key=structure)
        if srow is None:
            raise ApiError(422, f"unknown structure '{structure}'", field="structure")
        structure_id = srow.id
    return baseline_id, structure_id


@router.get("/leaderboard", response_model=Leaderboard)
def get_leaderboard(
    session: SessionDep,
    _reader: ReaderDep,
    leaderboards: LeaderboardsDep,
    suite: Annotated[Text | None, Query(description="Only runs of this suite.")] = None,
    structure: Annotated[Text | None, Query(description="Only runs on this structure.")] = None,
    temperature_K: Annotated[FiniteFloat | None, Query(gt=0)] = None,
    baseline: Annotated[Text | None, Query(description="Model for the speed-up column.")] = None,
    sort: SortKey = "pass_rate",
    descending: bool = True,
) -> Leaderboard:
    """Per model: runs, pass and crash rates, median drift and force errors, inference
    time, speed-up vs ``baseline``, and the core's recommendation."""
    baseline_id, structure_id = _resolve_ids(session, baseline, structure)
    rows = leaderboards.get(
        session,
        suite=suite,
        structure_id=structure_id,
        temperature_K=temperature_K,
        baseline_id=baseline_id,
    )
    return Leaderboard(
        suite=suite,
        baseline=baseline,
        sort=sort,
        descending=descending,
        rows=[LeaderboardRow(**r) for r in sort_rows(rows, key=sort, descending=descending)],
    )


@router.get("/standup", response_model=Standup)
def get_standup(
    session: SessionDep,
    _reader: ReaderDep,
    leaderboards: LeaderboardsDep,
    since: Annotated[
        Timestamp | None, Query(description="Default: 24 h ago (ISO 8601; without zone: UTC).")
    ] = None,
) -> Standup:
    """Finished runs, new failures, runs in progress with ETA, and leaderboard changes."""
    now = utcnow()
    # default: whole minutes, so that polls within a minute share the cached leaderboards
    since = since or now.replace(second=0, microsecond=0) - timedelta(hours=24)
    finished = session.scalars(
        select(Run)
        .where(Run.finished_at >= since)
        .order_by(Run.finished_at.desc())
        .limit(STANDUP_LIST_LIMIT)
    ).all()
    running = session.scalars(select(Run).where(Run.status == "running").order_by(Run.id)).all()
    queued = session.scalar(select(func.count()).where(Run.status == "queued")) or 0
    return for_caller(
        Standup(
            since=since,
            now=now,
            finished=[run_brief(r, now=now) for r in finished],
            new_failures=[
                run_brief(r, now=now) for r in finished if r.status in ("crashed", "failed")
            ],
            running=[run_brief(r, now=now) for r in running],
            queued=queued,
            leaderboard_changes=_changes(session, leaderboards, since),
        )
    )


def _changes(
    session: SessionDep, leaderboards: LeaderboardsDep, since: datetime
) -> list[LeaderboardChange]:
    def pick(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in CHANGE_FIELDS}

    before = {r["model"]: pick(r) for r in leaderboards.get(session, until=since)}
    changes = []
    for row in leaderboards.get(session):
        after = pick(row)
        old = before.get(row["model"])
        if old is None:
            changes.append(
                LeaderboardChange(model=row["model"], change="new", before=None, after=after)
            )
        elif old != after:
            changes.append(
                LeaderboardChange(model=row["model"], change="changed", before=old, after=after)
            )
    return changes
