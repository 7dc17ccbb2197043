"""Dependencies of the routes, declared once as ``Annotated`` aliases.

Authentication, roles and not-found live here so that no route repeats them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.core.security import role_allows
from app.crud import bench as bench_crud
from app.crud import runs as runs_crud
from app.crud import tokens as tokens_crud
from app.db.models import ApiToken, BenchJob, Run
from app.schemas.common import Int64
from app.services.leaderboard import LeaderboardCache
from app.services.queue import Queue

_bearer = HTTPBearer(auto_error=False, description="An API token: `mdval token create`.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes commit what they write."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_leaderboards(request: Request) -> LeaderboardCache:
    cache: LeaderboardCache = request.app.state.leaderboards
    return cache


LeaderboardsDep = Annotated[LeaderboardCache, Depends(get_leaderboards)]


def get_queue(request: Request) -> Queue:
    queue: Queue = request.app.state.queue
    return queue


QueueDep = Annotated[Queue, Depends(get_queue)]


def get_token(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken | None:
    """The caller's token, None when no ``Authorization`` header was sent; an unknown or
    revoked token is a 401 even where no token is needed (a typo should not pass silently)."""
    if credentials is None:
        return None
    token = tokens_crud.get_by_token(session, token=credentials.credentials)
    if token is None:
        raise ApiError(
            401,
            "unknown or revoked token: create one with `mdval token create --name NAME "
            "--role submitter`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if session.dirty:
        session.commit()  # last_used_at, at most once a minute
    return token


TokenDep = Annotated[ApiToken | None, Depends(get_token)]


def _require(token: ApiToken | None, role: str) -> ApiToken:
    if token is None:
        raise ApiError(
            401,
            f"this needs a token with role '{role}' or higher: send 'Authorization: Bearer "
            "<token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not role_allows(token.role, role):
        raise ApiError(
            403, f"token '{token.name}' has role '{token.role}'; this needs '{role}' or higher"
        )
    return token


def read_access(token: TokenDep, settings: SettingsDep) -> ApiToken | None:
    """Reads are open unless ``MDVAL_READ_REQUIRES_TOKEN`` is set."""
    if settings.read_requires_token:
        return _require(token, "viewer")
    return token


def submitter(token: TokenDep) -> ApiToken:
    return _require(token, "submitter")


def admin(token: TokenDep) -> ApiToken:
    return _require(token, "admin")


ReaderDep = Annotated[ApiToken | None, Depends(read_access)]
SubmitterDep = Annotated[ApiToken, Depends(submitter)]
AdminDep = Annotated[ApiToken, Depends(admin)]


def get_run(
    session: SessionDep,
    _reader: ReaderDep,
    run_id: Annotated[Int64, Path(ge=1, description="The run's id.")],
) -> Run:
    run = runs_crud.get_run(session, run_id=run_id)
    if run is None:
        raise ApiError(404, f"no run with id {run_id}", field="run_id")
    return run


RunDep = Annotated[Run, Depends(get_run)]


def get_bench_job(
    session: SessionDep,
    _reader: ReaderDep,
    job_id: Annotated[Int64, Path(ge=1, description="The benchmark job's id.")],
) -> BenchJob:
    job = bench_crud.get_job(session, job_id=job_id)
    if job is None:
        raise ApiError(404, f"no benchmark job with id {job_id}", field="job_id")
    return job


BenchJobDep = Annotated[BenchJob, Depends(get_bench_job)]
