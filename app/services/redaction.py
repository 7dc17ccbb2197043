"""What an anonymous reader (no token; reads are open unless ``MDVAL_READ_REQUIRES_TOKEN``)
does not see: the token names of submitters (``created_by``) and the traceback tail of a
``failure_reason`` (the one-line reason stays).

The caller's token is remembered per request by :func:`remember_caller`, a dependency of
every API route (``app.main``); the routes that answer with runs pass their answer through
:func:`for_caller`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel

from app.api.deps import TokenDep
from app.db.models import ApiToken

_caller: ContextVar[ApiToken | None] = ContextVar("mdval_caller", default=None)

T = TypeVar("T")


async def remember_caller(token: TokenDep) -> None:
    """Keep the request's token (None: anonymous) for :func:`for_caller`. Async, so that it
    sets the variable in the request's own context, which the route then runs in."""
    _caller.set(token)


def one_line(reason: str | None) -> str | None:
    """The first line of a failure reason (the traceback tail dropped)."""
    if reason is None:
        return None
    return reason.strip().splitlines()[0] if reason.strip() else reason


def redact(body: T) -> T:
    """``body`` as an anonymous reader may see it (models, lists and dicts, recursively)."""
    if isinstance(body, BaseModel):
        fields = type(body).model_fields
        update: dict[str, Any] = {}
        for name in fields:
            value = getattr(body, name)
            if name == "created_by":
                update[name] = None
            elif name == "failure_reason" and isinstance(value, str):
                update[name] = one_line(value)
            elif isinstance(value, BaseModel | list | dict):
                update[name] = redact(value)
        return body.model_copy(update=update) if update else body
    if isinstance(body, list):
        return [redact(v) for v in body]  # type: ignore[return-value]
    if isinstance(body, dict):
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key == "created_by":
                out[key] = None
            elif key == "failure_reason" and isinstance(value, str):
                out[key] = one_line(value)
            else:
                out[key] = redact(value)
        return out  # type: ignore[return-value]
    return body


def for_caller(body: T) -> T:
    """``body`` unchanged for a caller with a token, redacted for an anonymous one."""
    return body if _caller.get() is not None else redact(body)
