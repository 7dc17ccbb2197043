"""Bodies of ``/api/v1/health`` and ``/api/v1/tokens``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Text


class Check(BaseModel):
    ok: bool
    detail: str


class WorkerInfo(BaseModel):
    name: str
    hostname: str
    queues: list[str]
    last_seen_at: datetime


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Check
    broker: Check
    workers: list[WorkerInfo]
    version: str


Role = Literal["viewer", "submitter", "admin"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Text = Field(..., min_length=1, max_length=100)
    role: Role = "viewer"


class TokenRead(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class TokenCreated(TokenRead):
    token: str = Field(..., description="Shown once; only its hash is stored.")


class Me(BaseModel):
    authenticated: bool
    name: str | None
    role: Role | None
