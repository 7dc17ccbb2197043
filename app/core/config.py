"""Service settings: one pydantic-settings class, read from ``MDVAL_*`` environment variables.

Policy numbers of the service (limits, intervals, timeouts) are named here once. Outside
``environment="development"`` the class refuses the placeholder secrets.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The placeholder that marks a secret nobody has set yet.
UNSAFE_SECRET = "changethis"


class Settings(BaseSettings):
    """Everything the API, the workers and the CLI of the service need to know."""

    model_config = SettingsConfigDict(env_prefix="MDVAL_", extra="ignore", env_file=None)

    environment: Literal["development", "test", "production"] = "development"

    # --- connections -----------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite:///.mdval/mdval.sqlite",
        description="SQLAlchemy URL: postgresql+psycopg://... or sqlite:///path.",
    )
    broker_url: str = Field(
        default="filesystem://", description="Celery broker: redis://... or filesystem://"
    )
    result_backend: str | None = Field(
        default=None,
        description="Celery result backend; default: the Redis broker, or file:// under data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".mdval"), description="Root of the embedded default's files."
    )
    artifacts_dir: Path | None = Field(
        default=None,
        description="Trajectories, run outputs and uploads (default: data_dir/artifacts).",
    )
    queue_prefix: str = Field(
        default="",
        description="Prefix of every queue name (isolates deployments sharing a broker).",
    )

    dashboard_factory: str = Field(
        default="dashboard.app:attach",
        description="`module:function` that mounts the dashboard on the FastAPI app at '/' "
        "('' to serve the API only).",
    )

    # --- secrets and auth ------------------------------------------------------------------
    secret_key: str = Field(default=UNSAFE_SECRET, description="Signs dashboard sessions.")
    admin_token: str | None = Field(
        default=None,
        description="Fixed admin token for `mdval standalone` (else one is generated).",
    )
    read_requires_token: bool = Field(
        default=False, description="Whether GET endpoints need a token."
    )

    # --- limits ----------------------------------------------------------------------------
    max_model_upload_mb: float = Field(
        default=200.0, gt=0, description="Largest TorchScript upload."
    )
    max_structure_upload_kb: float = Field(
        default=5120.0, gt=0, description="Largest structure upload."
    )
    max_runs_per_request: int = Field(
        default=500, ge=1, description="Most runs one call queues (a suite or a batch)."
    )
    page_size_max: int = Field(
        default=10_000, ge=1, description="Most rows one list/series call returns."
    )

    # --- worker policy ---------------------------------------------------------------------
    validate_timeout_s: float = Field(
        default=60.0, gt=0, description="How long the API waits for a validation task on a worker."
    )
    auto_device_queue: Literal["gpu", "cpu"] = Field(
        default="gpu", description="Queue of torch potentials with device 'auto'."
    )
    max_attempts: int = Field(
        default=2, ge=1, description="Deliveries of a run before it ends failed."
    )
    heartbeat_interval_s: float = Field(default=10.0, gt=0, description="Run heartbeat interval.")
    stale_after_s: float = Field(
        default=90.0,
        gt=0,
        description="A running run without heartbeat for this long lost its worker.",
    )
    reaper_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="How often the API and the workers look for lost runs (0: off).",
    )
    requeue_unsent_after_s: float = Field(
        default=60.0, gt=0, description="Re-send a queued run whose message was never published."
    )
    flush_interval_s: float = Field(
        default=1.0, gt=0, description="Series flush interval of a worker."
    )
    run_time_limit_s: int = Field(
        default=48 * 3600, ge=60, description="Hard time limit of one run (or one batch)."
    )
    batch_max_replicas_cpu: int = Field(
        default=16,
        ge=1,
        description="Most runs of one submission a CPU worker runs as one batch (1: never "
        "batch). 16: on 2 CPU threads the batched cost per run falls all the way to 16 "
        "alanine dipeptides (docs/performance.md), and m6-quick's 9 runs are one batch, "
        "whose controls run side by side at once.",
    )
    batch_max_replicas_gpu: int = Field(
        default=256, ge=1, description="Most runs of one submission a GPU worker batches."
    )
    requeue_unclaimed_after_s: float = Field(
        default=600.0,
        gt=0,
        description="Re-send a queued run published this long ago that no worker has claimed "
        "(its message may have been lost: a broker restarted empty, a failover, an eviction); "
        "only as many as the broker's queue is short of its queued runs.",
    )
    short_task_time_limit_s: float = Field(
        default=60.0,
        ge=5,
        description="Hard time limit of a validate/describe/check task (the soft limit is "
        "5 s earlier); as long as the API waits for one by default (validate_timeout_s).",
    )
    max_request_body_kb: float = Field(
        default=1024.0,
        gt=0,
        description="Largest request body other than an upload (JSON, forms); refused with "
        "413 while it is read, before authentication.",
    )
    dashboard_session_max_age_s: int = Field(
        default=12 * 3600, ge=60, description="How long a dashboard sign-in lasts."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def visibility_timeout_s(self) -> int:
        """Longer than the hard time limit: a running task is never redelivered under it."""
        return self.run_time_limit_s + 3600

    @property
    def artifacts_path(self) -> Path:
        return self.artifacts_dir if self.artifacts_dir is not None else self.data_dir / "artifacts"

    @property
    def result_backend_url(self) -> str:
        if self.result_backend:
            return self.result_backend
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return f"file://{(self.data_dir / 'results').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def queue(self, name: str) -> str:
        """Full name of queue ``name`` (``gpu``, ``cpu`` or ``validate``)."""
        return f"{self.queue_prefix}{name}"

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Self:
        problems = []
        if self.secret_key == UNSAFE_SECRET:
            problems.append("MDVAL_SECRET_KEY")
        if self.admin_token is not None and (
            self.admin_token == UNSAFE_SECRET or len(self.admin_token) < 24
        ):
            problems.append("MDVAL_ADMIN_TOKEN (use at least 24 random characters)")
        password = urlsplit(self.database_url).password
        if password == UNSAFE_SECRET:
            problems.append("the password in MDVAL_DATABASE_URL")
        if not problems:
            return self
        message = f"unsafe secret: {', '.join(problems)} is '{UNSAFE_SECRET}' or too short"
        if self.environment == "development":
            if self.secret_key != UNSAFE_SECRET or len(problems) > 1:
                warnings.warn(message, stacklevel=2)
            return self
        raise ValueError(f"{message}; set it before running with environment={self.environment}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
