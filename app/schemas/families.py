"""Body of ``/api/v1/families``: the published model families a run may name."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FamilyOption(BaseModel):
    name: str
    choices: list[str] = Field(..., description="Allowed values; the first is the default.")
    default: str
    help: str


class FamilyRead(BaseModel):
    family: str
    summary: str
    example: str = Field(..., description="A spec to put in a run's 'model' or 'reference'.")
    shipped: list[str] = Field(..., description="Checkpoints the package ships: family:NAME.")
    elements: str
    extra: str = Field(..., description="Install on the workers with pip install 'mdval[extra]'.")
    package: str
    options: list[FamilyOption]


class FamilyList(BaseModel):
    items: list[FamilyRead]
