"""``/api/v1/health``, ``/api/v1/tokens``, ``/api/v1/auth/me``."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy import select, text

from app.api.deps import AdminDep, QueueDep, SessionDep, SettingsDep, TokenDep
from app.api.errors import ApiError
from app.crud import tokens as tokens_crud
from app.db.base import utcnow
from app.db.models import ApiToken, WorkerHeartbeat
from app.schemas.common import ERROR_RESPONSES, Int64
from app.schemas.system import Check, Health, Me, TokenCreate, TokenCreated, TokenRead, WorkerInfo
from app.services.views import token_read

router = APIRouter(tags=["system"], responses=ERROR_RESPONSES)

BROKER_PING_TIMEOUT_S = 2.0


def _version() -> str:
    try:
        return version("mdval")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health", response_model=Health)
def health(
    session: SessionDep, settings: SettingsDep, queue: QueueDep, response: Response
) -> Health:
    """Database, broker and the workers seen recently. 503 when the database or broker is down."""
    try:
        session.execute(text("SELECT 1"))
        database = Check(ok=True, detail=session.get_bind().dialect.name)
    except Exception as exc:  # reported, not raised
        database = Check(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    try:
        broker = Check(ok=True, detail=queue.ping_broker(BROKER_PING_TIMEOUT_S))
    except Exception as exc:
        broker = Check(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    workers: list[WorkerInfo] = []
    if database.ok:
        cutoff = utcnow() - timedelta(seconds=3 * settings.heartbeat_interval_s + 5)
        rows = session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen_at >= cutoff)
            .order_by(WorkerHeartbeat.name)
        ).all()
        workers = [
            WorkerInfo(
                name=w.name, hostname=w.hostname, queues=w.queues, last_seen_at=w.last_seen_at
            )
            for w in rows
        ]
    ok = database.ok and broker.ok
    if not ok:
        response.status_code = 503
    return Health(
        status="ok" if ok and workers else "degraded",
        database=database,
        broker=broker,
        workers=workers,
        version=_version(),
    )


@router.get("/auth/me", response_model=Me)
def me(token: TokenDep) -> Me:
    """Who the sent token belongs to (the dashboard's login check)."""
    if token is None:
        return Me(authenticated=False, name=None, role=None)
    return Me(authenticated=True, name=token.name, role=token.role)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(_admin: AdminDep, session: SessionDep) -> list[TokenRead]:
    return [token_read(t) for t in tokens_crud.list_tokens(session)]


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def create_token(body: TokenCreate, _admin: AdminDep, session: SessionDep) -> TokenCreated:
    """A new token; the plaintext is in this answer only."""
    row, plaintext = tokens_crud.create_token(session, name=body.name, role=body.role)
    session.commit()
    return TokenCreated(**token_read(row).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(
    token_id: Annotated[Int64, Path()], _admin: AdminDep, session: SessionDep
) -> TokenRead:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise ApiError(404, f"no token with id {token_id}", field="token_id")
    tokens_crud.revoke_tokens(session, token_id=token_id)
    session.commit()
    session.refresh(row)
    return token_read(row)
