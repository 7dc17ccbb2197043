"""``/api/v1/survival``: how long a model's replicas survive, per protocol cell.

Every number comes from the core (``mdval.metrics.statistics``; the failure time of a run
from ``mdval.suites.aggregation``), the same functions the suite reports use.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ReaderDep, SessionDep
from app.api.errors import ApiError
from app.crud import catalog
from app.crud import survival as survival_crud
from app.schemas.common import ERROR_RESPONSES, FiniteFloat, Text
from app.schemas.survival import Survival, SurvivalCell, SurvivalCurve, TimeToFailure
from mdval.metrics.statistics import median_time_to_failure, survival_curve
from mdval.suites.aggregation import failure_time_ps

router = APIRouter(tags=["survival"], responses=ERROR_RESPONSES)


@router.get("/survival", response_model=Survival)
def get_survival(
    session: SessionDep,
    _reader: ReaderDep,
    model: Annotated[Text, Query(min_length=1, description="Model spec or name.")],
    structure: Annotated[Text | None, Query(description="Only runs on this structure.")] = None,
    temperature_K: Annotated[FiniteFloat | None, Query(gt=0)] = None,
    timestep_fs: Annotated[FiniteFloat | None, Query(gt=0)] = None,
    suite: Annotated[Text | None, Query(description="Only runs of this suite.")] = None,
) -> Survival:
    """Per cell (structure, temperature, timestep, duration) of the model's finished runs
    (completed + crashed): the fraction of replicas alive over production time and the
    median time to failure with its 95 % interval. A crashed run's time is the production
    time it reached (``summary.metrics.stable_duration_ps``); a completed run is censored
    at the cell's duration. No finished run: an empty ``cells``."""
    row = catalog.get_potential(session, key=model)
    if row is None:
        raise ApiError(
            404, f"no model '{model}'; GET /api/v1/models lists the registered ones", field="model"
        )
    structure_id = None
    if structure is not None:
        srow = catalog.get_structure(session, key=structure)
        if srow is None:
            raise ApiError(422, f"unknown structure '{structure}'", field="structure")
        structure_id = srow.id
    by_cell = survival_crud.finished_runs_by_cell(
        session,
        model_id=row.id,
        structure_id=structure_id,
        temperature_K=temperature_K,
        timestep_fs=timestep_fs,
        suite=suite,
    )
    cells = []
    for (structure_spec, temp, dt, duration), runs in by_cell.items():
        times = [failure_time_ps(r.summary) for r in runs]
        cells.append(
            SurvivalCell(
                structure=structure_spec,
                temperature_K=temp,
                timestep_fs=dt,
                duration_ps=duration,
                n_runs=len(runs),
                n_crashed=sum(1 for r in runs if r.status == "crashed"),
                run_ids=[r.id for r in runs],
                failure_times_ps=times,
                survival=SurvivalCurve(**survival_curve(times, duration)),
                time_to_failure=TimeToFailure(**median_time_to_failure(times, duration)),
            )
        )
    return Survival(
        model=row.spec,
        name=row.name,
        structure=structure,
        temperature_K=temperature_K,
        timestep_fs=timestep_fs,
        suite=suite,
        cells=cells,
    )
