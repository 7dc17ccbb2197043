"""The FastAPI application: settings, database, queue, routers. Serve it with
``uvicorn --factory app.main:create_app`` or ``mdval standalone``."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from app.api.errors import install_error_handlers
from app.api.limits import BodySizeLimitMiddleware
from app.api.main import api_router
from app.core.config import Settings, get_settings
from app.db.session import make_engine
from app.services.leaderboard import LeaderboardCache
from app.services.queue import CeleryQueue, Queue
from app.services.reaper import ReaperThread
from app.services.redaction import remember_caller

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    queue: Queue | None = None,
    with_dashboard: bool | None = None,
) -> FastAPI:
    """The service. Arguments override what the settings would build (tests, standalone)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    queue = queue or CeleryQueue(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        reaper = None
        if settings.reaper_interval_s > 0:
            reaper = ReaperThread(engine, settings=settings, queue=queue)
            reaper.start()
        yield
        if reaper is not None:
            reaper.stop()

    app = FastAPI(
        title="mdval",
        summary="Validate machine-learned interatomic potentials by running molecular dynamics.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.queue = queue
    app.state.leaderboards = LeaderboardCache()
    install_error_handlers(app)
    # a body over its limit is refused while it is read, before routing, authentication or
    # parsing see it (the dashboard's callbacks included)
    app.add_middleware(BodySizeLimitMiddleware, settings=settings, api_prefix=API_PREFIX)
    # every API route remembers its caller's token for the redaction of anonymous reads
    app.include_router(api_router, prefix=API_PREFIX, dependencies=[Depends(remember_caller)])
    if with_dashboard if with_dashboard is not None else settings.dashboard_factory:
        _attach_dashboard(app, settings.dashboard_factory)
    return app


def _attach_dashboard(app: FastAPI, factory: str) -> None:
    """Mount the Dash front end at ``/`` through ``module:function(app)`` (the dashboard
    package depends on the app, never the reverse)."""
    module_name, _, func_name = factory.partition(":")
    try:
        attach = getattr(importlib.import_module(module_name), func_name or "attach")
    except (ImportError, AttributeError) as exc:
        log.warning("dashboard not mounted (%s: %s)", factory, exc)
        return
    attach(app)
