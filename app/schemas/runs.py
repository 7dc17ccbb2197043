"""Request and response bodies of ``/api/v1/runs``.

The run parameters are the core's own :class:`mdval.md.config.RunConfig` fields (ranges,
defaults, descriptions), taken from that class, so the API and the core cannot disagree.
``mdval.md.config`` imports only pydantic: the API process stays free of torch and ase.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from app.schemas.common import Text
from mdval.md.config import RunConfig

RunStatus = Literal["queued", "running", "completed", "crashed", "failed", "cancelled"]
#: A run's verdict (METRICS.md, "Control runs and verdicts"): ``protocol invalid`` when its
#: control (the reference under the same protocol) fails itself.
Verdict = Literal["pass", "fail", "inconclusive", "protocol invalid"]

#: RunConfig fields that name things rather than set the protocol.
SPEC_FIELDS = ("model", "structure", "reference")

RunParameters: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RunParameters",
    # strict: "5" or true for a number is a 422, not silently coerced
    __config__=ConfigDict(extra="forbid", strict=True),
    __doc__="Protocol parameters of one run (the core's RunConfig); units in the names.",
    **{
        name: (field.annotation, field)
        for name, field in RunConfig.model_fields.items()
        if name not in SPEC_FIELDS
    },
)


def run_config_error(exc: ValidationError) -> str:
    """One sentence from a RunConfig validation error."""
    parts = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item.get("loc", ()))
        msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


#: The ``reference`` that means "none" (for a suite: instead of the suite's own reference).
NO_REFERENCE = "none"

#: Fields that a suite defines itself; a suite request may not set them.
SUITE_OWNED_FIELDS = frozenset(
    {"structure", "temperature_K", "timestep_fs", "duration_ps", "equilibration_ps", "seed"}
)


class RunCreate(RunParameters):
    """``POST /api/v1/runs``: one run (``structure`` set) or a whole suite (``suite`` set)."""

    model: Text = Field(..., min_length=1, max_length=500, description="Model spec or name.")
    structure: Text | None = Field(
        None, min_length=1, max_length=1000, description="Structure spec (built-in, smiles:...)."
    )
    reference: Text | None = Field(
        None,
        max_length=500,
        description='Reference (teacher) spec. One run: omitted or "none" skips force '
        'errors. A suite: omitted takes the suite\'s reference, "none" runs without one.',
    )
    suite: Text | None = Field(
        None, min_length=1, max_length=200, description="Queue this suite for the model."
    )
    profile: Text = Field(
        RunConfig.model_fields["profile"].default,
        min_length=1,
        max_length=100,
        description=RunConfig.model_fields["profile"].description,
    )

    @model_validator(mode="after")
    def _one_of_structure_or_suite(self) -> Self:
        if self.suite is None and self.structure is None:
            raise ValueError("give either 'structure' (one run) or 'suite' (a suite of runs)")
        if self.suite is not None:
            clash = sorted(SUITE_OWNED_FIELDS & self.model_fields_set)
            if clash:
                raise ValueError(
                    f"suite '{self.suite}' defines {', '.join(clash)} itself; drop "
                    f"{'it' if len(clash) == 1 else 'them'} or submit single runs"
                )
        if self.reference == "" or (self.reference == NO_REFERENCE and self.suite is None):
            self.reference = None
        if self.suite is None:
            try:  # the core's cross-field rules (step count) on the final numbers
                RunConfig(model=self.model, structure=self.structure, **self.parameters())
            except ValidationError as exc:
                raise ValueError(run_config_error(exc)) from None
        return self

    def parameters(self) -> dict[str, Any]:
        """The RunConfig fields except model/structure/reference."""
        return self.model_dump(exclude={"model", "structure", "reference", "suite"})


#: Most runs one ``POST /runs/batch`` body may hold (the service's own limit,
#: ``MDVAL_MAX_RUNS_PER_REQUEST``, is checked too).
MAX_BATCH_RUNS = 1000


class RunBatchCreate(BaseModel):
    """``POST /api/v1/runs/batch``: several single runs queued as one submission, all or
    none, under one ``Idempotency-Key`` (the dashboard's multi-temperature / multi-seed
    form sends one)."""

    model_config = ConfigDict(extra="forbid")

    runs: list[RunCreate] = Field(
        ...,
        min_length=1,
        max_length=MAX_BATCH_RUNS,
        description="The runs, each as for POST /runs with 'structure' set (no suite).",
    )

    @model_validator(mode="after")
    def _single_runs_only(self) -> Self:
        suites = [i + 1 for i, r in enumerate(self.runs) if r.suite is not None]
        if suites:
            raise ValueError(
                f"run {suites[0]} names a suite: a batch holds single runs (queue a suite "
                "with POST /api/v1/runs)"
            )
        return self


class RunMetrics(BaseModel):
    """The summary numbers the leaderboard reads (None until the run has them)."""

    drift_meV_per_atom_per_ps: float | None = None
    drift_percent: float | None = None
    force_rmse_eV_per_A: float | None = None
    force_mae_eV_per_A: float | None = None
    force_r2: float | None = None
    force_angle_error_deg: float | None = None
    energy_rmse_meV_per_atom: float | None = None
    inference_ms_per_step: float | None = Field(
        None, description="Per step of the run's batch (its batch's time when batched)."
    )
    inference_ms_per_replica_step: float | None = Field(
        None, description="inference_ms_per_step / batch_size: what speed criteria judge."
    )
    batch_size: int | None = Field(None, description="Replicas stepped together (1: alone).")
    step_ms: float | None = None


class RunRead(BaseModel):
    """A run as the API shows it. ``progress_percent`` and ``eta_s`` are live while running."""

    id: int
    submission_id: str
    status: RunStatus
    suite: str | None
    model: str
    reference: str | None
    structure: str
    formula: str | None
    n_atoms: int | None
    temperature_K: float
    timestep_fs: float
    duration_ps: float
    equilibration_ps: float
    seed: int
    profile: str
    device: str
    queue: str
    config: dict[str, Any]
    progress_percent: float
    done_steps: int
    total_steps: int | None
    eta_s: float | None
    eta_at: datetime | None
    attempt: int
    max_attempts: int
    worker: str | None
    cancel_requested: bool
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    failure_reason: str | None
    verdict: Verdict | None
    recommendation: str | None
    time_to_failure_ps: float | None
    device_name: str | None
    metrics: RunMetrics
    has_trajectory: bool
    summary: dict[str, Any] | None = Field(
        None, description="The core's summary.json (only on GET /runs/{id})."
    )


class RunList(BaseModel):
    items: list[RunRead]
    total: int
    limit: int
    offset: int


class RunSubmission(BaseModel):
    """Answer of ``POST /api/v1/runs`` and ``POST /api/v1/runs/batch``. ``id``/``status``
    are the first run's (the only one for a single-run request)."""

    submission_id: str
    suite: str | None
    id: int
    status: RunStatus
    runs: list[RunRead]
    replayed: bool = Field(False, description="True when answered from an Idempotency-Key.")


class ThermoSeries(BaseModel):
    """Thermo records in columns (plot-ready). ``seq`` numbers records over all phases;
    ``step`` and ``time_ps`` count within ``phase``. Poll with ``after_seq=next_after_seq``
    (or ``phase=production&after_step=last_step``) to get only new points."""

    run_id: int
    status: RunStatus
    n: int
    next_after_seq: int | None
    last_step: int | None
    seq: list[int]
    phase: list[str]
    step: list[int]
    time_ps: list[float]
    epot_eV: list[float]
    ekin_eV: list[float]
    etot_eV: list[float]
    temperature_K: list[float]
    max_force_eV_per_A: list[float]
    inference_ms: list[float]
    pressure_GPa: list[float | None]


class ForceErrorSample(BaseModel):
    seq: int
    step: int
    time_ps: float
    force_rmse_eV_per_A: float
    energy_error_eV: float
    per_atom_error_eV_per_A: list[float]


class Histogram(BaseModel):
    """Counts of per-atom force-error norms |F_i - G_i| over the returned samples."""

    bin_edges_eV_per_A: list[float]
    counts: list[int]


class ForceErrors(BaseModel):
    run_id: int
    status: RunStatus
    n: int
    next_after_seq: int | None
    samples: list[ForceErrorSample]
    histogram: Histogram | None


class CancelResult(BaseModel):
    id: int
    status: RunStatus
    cancel_requested: bool
    message: str
