"""Shapes shared by every route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` is a sentence a person can act on."""

    detail: str = Field(..., description="What went wrong and what to do about it.")
    field: str | None = Field(None, description="The request field at fault, when one is.")
    errors: list[dict[str, Any]] | None = Field(None, description="Every validation problem.")


#: OpenAPI documentation of the error answers, for ``responses=`` of routes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or unknown token."},
    403: {"model": ErrorBody, "description": "The token's role may not do this."},
    404: {"model": ErrorBody, "description": "No such object."},
    422: {"model": ErrorBody, "description": "The request cannot be run as given."},
}


# --- the types of every path, query and body field -------------------------------------------
#
# Bad input must be a 422, never a 500 (docs/service.md): an integer the database column
# cannot hold, a string with a NUL (Postgres text cannot store one) or a time that has no
# UTC equivalent would reach the database and fail there. Every route and request schema
# uses these types instead of bare ``int``/``str``/``datetime``.

#: Ranges of the database integer columns (BIGINT ids and steps; INTEGER seq and counts).
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

#: An integer a BIGINT column holds (ids, offsets, step cursors).
Int64 = Annotated[int, Field(ge=-(2**63), le=INT64_MAX)]
#: An integer an INTEGER column holds (``seq`` cursors, counts).
Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\x00); remove it")
    return value


#: Text without NUL characters (Postgres cannot store or compare one).
Text = Annotated[str, AfterValidator(_no_nul)]

#: A finite float (``inf`` and ``nan`` are refused with a readable message).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def _as_utc(value: datetime) -> datetime:
    """Aware, in UTC (a time without zone is UTC); a time with no UTC equivalent (year 1
    at +14:00) is a ValueError, so a 422."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(
            f"{value.isoformat()} is outside the representable range in UTC "
            "(0001-01-01 to 9999-12-31); give a later or earlier time"
        ) from None


#: A point in time, normalised to UTC.
Timestamp = Annotated[datetime, AfterValidator(_as_utc)]
