"""Body of ``/api/v1/families``: the published model families a run may name."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FamilyOption(BaseModel):
    name: str
    choices: list[str] = Field(..., description="Allowed values; the first is the default.")
    default: str
    help: str


class FamilyCheckpoint(BaseModel):
    name: str
    title: str = Field(..., description="Display name, e.g. 'ANI-1x'.")
    spec: str = Field(..., description="Canonical spec with the defaults: ani:1x?dtype=float32.")


class FamilyRead(BaseModel):
    family: str
    summary: str
    example: str = Field(..., description="A spec to put in a run's 'model' or 'reference'.")
    shipped: list[str] = Field(..., description="Checkpoints the package ships: family:NAME.")
    elements: str
    extra: str = Field(..., description="Install on the workers with pip install 'mdval[extra]'.")
    package: str
    installed: str | None = Field(
        ...,
        description="Version of the package installed on this server (the workers run the "
        "same image); null: not installed, and a run naming the family is a 422 naming the "
        "extra.",
    )
    missing: str | None = Field(
        ..., description="The 422's message while the package is not installed; null: none."
    )
    checkpoints: list[FamilyCheckpoint] = Field(..., description="The shipped checkpoints.")
    options: list[FamilyOption]


class FamilyList(BaseModel):
    items: list[FamilyRead]
