"""Body of ``/api/v1/survival``: survival of a model's replicas per protocol cell."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SurvivalCurve(BaseModel):
    """Fraction of the cell's replicas not crashed at each production time (Kaplan–Meier
    with every replica that did not crash censored at the duration; the core's
    ``survival_curve``)."""

    time_ps: list[float] = Field(..., description="Production time (ps), 0 to duration_ps.")
    alive_fraction: list[float] = Field(..., description="Fraction of replicas alive, 0 to 1.")


class TimeToFailure(BaseModel):
    """Median production time to failure with a distribution-free 95 % interval (the core's
    ``median_time_to_failure``). None: beyond the run (more than half survived, or the bound
    falls on a replica that did not crash)."""

    median_ps: float | None
    ci95_low_ps: float | None
    ci95_high_ps: float | None


class SurvivalCell(BaseModel):
    """One protocol cell: the model's finished (completed + crashed) runs that share the
    structure, temperature, timestep and duration (replicas: they differ by seed)."""

    structure: str
    temperature_K: float
    timestep_fs: float
    duration_ps: float
    n_runs: int = Field(..., description="Finished runs of the cell: completed + crashed.")
    n_crashed: int
    run_ids: list[int]
    failure_times_ps: list[float | None] = Field(
        ...,
        description="Per run (order of run_ids): production time reached when it crashed "
        "(summary.metrics.stable_duration_ps); None for a completed run.",
    )
    survival: SurvivalCurve
    time_to_failure: TimeToFailure


class Survival(BaseModel):
    model: str = Field(..., description="The model's spec.")
    name: str
    structure: str | None
    temperature_K: float | None
    timestep_fs: float | None
    suite: str | None
    cells: list[SurvivalCell]
