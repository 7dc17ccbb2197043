"""Shapes shared by every route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
