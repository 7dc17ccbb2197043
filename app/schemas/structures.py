"""Bodies of ``/api/v1/structures``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StructureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    spec: str = Field(..., description="What to put in a run's 'structure'.")
    name: str
    source: Literal["builtin", "upload", "smiles"]
    formula: str
    n_atoms: int
    elements: list[str]
    periodic: bool
    sha256: str | None
    created_at: datetime
    created_by: str | None


class StructureList(BaseModel):
    items: list[StructureRead]


class SuiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str | None
    n_runs: int | None
    definition: dict[str, object] | None


class SuiteList(BaseModel):
    items: list[SuiteRead]
