"""Bodies of ``/api/v1/models`` (registered potentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelRead(BaseModel):
    """A registered potential. ``supported_elements`` None: no restriction known."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    spec: str = Field(..., description="What to put in a run's 'model' or 'reference'.")
    name: str
    kind: str
    sha256: str | None
    n_params: int | None
    supported_elements: list[str] | None
    periodic_ok: bool
    status: Literal["ready", "checking", "rejected"]
    error: str | None
    builtin: bool
    size_bytes: int | None
    created_at: datetime
    created_by: str | None


class ModelList(BaseModel):
    items: list[ModelRead]
