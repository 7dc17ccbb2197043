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
    median_inference_ms_per_step: float | None
    speedup: float | None = Field(
        None,
        description="Baseline's inference_ms_per_step over this model's, matched per structure "
        "and device (geometric mean over the shared cases).",
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


class Standup(BaseModel):
    """What happened since ``since``: the daily stand-up in one call."""

    since: datetime
    now: datetime
    finished: list[RunBrief]
    new_failures: list[RunBrief] = Field(..., description="crashed or failed since then")
    running: list[RunBrief]
    queued: int
    leaderboard_changes: list[LeaderboardChange]
