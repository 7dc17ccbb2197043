"""Turn pydantic validation errors into one readable :class:`InputError`."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mdval.errors import InputError
from mdval.md.config import RunConfig


def readable(error: ValidationError) -> str:
    """``field: message (got value)`` for each problem, joined with ``; ``."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item.get("loc", ())) or "input"
        msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        got = item.get("input")
        shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        parts.append(f"{field}: {msg}{shown}")
    return "; ".join(parts)


def make_config(**fields: Any) -> RunConfig:
    """Build a :class:`RunConfig`, raising :class:`InputError` with a readable message."""
    try:
        return RunConfig(**fields)
    except ValidationError as exc:
        raise InputError(readable(exc)) from None
