"""The parameters of one validation run, validated at the boundary."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The most integration steps one run may take, equilibration and production together.
MAX_TOTAL_STEPS = 50_000_000


def steps_for(duration_ps: float, timestep_fs: float) -> int:
    """Number of integration steps covering ``duration_ps`` at ``timestep_fs`` (rounded).

    Raises ValueError (never OverflowError) when the count is not a finite number, e.g. a
    subnormal timestep: ``1e-308`` fs makes any duration infinitely many steps."""
    steps = duration_ps * 1000.0 / timestep_fs
    if not math.isfinite(steps):
        raise ValueError(
            f"{duration_ps} ps at timestep_fs={timestep_fs} is more steps than can be counted; "
            "give timestep_fs of at least 0.001"
        )
    return round(steps)


#: Default NVT equilibration (ps): 10 relaxation times 1/friction at the default friction of
#: 10 /ps, so that production starts thermal at the requested T (METRICS.md, "Temperature").
DEFAULT_EQUILIBRATION_PS = 1.0

Engine = Literal["auto", "ase", "torch"]
Device = Literal["auto", "cpu", "cuda"]


class RunConfig(BaseModel):
    """One MD validation run. Units are in the field names; times in fs and ps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(..., min_length=1, description="Potential spec under test.")
    structure: str = Field(..., min_length=1, description="Structure spec.")
    reference: str | None = Field(
        None, description="Reference (teacher) potential spec; None skips force accuracy."
    )
    temperature_K: float = Field(300.0, gt=0, le=5000, description="Initial/target temperature.")
    timestep_fs: float = Field(0.5, gt=0, le=10, description="Integration timestep.")
    duration_ps: float = Field(5.0, gt=0, le=1000, description="NVE production length.")
    equilibration_ps: float = Field(
        DEFAULT_EQUILIBRATION_PS,
        ge=0,
        le=1000,
        description="NVT (Langevin) equilibration length before production; 0 = none.",
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the velocity RNG.")
    profile: str = Field("m6", min_length=1, description="Acceptance-criteria profile.")
    engine: Engine = "auto"
    device: Device = "auto"
    record_every: int = Field(10, ge=1, le=100_000, description="Thermo record interval, steps.")
    frame_every: int = Field(100, ge=1, le=1_000_000, description="Trajectory frame interval.")
    reference_every: int = Field(
        100, ge=1, le=1_000_000, description="Reference evaluation interval, steps."
    )
    friction_per_ps: float = Field(
        10.0, gt=0, le=1000, description="Langevin friction of the NVT equilibration."
    )

    @model_validator(mode="after")
    def _at_least_one_step(self) -> RunConfig:
        production = steps_for(self.duration_ps, self.timestep_fs)
        equilibration = steps_for(self.equilibration_ps, self.timestep_fs)
        if production < 1:
            raise ValueError(
                f"duration_ps={self.duration_ps} at timestep_fs={self.timestep_fs} is less than "
                "one step"
            )
        if production + equilibration > MAX_TOTAL_STEPS:
            raise ValueError(
                f"equilibration_ps={self.equilibration_ps} + duration_ps={self.duration_ps} at "
                f"timestep_fs={self.timestep_fs} is {equilibration:,} + {production:,} steps, "
                f"more than {MAX_TOTAL_STEPS // 1_000_000} million in all: shorten "
                "equilibration_ps or duration_ps, or raise timestep_fs"
            )
        return self

    @property
    def n_production_steps(self) -> int:
        return steps_for(self.duration_ps, self.timestep_fs)

    @property
    def n_equilibration_steps(self) -> int:
        return steps_for(self.equilibration_ps, self.timestep_fs)
