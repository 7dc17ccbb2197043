"""What a suite is: the axes of a cartesian product of runs, plus explicit extra runs.

A suite file (YAML or JSON; built-ins in ``mdval/suites/data/``)::

    name: m6-quick
    description: ...
    structures: [H2O, CH4, alanine-dipeptide]   # structure specs
    temperatures_K: [300]                       # a single number is a one-element list
    timesteps_fs: [0.5]
    durations_ps: [5]
    seeds: 3                                    # a count (seeds 0..n-1) or a list; default 3
    equilibration_ps: 1.0
    reference: gfn2-xtb                         # default reference; null: no force accuracy
    profile: m6
    record_every: 10
    demo: false                                 # true: demo-sized, views say so
    extra_runs:                                 # appended after the product
      - {structure: alanine-dipeptide, temperature_K: 300, timestep_fs: 0.5, duration_ps: 50}

An extra run names structure, temperature_K, timestep_fs and duration_ps, and may set any
other field of :class:`~mdval.md.config.RunConfig` except model, reference and profile
(suite-wide); its seed defaults to the suite's first seed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mdval.md.config import RunConfig

#: Seeds per cell when a suite gives none: three replicas, for intervals and survival.
DEFAULT_SEEDS = 3

#: RunConfig fields that an extra run may set besides its four required ones.
EXTRA_RUN_FIELDS = frozenset(RunConfig.model_fields) - {"model", "reference", "profile"}
_RUN_DEFAULTS = {name: RunConfig.model_fields[name].default for name in RunConfig.model_fields}


class ExtraRun(BaseModel):
    """One explicit run of a suite (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    structure: str = Field(..., min_length=1)
    temperature_K: float
    timestep_fs: float
    duration_ps: float

    @model_validator(mode="after")
    def _known_fields(self) -> ExtraRun:
        unknown = sorted(set(self.model_extra or {}) - EXTRA_RUN_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown run field(s) {', '.join(unknown)}; an extra run may set "
                f"{', '.join(sorted(EXTRA_RUN_FIELDS))}"
            )
        return self

    def fields(self) -> dict[str, Any]:
        """The RunConfig fields this extra run sets."""
        return {**self.model_dump(exclude=set(self.model_extra or {})), **(self.model_extra or {})}


class Suite(BaseModel):
    """A named set of runs; axes default to RunConfig's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    description: str = ""
    structures: list[str] = Field(default_factory=list)
    temperatures_K: list[float] = Field(default_factory=lambda: [_RUN_DEFAULTS["temperature_K"]])
    timesteps_fs: list[float] = Field(default_factory=lambda: [_RUN_DEFAULTS["timestep_fs"]])
    durations_ps: list[float] = Field(default_factory=lambda: [_RUN_DEFAULTS["duration_ps"]])
    seeds: list[int] = Field(default_factory=lambda: list(range(DEFAULT_SEEDS)))
    equilibration_ps: float = _RUN_DEFAULTS["equilibration_ps"]
    reference: str | None = None
    profile: str = _RUN_DEFAULTS["profile"]
    record_every: int = _RUN_DEFAULTS["record_every"]
    #: A demo-sized suite (``demo``): its runs show how mdval judges, not a validation; the
    #: dashboard and the CLI say so wherever they show them.
    demo: bool = False
    extra_runs: list[ExtraRun] = Field(default_factory=list)

    @field_validator("structures", "temperatures_K", "timesteps_fs", "durations_ps", mode="before")
    @classmethod
    def _scalar_is_one_element_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int | float) else value

    @field_validator("seeds", mode="before")
    @classmethod
    def _count_is_range(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("give a number of seeds or a list of seeds")
        if isinstance(value, int):
            if value < 1:
                raise ValueError(f"a seed count must be at least 1, got {value}")
            return list(range(value))
        return value

    @field_validator("structures", "temperatures_K", "timesteps_fs", "durations_ps", "seeds")
    @classmethod
    def _no_repeats(cls, values: list[Any]) -> list[Any]:
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"repeated value(s) {', '.join(repeated)} would duplicate runs")
        return values

    @field_validator("temperatures_K", "timesteps_fs", "durations_ps", "seeds")
    @classmethod
    def _not_empty(cls, values: list[Any]) -> list[Any]:
        if not values:
            raise ValueError("must list at least one value")
        return values

    @model_validator(mode="after")
    def _has_runs(self) -> Suite:
        if not self.structures and not self.extra_runs:
            raise ValueError("a suite needs structures or extra_runs")
        return self

    @property
    def n_runs(self) -> int:
        """Runs before de-duplication: the product plus the extra runs."""
        product = len(self.structures) * len(self.temperatures_K) * len(self.timesteps_fs)
        return product * len(self.durations_ps) * len(self.seeds) + len(self.extra_runs)
