"""API tokens: create (the plaintext is returned once), look up by token, revoke."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.security import hash_token, new_token
from app.db.base import utcnow
from app.db.models import ROLES, ApiToken

#: ``last_used_at`` is refreshed at most this often (a write per request would be waste).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(
    session: Session, *, name: str, role: str, token: str | None = None
) -> tuple[ApiToken, str]:
    """A new token row; returns it with the plaintext, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    plaintext = token or new_token()
    row = ApiToken(name=name, role=role, token_hash=hash_token(plaintext), prefix=plaintext[:12])
    session.add(row)
    session.flush()
    return row, plaintext


def get_by_token(session: Session, *, token: str) -> ApiToken | None:
    """The active token row for a plaintext token, refreshing ``last_used_at`` (the caller
    commits when the session is dirty)."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is not None:
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)).all())


def revoke_tokens(session: Session, *, name: str | None = None, token_id: int | None = None) -> int:
    stmt = update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    if name is not None:
        stmt = stmt.where(ApiToken.name == name)
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    return int(getattr(session.execute(stmt), "rowcount", 0))
