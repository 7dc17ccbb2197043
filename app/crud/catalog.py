"""The registry the API validates against without torch or ase: models (potentials),
structures, suites and profiles, each with what the core said about it when registered."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db.models import Potential, Profile, Structure, Suite

RowT = TypeVar("RowT", Potential, Structure, Suite)

#: Kinds of potential that are torch models (TorchScript files, the zoo, uploads).
TORCH_KINDS = frozenset({"torchscript", "zoo", "upload"})


def is_torch_potential(model: Potential) -> bool:
    """Whether the core runs ``model`` as a torch model (by kind, or as the core said)."""
    return model.kind in TORCH_KINDS or bool((model.description or {}).get("is_torch"))


def uses_torch(model: Potential) -> bool:
    """Whether ``model`` is a torch model of any kind (it goes to the GPU queue under device
    ``auto``): those the torch engine runs, and the families (ANI, SevenNet, CHGNet, ...)."""
    return is_torch_potential(model) or bool((model.description or {}).get("uses_torch"))


def _upsert(
    session: Session, model: type[RowT], key: InstrumentedAttribute[str], value: str,
    values: dict[str, Any],
) -> RowT:  # fmt: skip
    """Create the row whose ``key`` column is ``value``, or refresh it with ``values``."""
    row = session.scalar(select(model).where(key == value))
    if row is None:
        row = model(**{key.key: value}, **values)
        session.add(row)
    else:
        for name, new in values.items():
            setattr(row, name, new)
    session.flush()
    return row


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
    return _upsert(session, Potential, Potential.spec, spec, values)


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
    return _upsert(session, Structure, Structure.spec, spec, values)


def list_suites(session: Session) -> list[Suite]:
    return list(session.scalars(select(Suite).order_by(Suite.name)).all())


def upsert_suite(session: Session, *, name: str, values: dict[str, Any]) -> Suite:
    return _upsert(session, Suite, Suite.name, name, values)


def profile_names(session: Session) -> set[str]:
    return set(session.scalars(select(Profile.name)).all())


def upsert_profile(session: Session, *, name: str, definition: dict[str, Any] | None) -> None:
    row = session.get(Profile, name)
    if row is None:
        session.add(Profile(name=name, definition=definition))
    else:
        row.definition = definition
    session.flush()
