"""Tables of the service. The ``runs`` row is the source of truth of a run's state.

Energies and every physical number are float64 (``Double``: DOUBLE PRECISION on Postgres).
Units are in the column names, as in METRICS.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, BigId, Json, UTCDateTime, utcnow

#: Final states of a run; every other state is ``queued`` or ``running``.
FINISHED_STATUSES = ("completed", "crashed", "failed", "cancelled")
RUN_STATUSES = ("queued", "running", *FINISHED_STATUSES)
ROLES = ("viewer", "submitter", "admin")
#: Verdicts of a finished run (METRICS.md); "protocol invalid": its control failed itself.
VERDICTS = ("pass", "fail", "inconclusive", "protocol invalid")


class ApiToken(Base):
    """A bearer token; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Potential(Base):
    """A registered potential (the ``models`` of the API): built-in, zoo, or an upload.

    ``spec`` is what users type; ``core_spec`` is what the workers hand to mdval (a path in
    the artifact store for uploads). ``supported_elements`` None means no restriction known.
    """

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    spec: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    core_spec: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str | None] = mapped_column(String(64))
    n_params: Mapped[int | None] = mapped_column(BigId)
    supported_elements: Mapped[list[str] | None] = mapped_column(Json)
    periodic_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready|checking|rejected
    error: Mapped[str | None] = mapped_column(Text)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    size_bytes: Mapped[int | None] = mapped_column(BigId)
    description: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class Structure(Base):
    """A registered structure: built-in, uploaded file, or SMILES."""

    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    spec: Mapped[str] = mapped_column(String(1000), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # builtin|upload|smiles
    core_spec: Mapped[str] = mapped_column(String(2000))
    formula: Mapped[str] = mapped_column(String(200))
    n_atoms: Mapped[int] = mapped_column(Integer)
    elements: Mapped[list[str]] = mapped_column(Json)
    periodic: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class Suite(Base):
    """A suite known to the core (data), cached for listings."""

    __tablename__ = "suites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any] | None] = mapped_column(Json)
    n_runs: Mapped[int | None] = mapped_column(Integer)
    builtin: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Profile(Base):
    """An acceptance-criteria profile known to the core (e.g. ``m6``)."""

    __tablename__ = "profiles"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    definition: Mapped[dict[str, Any] | None] = mapped_column(Json)


class Run(Base):
    """One MD validation run.

    Lifecycle: queued -> running -> completed | crashed | failed | cancelled. A worker owns
    the row while ``status='running'`` and ``attempt`` is its attempt; every write of the
    worker is conditional on that ownership.
    """

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_model", "status", "model_id"),
        Index("ix_runs_model_finished", "model_id", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    suite: Mapped[str | None] = mapped_column(String(200), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    reference_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"))
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)

    # request (RunConfig fields, denormalised for filters; ``config`` is the full RunConfig)
    model_spec: Mapped[str] = mapped_column(String(500))
    reference_spec: Mapped[str | None] = mapped_column(String(500))
    structure_spec: Mapped[str] = mapped_column(String(1000))
    temperature_K: Mapped[float] = mapped_column(Double)
    timestep_fs: Mapped[float] = mapped_column(Double)
    duration_ps: Mapped[float] = mapped_column(Double)
    equilibration_ps: Mapped[float] = mapped_column(Double)
    seed: Mapped[int] = mapped_column(BigId)
    profile: Mapped[str] = mapped_column(String(100))
    device: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    queue: Mapped[str] = mapped_column(String(100))

    # state
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    done_steps: Mapped[int] = mapped_column(BigId, default=0)
    total_steps: Mapped[int | None] = mapped_column(BigId)
    progress: Mapped[float] = mapped_column(Double, default=0.0)  # 0 .. 1
    eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    n_atoms: Mapped[int | None] = mapped_column(Integer)
    formula: Mapped[str | None] = mapped_column(String(200))

    # result: the summary and its indexed columns (the leaderboard reads only these)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # pass | fail | inconclusive | protocol invalid (app.schemas.runs.VERDICTS)
    verdict: Mapped[str | None] = mapped_column(String(20))
    recommendation: Mapped[str | None] = mapped_column(String(100))
    time_to_failure_ps: Mapped[float | None] = mapped_column(Double)
    drift_meV_per_atom_per_ps: Mapped[float | None] = mapped_column(Double)
    drift_percent: Mapped[float | None] = mapped_column(Double)
    force_rmse_eV_per_A: Mapped[float | None] = mapped_column(Double)
    force_mae_eV_per_A: Mapped[float | None] = mapped_column(Double)
    force_r2: Mapped[float | None] = mapped_column(Double)
    force_angle_error_deg: Mapped[float | None] = mapped_column(Double)
    energy_rmse_meV_per_atom: Mapped[float | None] = mapped_column(Double)
    inference_ms_per_step: Mapped[float | None] = mapped_column(Double)
    # a batched run's inference_ms_per_step is its batch's; per replica: / batch_size
    inference_ms_per_replica_step: Mapped[float | None] = mapped_column(Double)
    batch_size: Mapped[int | None] = mapped_column(Integer)
    step_ms: Mapped[float | None] = mapped_column(Double)
    device_name: Mapped[str | None] = mapped_column(String(200))
    out_dir: Mapped[str | None] = mapped_column(String(2000))
    trajectory_path: Mapped[str | None] = mapped_column(String(2000))


class ThermoRow(Base):
    """One thermo record. ``seq`` numbers the records of a run 0, 1, 2, ... over all phases;
    ``step`` and ``time_ps`` count within ``phase`` (as the core's ``ThermoRecord``).

    No foreign key to ``runs``: a per-row RI check halves COPY throughput, and only the
    worker that owns a run ever writes its series (``delete_series`` removes them)."""

    __tablename__ = "thermo"

    run_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    phase: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(BigId)
    time_ps: Mapped[float] = mapped_column(Double)
    epot_eV: Mapped[float] = mapped_column(Double)
    ekin_eV: Mapped[float] = mapped_column(Double)
    etot_eV: Mapped[float] = mapped_column(Double)
    temperature_K: Mapped[float] = mapped_column(Double)
    max_force_eV_per_A: Mapped[float] = mapped_column(Double)
    inference_ms: Mapped[float] = mapped_column(Double)
    pressure_GPa: Mapped[float | None] = mapped_column(Double)


class ForceErrorRow(Base):
    """Model vs reference on one sampled frame; the per-atom norms feed the histograms."""

    __tablename__ = "force_errors"

    # no foreign key, as for thermo
    run_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    step: Mapped[int] = mapped_column(BigId)
    time_ps: Mapped[float] = mapped_column(Double)
    force_rmse_eV_per_A: Mapped[float] = mapped_column(Double)
    energy_error_eV: Mapped[float] = mapped_column(Double)
    per_atom_error_eV_per_A: Mapped[list[float]] = mapped_column(Json)


class IdempotencyKey(Base):
    """The response of a ``POST /runs`` that carried an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[str] = mapped_column(String(36))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recommendation(Base):
    """The core's recommendation for a model over its finished runs of a suite
    (``suite=''``: over all its runs). Recomputed by the worker after each run."""

    __tablename__ = "recommendations"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    suite: Mapped[str] = mapped_column(String(200), primary_key=True, server_default=text("''"))
    recommendation: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[Any] = mapped_column(Json)
    n_runs: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecommendationHistory(Base):
    """Every recommendation a (model, suite) has had, with the time it held: from
    ``valid_from`` until ``valid_to`` (None: still current). Written in the transaction that
    upserts :class:`Recommendation`, so any view can be read as of a time. ``verdicts``
    counts the verdicts of the runs it was decided on; ``run_id`` is the run whose end
    caused it."""

    __tablename__ = "recommendation_history"
    __table_args__ = (
        Index("ix_recommendation_history_model_suite_from", "model_id", "suite", "valid_from"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    suite: Mapped[str] = mapped_column(String(200))
    recommendation: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[Any] = mapped_column(Json)
    n_runs: Mapped[int] = mapped_column(Integer)
    verdicts: Mapped[dict[str, int] | None] = mapped_column(Json)
    run_id: Mapped[int | None] = mapped_column(BigId)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Counter(Base):
    """Named counters. ``finished_runs`` is bumped in the same transaction as every change
    of a run to a final state: a cheap, commit-order-proof version for caches."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(BigId, default=0)


class WorkerHeartbeat(Base):
    """A live worker process; the health endpoint lists those seen recently."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(Json)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


#: States of a benchmark job (``mdval bench`` run by a worker); no retries, no cancel.
BENCH_STATUSES = ("queued", "running", "completed", "failed")


class BenchJob(Base):
    """One ``mdval bench`` run on a worker: the request, its state, and the report's context
    and summary (the core's ``mdval.bench.analysis.summarise``). The records are rows of
    ``bench_records``.

    Lifecycle: queued -> running -> completed | failed. The worker claims the row with one
    conditional UPDATE and writes only while it is ``running`` under its own name."""

    __tablename__ = "bench_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    request: Mapped[dict[str, Any]] = mapped_column(Json)  # the POST body, defaults filled in
    plan: Mapped[dict[str, Any]] = mapped_column(Json)  # what the core runs (BenchPlan fields)
    device: Mapped[str] = mapped_column(String(16))  # as requested: auto | cpu | cuda
    queue: Mapped[str] = mapped_column(String(100))
    worker: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[str | None] = mapped_column(Text)  # the last line the benchmark printed
    failure_reason: Mapped[str | None] = mapped_column(Text)

    # the report: where it ran (device, torch, threads, machine) and the analysis
    device_name: Mapped[str | None] = mapped_column(String(200))
    torch_version: Mapped[str | None] = mapped_column(String(64))
    threads: Mapped[int | None] = mapped_column(Integer)
    context: Mapped[dict[str, Any] | None] = mapped_column(Json)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    wall_s: Mapped[float | None] = mapped_column(Double)
    n_records: Mapped[int] = mapped_column(Integer, default=0)


class BenchRecordRow(Base):
    """One ``BenchRecord`` of a job (METRICS.md, "Speed and memory"): the record's keys as
    columns, units in the names as in the record; the rest of it (device name, torch
    version, threads, warm-up, per-round values, noted failures) in ``extra``."""

    __tablename__ = "bench_records"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("bench_jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    experiment: Mapped[str] = mapped_column(String(16))  # single | batch | long | size
    model: Mapped[str] = mapped_column(String(500))
    structure: Mapped[str] = mapped_column(String(1000))
    n_atoms: Mapped[int] = mapped_column(Integer)  # per replica
    engine: Mapped[str] = mapped_column(String(16))  # bare | torch | ase
    replicas: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(32))
    inference_ms_per_step: Mapped[float | None] = mapped_column(Double)
    step_ms: Mapped[float | None] = mapped_column(Double)
    harness_overhead: Mapped[float | None] = mapped_column(Double)
    throughput_atom_steps_per_s: Mapped[float | None] = mapped_column(Double)
    peak_memory_MB: Mapped[float | None] = mapped_column(Double)
    n_steps: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(Json)
