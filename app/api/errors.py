"""Errors as JSON ``{"detail": ..., "field": ...}`` with a sentence a person can act on.

Bad input must never produce a 500: request-validation errors become one readable 422,
and :class:`ApiError` carries the status chosen by the code that found the problem.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: status, a message for a person, and the field at fault."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.field = field
        self.headers = headers


def _describe(error: dict[str, Any]) -> tuple[str | None, str]:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if "input" in error and error.get("type") not in ("missing", "value_error"):
        shown = repr(error["input"])
        if len(shown) <= 80:
            message = f"{message} (got {shown})"
    return field, f"{field}: {message}" if field else message


def validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    described = [_describe(e) for e in errors]
    return {
        "detail": "; ".join(text for _, text in described),
        "field": described[0][0] if described else None,
        "errors": [
            {"field": field, "message": text, "type": e.get("type")}
            for (field, text), e in zip(described, errors, strict=True)
        ],
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.detail, "field": exc.field},
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=validation_body(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": str(exc.detail), "field": None},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content={"detail": f"internal error ({type(exc).__name__}); see the server log"},
        )
