"""mdval's web dashboard (Dash on the service's FastAPI app): submit, live run view,
leaderboard, comparison, stand-up, report. Mount with :func:`create_dash`."""

from __future__ import annotations

from typing import Any

__all__ = ["attach", "create_dash"]


def create_dash(fastapi_app: Any) -> Any:
    from dashboard.app import create_dash as _create

    return _create(fastapi_app)


def attach(fastapi_app: Any) -> None:
    create_dash(fastapi_app)
