"""``/api/v1/suites`` and ``/api/v1/profiles``: what the core ships, as registered."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from app.api.deps import ReaderDep, SessionDep
from app.crud import catalog
from app.db.models import Profile
from app.schemas.structures import SuiteList, SuiteRead

router = APIRouter(tags=["suites"])


@router.get("/suites", response_model=SuiteList)
def list_suites(session: SessionDep, _reader: ReaderDep) -> SuiteList:
    """Suites known to the server (registered from the core by `mdval migrate --seed`)."""
    return SuiteList(items=[SuiteRead.model_validate(s) for s in catalog.list_suites(session)])


@router.get("/profiles", response_model=list[str])
def list_profiles(session: SessionDep, _reader: ReaderDep) -> list[str]:
    """Names of the acceptance-criteria profiles."""
    return list(session.scalars(select(Profile.name).order_by(Profile.name)).all())
