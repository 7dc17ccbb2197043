"""The ``/api/v1`` router: assembles the route modules, nothing else."""

from fastapi import APIRouter

from app.api.routes import (
    analysis,
    bench,
    families,
    leaderboard,
    models,
    runs,
    structures,
    suites,
    survival,
    system,
)

api_router = APIRouter()
api_router.include_router(runs.router)
api_router.include_router(models.router)
api_router.include_router(structures.router)
api_router.include_router(suites.router)
api_router.include_router(leaderboard.router)
api_router.include_router(survival.router)
api_router.include_router(bench.router)
api_router.include_router(system.router)
api_router.include_router(families.router)
api_router.include_router(analysis.router)
