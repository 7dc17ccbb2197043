"""``/api/v1/leaderboard`` and ``/api/v1/standup``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import LeaderboardsDep, ReaderDep, SessionDep
from app.api.errors import ApiError
from app.crud import catalog
from app.crud.leaderboard import sort_rows
from app.db.base import utcnow
from app.schemas.common import ERROR_RESPONSES, FiniteFloat, Text, Timestamp
from app.schemas.leaderboard import Leaderboard, LeaderboardRow, SortKey, Standup
from app.services.redaction import for_caller
from app.services.standup import standup

router = APIRouter(tags=["leaderboard"], responses=ERROR_RESPONSES)


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
    as_of: Annotated[
        Timestamp | None,
        Query(
            description="The leaderboard as it was then: runs finished before it and the "
            "recommendations that held at that time (ISO 8601; without zone: UTC)."
        ),
    ] = None,
) -> Leaderboard:
    """Per model: runs, pass and crash rates, median drift and force errors, inference
    time (per replica step too, with the batch sizes), speed-up vs ``baseline`` per replica
    step, and the core's recommendation."""
    baseline_id, structure_id = _resolve_ids(session, baseline, structure)
    rows = leaderboards.get(
        session,
        suite=suite,
        structure_id=structure_id,
        temperature_K=temperature_K,
        baseline_id=baseline_id,
        until=as_of,
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
    """Since ``since``: runs finished (cancelled apart), new failures, recommendation
    changes (before -> after, from the recommendation history), new models, leaderboard
    changes, each with its runs; and runs in progress with ETA."""
    now = utcnow()
    # default: whole minutes, so that polls within a minute share the cached leaderboards
    since = since or now.replace(second=0, microsecond=0) - timedelta(hours=24)
    return for_caller(standup(session, leaderboards, since=since, now=now))
