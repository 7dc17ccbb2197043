"""Bodies of the analysis endpoints: what the dashboard shows of a run's trajectory and
the criteria levels of shown values, computed by the core (:mod:`mdval.analysis`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.schemas.common import Text
from app.schemas.leaderboard import RunBrief

#: Most metric sets one levels request may judge (a leaderboard page, a report's cases).
LEVELS_MAX_ITEMS = 2000


class FrameView(BaseModel):
    step: int | None = None
    time_ps: float | None = None
    symbols: list[str]
    positions_A: list[list[float]] = Field(description="(N, 3) positions, Å")
    radii_A: list[float] = Field(description="(N,) covalent radii, Å")
    cell_A: list[list[float]] | None = Field(None, description="(3, 3) cell vectors, Å")
    pbc: list[bool] | None = None
    bonds: list[list[int]] = Field(description="(P, 2) bonded atom pairs i < j (minimum image)")
    bond_vectors_A: list[list[float]] = Field(
        description="(P, 3) minimum-image vector from atom i to atom j of each bond, Å"
    )


class FrameList(BaseModel):
    run_id: int
    frames: list[FrameView] = Field(description="empty while no frame is written")


class Histogram(BaseModel):
    r_A: list[float] = Field(description="bin centres, Å")
    h_per_A: list[float] = Field(description="h(r), 1/Å; integrates to 1")


class RunAnalysis(BaseModel):
    run_id: int | None = None
    n_frames: int
    hr: Histogram | None = Field(None, description="h(r) of all frames, minimum image")
    phi_psi_deg: list[list[float]] | None = Field(
        None, description="(frames, 2) φ/ψ in degrees; null unless alanine dipeptide"
    )
    n_bonds: int | None = Field(None, description="bonds of the first frame")


class TrajectoryComparison(BaseModel):
    model_run: int
    reference_run: int
    time_ps: list[float] = Field(description="frame times present in both runs, ps")
    rmsd_A: list[float] = Field(description="Kabsch RMSD at those times, Å")
    divergence_time_ps: float | None = Field(None, description="first time with RMSD > 0.5 Å")
    hr_error: float | None = Field(None, description="∫|h_model − h_reference| dr, in [0, 2]")
    phi_psi_js_divergence: float | None = None
    model: RunAnalysis
    reference: RunAnalysis


class EkinSeries(BaseModel):
    run_id: int
    time_ps: list[float]
    ekin_eV: list[float]


class CriterionThresholds(BaseModel):
    name: str
    metric: str
    unit: str | None = None
    comparison: str
    target: float | bool | None = None
    acceptable: float | bool | None = None
    description: str | None = None


class ProfileRead(BaseModel):
    name: str
    device: str = Field(description="the device class the thresholds are for: cpu or gpu")
    criteria: list[CriterionThresholds]
    definition: dict[str, Any] = Field(description="the profile as registered (every device)")


class LevelsRequest(BaseModel):
    device: Text | None = Field(None, description="a device or device name (cpu, cuda, NVIDIA …)")
    evidence: bool = Field(
        True,
        description="apply the profile's evidence rules (false for aggregates such as a "
        "leaderboard median: thresholds only)",
    )
    items: list[dict[Text, Any]] = Field(
        ..., max_length=LEVELS_MAX_ITEMS, description="metric name -> value, one set per item"
    )


class LevelsResponse(BaseModel):
    profile: str
    items: list[list[dict[str, Any]]] = Field(
        description="per item, one row per criterion: the core's result and its level"
    )


class SameStartRuns(BaseModel):
    """Finished runs of ``model`` that started as run ``run_id`` did (the core's
    ``same_start``: structure, seed, temperature, timestep, equilibration, friction),
    newest first, whatever their status — a crashed teacher run is said, not hidden."""

    run_id: int
    model: str | None = Field(..., description="None: the run names no reference")
    fields: list[str] = Field(..., description="what was compared")
    items: list[RunBrief]
