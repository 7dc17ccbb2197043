"""Bodies of ``/api/v1/leaderboard`` and ``/api/v1/standup``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.runs import RunStatus

SortKey = Literal[
    "model",
    "runs",
    "pass_rate",
    "crash_rate",
    "median_drift_percent",
    "median_force_rmse_eV_per_A",
    "median_inference_ms_per_step",
    "median_inference_ms_per_replica_step",
    "speedup",
    "n_params",
]


class LeaderboardRow(BaseModel):
    """One model over its finished runs (completed + crashed; failed/cancelled are counted
    but not scored). Medians are over runs that have the metric."""

    model: str
    name: str
    kind: str
    n_params: int | None
    runs: int = Field(..., description="Runs scored: completed + crashed.")
    completed: int
    crashed: int
    failed: int
    cancelled: int
    passed: int
    inconclusive: int = Field(0, description="Runs whose evidence cannot decide.")
    protocol_invalid: int = Field(
        0, description="Runs whose control failed itself: counted neither for nor against."
    )
    pass_rate: float | None = Field(None, description="passed / (runs − protocol_invalid)")
    crash_rate: float | None = Field(None, description="crashed / (completed + crashed)")
    median_drift_percent: float | None
    median_abs_drift_meV_per_atom_per_ps: float | None
    median_force_rmse_eV_per_A: float | None
    median_force_mae_eV_per_A: float | None
    median_force_r2: float | None
    median_force_angle_error_deg: float | None
    median_energy_rmse_meV_per_atom: float | None
    median_inference_ms_per_step: float | None = Field(
        None, description="Per model call: a batched run's is its whole batch's."
    )
    median_inference_ms_per_replica_step: float | None = Field(
        None, description="A batched run's inference_ms_per_step / its batch size."
    )
    batch_size_min: int | None = Field(None, description="Smallest batch of its scored runs.")
    batch_size_max: int | None = Field(None, description="Largest batch (1: never batched).")
    speedup: float | None = Field(
        None,
        description="Baseline's inference ms per replica step over this model's, matched per "
        "structure and device (geometric mean over the shared cases): a batched run's batch "
        "time is divided by its batch size.",
    )
    recommendation: str | None
    recommendation_evidence: Any = None
    last_finished_at: datetime | None


class Leaderboard(BaseModel):
    suite: str | None
    baseline: str | None
    sort: str
    descending: bool
    rows: list[LeaderboardRow]


class RunBrief(BaseModel):
    id: int
    model: str
    structure: str
    suite: str | None
    status: RunStatus
    verdict: str | None
    failure_reason: str | None
    progress_percent: float
    eta_s: float | None
    finished_at: datetime | None


class LeaderboardChange(BaseModel):
    model: str
    change: Literal["new", "changed"]
    before: dict[str, Any] | None
    after: dict[str, Any]
    run_ids: list[int] = Field(
        default_factory=list, description="The evidence: its runs finished since then."
    )


class RecommendationChange(BaseModel):
    """A model whose recommendation (over all its runs) is not what it was at ``since``."""

    model: str
    name: str
    before: str | None = Field(..., description="What held at `since` (None: none yet).")
    after: str
    changed_at: datetime
    decided_by_run_id: int | None = Field(None, description="The run whose end changed it.")
    run_ids: list[int] = Field(
        default_factory=list, description="The evidence: its runs finished since then."
    )
    evidence: Any = None


class NewModel(BaseModel):
    """A model with scored runs now and none at ``since``."""

    model: str
    name: str
    runs: int
    recommendation: str | None
    run_ids: list[int]


class Standup(BaseModel):
    """What happened since ``since``: the daily stand-up in one call. Before/after compares
    the leaderboard as it was at ``since`` (runs finished before it, recommendations that
    held then: ``recommendation_history``) with now."""

    since: datetime
    now: datetime
    finished: list[RunBrief] = Field(
        ..., description="completed, crashed or failed since then (cancelled apart)"
    )
    cancelled: list[RunBrief] = Field(default_factory=list, description="cancelled since then")
    new_failures: list[RunBrief] = Field(..., description="crashed or failed since then")
    running: list[RunBrief]
    queued: int
    recommendation_changes: list[RecommendationChange] = Field(default_factory=list)
    new_models: list[NewModel] = Field(default_factory=list)
    leaderboard_changes: list[LeaderboardChange]
