"""The registry the API validates against without torch or ase: models (potentials),
structures, suites and profiles, each with what the core said about it when registered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db.models import Potential, Profile, Structure, Suite


def get_potential(session: Session, *, key: str) -> Potential | None:
    """A model by spec, then by name (uploads are named by their uploader)."""
    row = session.scalar(select(Potential).where(Potential.spec == key))
    if row is None:
        row = session.scalar(select(Potential).where(Potential.name == key).limit(1))
    return row


def get_potentials(session: Session, *, ids: list[int]) -> dict[int, Potential]:
    return {p.id: p for p in session.scalars(select(Potential).where(Potential.id.in_(ids)))}


def list_potentials(session: Session, *, status: str | None = None) -> list[Potential]:
    stmt = select(Potential).order_by(Potential.builtin.desc(), Potential.spec)
    if status is not None:
        stmt = stmt.where(Potential.status == status)
    return list(session.scalars(stmt).all())


def find_potentials(session: Session, *, keys: list[str]) -> list[Potential]:
    return list(
        session.scalars(
            select(Potential).where(or_(Potential.spec.in_(keys), Potential.name.in_(keys)))
        ).all()
    )


def upsert_potential(session: Session, *, spec: str, values: dict[str, Any]) -> Potential:
    """Create or refresh the row of ``spec`` from a worker's description."""
    row = session.scalar(select(Potential).where(Potential.spec == spec))
    if row is None:
        row = Potential(spec=spec, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def get_structure(session: Session, *, key: str) -> Structure | None:
    row = session.scalar(select(Structure).where(Structure.spec == key))
    if row is None:
        row = session.scalar(select(Structure).where(Structure.name == key).limit(1))
    return row


def get_structure_by_sha(session: Session, *, sha256: str, source: str) -> Structure | None:
    return session.scalar(
        select(Structure).where(Structure.sha256 == sha256, Structure.source == source).limit(1)
    )


def list_structures(session: Session) -> list[Structure]:
    return list(session.scalars(select(Structure).order_by(Structure.source, Structure.spec)).all())


def upsert_structure(session: Session, *, spec: str, values: dict[str, Any]) -> Structure:
    row = session.scalar(select(Structure).where(Structure.spec == spec))
    if row is None:
        row = Structure(spec=spec, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def list_suites(session: Session) -> list[Suite]:
    return list(session.scalars(select(Suite).order_by(Suite.name)).all())


def upsert_suite(session: Session, *, name: str, values: dict[str, Any]) -> Suite:
    row = session.scalar(select(Suite).where(Suite.name == name))
    if row is None:
        row = Suite(name=name, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def profile_names(session: Session) -> set[str]:
    return set(session.scalars(select(Profile.name)).all())


def upsert_profile(session: Session, *, name: str, definition: dict[str, Any] | None) -> None:
    row = session.get(Profile, name)
    if row is None:
        session.add(Profile(name=name, definition=definition))
    else:
        row.definition = definition
    session.flush()
