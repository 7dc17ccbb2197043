"""``Idempotency-Key``: one key answers one request body of one token once; a repeat is
answered from the stored response (``replayed``), never queued twice."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.db.models import ApiToken, IdempotencyKey
from app.schemas.runs import RunSubmission


def request_hash(request: BaseModel) -> str:
    """Digest of a request body (a ``RunCreate`` or a ``RunBatchCreate``: their keys differ,
    so one digest never answers both)."""
    body = request.model_dump(mode="json")
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def stored(session: Session, key: str | None) -> IdempotencyKey | None:
    return session.get(IdempotencyKey, key) if key is not None else None


def replay(existing: IdempotencyKey, *, digest: str, token: ApiToken) -> RunSubmission:
    """The stored answer of ``existing``, or a 409 when the token or the body differ."""
    if existing.token_id != token.id:
        raise ApiError(
            409,
            "this Idempotency-Key was used by another token; use a fresh key",
            field="Idempotency-Key",
        )
    if existing.request_hash != digest:
        raise ApiError(
            409,
            "this Idempotency-Key was used for a different request body; use a fresh key for a "
            "new request",
            field="Idempotency-Key",
        )
    return RunSubmission.model_validate({**existing.response, "replayed": True})


def remember(
    session: Session,
    *,
    key: str,
    token: ApiToken,
    digest: str,
    response: RunSubmission,
) -> None:
    """Store the answer under ``key``, in the transaction that writes the runs."""
    session.add(
        IdempotencyKey(
            key=key,
            token_id=token.id,
            request_hash=digest,
            submission_id=response.submission_id,
            status_code=201,
            response=response.model_dump(mode="json"),
        )
    )
