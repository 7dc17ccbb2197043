"""Request and response bodies of ``/api/v1/bench``: ``mdval bench`` run on a worker.

The request names what to measure; the worker hands it to the core's
``mdval.bench.BenchPlan`` (the quick plan, or the full one, with these fields replaced).
The core is not imported here (it pulls in torch): the plan's field names are repeated in
:func:`app.services.bench.core_plan`, and a worker checks them again when it runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas.common import Text

BenchStatus = Literal["queued", "running", "completed", "failed"]
BenchDevice = Literal["auto", "cpu", "cuda"]

#: The students shipped with mdval; the first is the baseline of the speed-up ratios.
ZOO_STUDENTS = ("zoo:original", "zoo:tiny", "zoo:ultra-tiny")
#: Policy limits of one request (a benchmark holds a worker for its whole length).
MAX_MODELS = 8
MAX_REPLICAS = 1024
MAX_BATCH_SIZES = 16
MAX_SIZE_STRUCTURES = 16
MAX_STEPS = 100_000
MAX_THREADS = 256
#: Water clusters the core builds itself (``mdval.bench.systems.water_cluster``).
WATER_CLUSTER = re.compile(r"^water-(\d+)$")
MAX_WATER_MOLECULES = 500
#: A potential or structure spec in a list.
Spec = Annotated[Text, Field(max_length=1000)]


def _no_duplicates(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} {v!r} is listed twice")
        seen.add(v)
    return values


class BenchCreate(BaseModel):
    """``POST /api/v1/bench``. Omitted fields take the core's plan: ``quick`` (default) is
    ``mdval bench --quick`` (one structure, 1-16 replicas, under a minute on a laptop CPU
    for the three students); ``quick: false`` is the full plan (1-256 replicas, long
    trajectories, cost against size — minutes)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    models: list[Spec] = Field(
        default_factory=lambda: list(ZOO_STUDENTS),
        min_length=1,
        max_length=MAX_MODELS,
        description="Torch potentials to measure (specs or names); the first is the baseline "
        "of the speed-up ratios.",
    )
    structure: Text = Field(
        "alanine-dipeptide",
        min_length=1,
        max_length=1000,
        description="Structure of the single-system, batch and long-trajectory measurements.",
    )
    size_structures: list[Spec] | None = Field(
        None,
        max_length=MAX_SIZE_STRUCTURES,
        description="Structures of the cost-against-size experiment (registered structures "
        "or water-N clusters); default: none with quick, the core's eight with the full plan.",
    )
    teacher: Text | None = Field(
        "gfn2-xtb",
        max_length=500,
        description="Reference potential timed through the ASE engine (any potential); "
        "null to skip it.",
    )
    quick: bool = Field(True, description="Start from the quick plan (true) or the full one.")
    replicas: list[int] | None = Field(
        None,
        min_length=1,
        max_length=MAX_BATCH_SIZES,
        description=f"Batch sizes of the batch-scaling experiment (1 to {MAX_REPLICAS}); "
        "default: 1, 4, 16 (quick) or 1 ... 256 (full).",
    )
    steps: int | None = Field(
        None,
        ge=1,
        le=MAX_STEPS,
        description="Measured MD steps of each single-system engine run (after warm-up); "
        "default: 40 (quick) or 200 (full).",
    )
    long_steps: int | None = Field(
        None,
        ge=0,
        le=MAX_STEPS,
        description="Steps of the long-trajectory runs (0 skips them); default: 0 (quick) or "
        "1000 (full).",
    )
    device: BenchDevice = Field(
        "auto", description="auto (a GPU when the worker has one), cpu or cuda."
    )
    threads: int | None = Field(
        None, ge=1, le=MAX_THREADS, description="torch intra-op threads (default: torch's)."
    )

    @field_validator("models")
    @classmethod
    def _models(cls, models: list[str]) -> list[str]:
        cleaned = [m.strip() for m in models]
        if any(not m for m in cleaned):
            raise ValueError("a model spec is empty")
        return _no_duplicates(cleaned, "model")

    @field_validator("size_structures")
    @classmethod
    def _sizes(cls, names: list[str] | None) -> list[str] | None:
        if names is None:
            return None
        cleaned = [n.strip() for n in names]
        if any(not n for n in cleaned):
            raise ValueError("a structure name is empty")
        for name in cleaned:
            match = WATER_CLUSTER.match(name)
            if match and not 1 <= int(match.group(1)) <= MAX_WATER_MOLECULES:
                raise ValueError(
                    f"{name!r}: a water cluster has 1 to {MAX_WATER_MOLECULES} molecules"
                )
        return _no_duplicates(cleaned, "structure")

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, sizes: list[int] | None) -> list[int] | None:
        if sizes is None:
            return None
        bad = [n for n in sizes if not 1 <= n <= MAX_REPLICAS]
        if bad:
            raise ValueError(f"batch sizes must be 1 to {MAX_REPLICAS} replicas, got {bad}")
        return sorted(_no_duplicates(sizes, "batch size"))

    @field_validator("teacher")
    @classmethod
    def _teacher(cls, teacher: str | None) -> str | None:
        teacher = (teacher or "").strip()
        return None if teacher in ("", "none") else teacher

    @model_validator(mode="after")
    def _teacher_not_measured_twice(self) -> Self:
        if self.teacher is not None and self.teacher in self.models:
            raise ValueError(
                f"'{self.teacher}' is both a model and the teacher; set teacher to null or "
                "another potential"
            )
        return self


class BenchRecordRead(BaseModel):
    """One measurement (METRICS.md, "Speed and memory"), as the core's ``BenchRecord``:
    times per batched call/step of all replicas together, medians after warm-up; memory in
    MiB; ``engine`` bare (the model alone), torch or ase. Keys beyond these (per-round
    values, warm-up, noted failures) are passed through."""

    model_config = ConfigDict(extra="allow")

    model: str
    structure: str
    n_atoms: int = Field(..., description="Atoms per replica.")
    engine: str
    replicas: int
    device: str
    inference_ms_per_step: float | None
    step_ms: float | None
    harness_overhead: float | None = Field(
        ...,
        description="Median over steps of (step - its own model call) / the median call "
        "(harness_ms_per_step / inference_ms_per_step); step_ms / inference_ms - 1 of the "
        "medians is harness_overhead_of_medians.",
    )
    throughput_atom_steps_per_s: float | None
    peak_memory_MB: float | None
    experiment: str = Field(..., description="single | batch | long | size")
    n_steps: int
    device_name: str | None = None
    torch_version: str | None = None
    threads: int | None = None


class BenchJobRead(BaseModel):
    """A benchmark job as the list shows it (no records, no summary)."""

    id: int
    status: BenchStatus
    request: dict[str, Any] = Field(..., description="The POST body, defaults filled in.")
    plan: dict[str, Any] = Field(
        ..., description="The core's BenchPlan fields (in full once the job has run)."
    )
    models: list[str]
    device: BenchDevice
    queue: str
    worker: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    progress: str | None = Field(None, description="The last line the benchmark printed.")
    failure_reason: str | None
    device_name: str | None
    torch_version: str | None
    threads: int | None = Field(None, description="torch intra-op threads of the run.")
    context: dict[str, Any] | None = Field(
        None, description="device, device_name, torch_version, torch_threads, cpu_count, ..."
    )
    wall_s: float | None = Field(None, description="Wall time of the whole benchmark (s).")
    n_records: int


class BenchJobDetail(BenchJobRead):
    """``GET /api/v1/bench/{id}``: the job, its records and the core's analysis."""

    records: list[BenchRecordRead]
    summary: dict[str, Any] | None = Field(
        None,
        description="The core's analysis (mdval.bench.analysis.summarise): harness_overhead, "
        "speedups, speedups_batched, speedups_by_size, batch_scaling, long_trajectory, "
        "cost_vs_size, targets.",
    )


class BenchJobList(BaseModel):
    items: list[BenchJobRead]
    total: int
    limit: int
    offset: int
