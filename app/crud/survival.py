"""Finished runs of a model grouped by protocol cell, for ``/api/v1/survival``.

Only the columns the survival needs are read; the summary JSON only of crashed runs (their
failure time is in it), never the series tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Run

#: Runs that have a survival time: the model's own outcomes (failed/cancelled are not).
SURVIVAL_STATUSES = ("completed", "crashed")

#: (structure spec, temperature_K, timestep_fs, duration_ps)
CellKey = tuple[str, float, float, float]


@dataclass(frozen=True)
class FinishedRun:
    """What the survival of one run needs: its status and, when crashed, its summary."""

    id: int
    status: str
    summary: dict[str, Any]


def finished_runs_by_cell(
    session: Session,
    *,
    model_id: int,
    structure_id: int | None = None,
    temperature_K: float | None = None,
    timestep_fs: float | None = None,
    suite: str | None = None,
) -> dict[CellKey, list[FinishedRun]]:
    """The model's completed and crashed runs, grouped by cell in the cells' sort order,
    each cell's runs by id. A crashed run's ``summary`` is its summary with the row's
    ``status`` and (when the summary lacks it) ``time_to_failure_ps``; a completed run's
    is just its status."""
    where: list[Any] = [Run.model_id == model_id, Run.status.in_(SURVIVAL_STATUSES)]
    if structure_id is not None:
        where.append(Run.structure_id == structure_id)
    if temperature_K is not None:
        where.append(Run.temperature_K == temperature_K)
    if timestep_fs is not None:
        where.append(Run.timestep_fs == timestep_fs)
    if suite is not None:
        where.append(Run.suite == suite)
    keys = (Run.structure_spec, Run.temperature_K, Run.timestep_fs, Run.duration_ps)
    rows = session.execute(
        select(Run.id, Run.status, Run.time_to_failure_ps, Run.equilibration_ps, *keys)
        .where(*where)
        .order_by(*keys, Run.id)
    ).all()
    crashed_ids = [r.id for r in rows if r.status == "crashed"]
    summaries: dict[int, dict[str, Any]] = {}
    if crashed_ids:
        for run_id, stored in session.execute(
            select(Run.id, Run.summary).where(Run.id.in_(crashed_ids))
        ):
            summaries[run_id] = dict(stored or {})
    cells: dict[CellKey, list[FinishedRun]] = defaultdict(list)
    for r in rows:
        summary: dict[str, Any] = {"status": r.status}
        if r.status == "crashed":
            own = summaries.get(r.id, {})
            config = own.get("config") if isinstance(own.get("config"), dict) else {}
            summary = {
                **own,
                "status": r.status,
                "time_to_failure_ps": own.get("time_to_failure_ps", r.time_to_failure_ps),
                "config": {"equilibration_ps": r.equilibration_ps, **(config or {})},
            }
        key = (r.structure_spec, float(r.temperature_K), float(r.timestep_fs), float(r.duration_ps))
        cells[key].append(FinishedRun(id=r.id, status=r.status, summary=summary))
    return dict(cells)
