"""The registry side of a submission: names the registry knows, names a worker may register
on first use, one spelling per model, and registering what a worker described."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.crud import catalog
from app.db.models import Potential, Structure
from mdval.errors import InputError
from mdval.potentials.families.declared import FAMILY_PREFIXES, canonical_spec, is_family_spec

log = logging.getLogger(__name__)

#: Prefixes the worker can register on first use.
REGISTRABLE_MODEL_PREFIXES = ("zoo:", "py:", *FAMILY_PREFIXES)
REGISTRABLE_STRUCTURE_PREFIXES = ("smiles:",)
_PATH_SUFFIXES = (".pt", ".pth", ".xyz", ".extxyz", ".pdb", ".cif", ".traj", ".sdf", ".mol")


def looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.lower().endswith(_PATH_SUFFIXES)


def catalog_seeded(session: Session) -> bool:
    return (
        session.scalar(select(Potential.id).where(Potential.builtin.is_(True)).limit(1)) is not None
    )


def known_names(session: Session, model: type[Potential] | type[Structure]) -> str:
    names = session.scalars(select(model.spec).order_by(model.spec).limit(25)).all()
    return ", ".join(names) if names else "none registered yet"


def model_usable(row: Potential, role: str) -> None:
    if row.status == "checking":
        raise ApiError(
            409,
            f"{role} '{row.spec}' is still being checked (test forward pass on a worker); "
            "retry in a few seconds",
            field=role,
        )
    if row.status == "rejected":
        raise ApiError(
            422, f"{role} '{row.spec}' was rejected when uploaded: {row.error}", field=role
        )


def canonical_model_spec(spec: str, role: str) -> str:
    """One spelling per model: a family spec with its defaults filled in (``ani:1x`` →
    ``ani:1x?dtype=float32``), so that both spellings are one row; other specs as given."""
    if not is_family_spec(spec):
        return spec
    try:
        return canonical_spec(spec)
    except InputError as exc:
        raise ApiError(422, str(exc), field=role) from None


def register_described(
    session: Session, *, described: dict[str, Any], created_by: str | None
) -> None:
    """Register the models and structures a worker described (idempotent, race-safe)."""
    for described_spec, desc in (described.get("models") or {}).items():
        spec = canonical_model_spec(described_spec, "model")
        if _registered(session, Potential, spec):
            continue
        values = potential_values(desc, core_spec=spec, builtin=True, created_by=created_by)
        _upsert_quietly(
            session, lambda s=spec, v=values: catalog.upsert_potential(session, spec=s, values=v)
        )
    for spec, desc in (described.get("structures") or {}).items():
        if _registered(session, Structure, spec):
            continue
        source = "smiles" if spec.startswith("smiles:") else "builtin"
        values = structure_values(desc, core_spec=spec, source=source, created_by=created_by)
        _upsert_quietly(
            session, lambda s=spec, v=values: catalog.upsert_structure(session, spec=s, values=v)
        )


def _registered(session: Session, table: type[Potential] | type[Structure], core_spec: str) -> bool:
    stmt = select(table.id).where(table.core_spec == core_spec).limit(1)
    return session.scalar(stmt) is not None


def _upsert_quietly(session: Session, upsert: Any) -> None:
    try:
        with session.begin_nested():
            upsert()
    except IntegrityError:
        log.info("registry row appeared concurrently; keeping the other one")


def potential_values(
    desc: dict[str, Any], *, core_spec: str, builtin: bool, created_by: str | None
) -> dict[str, Any]:
    elements = desc.get("supported_elements")
    return {
        "name": str(desc.get("name") or core_spec)[:200],
        "kind": str(desc.get("kind") or "unknown")[:32],
        "core_spec": core_spec,
        "sha256": desc.get("sha256"),
        "n_params": desc.get("n_params"),
        "supported_elements": sorted(elements) if elements is not None else None,
        "periodic_ok": bool(desc.get("periodic_ok", True)),
        "status": "ready",
        "error": None,
        "builtin": builtin,
        "description": desc,
        "created_by": created_by,
    }


def structure_values(
    desc: dict[str, Any], *, core_spec: str, source: str, created_by: str | None
) -> dict[str, Any]:
    return {
        "name": str(desc.get("name") or core_spec)[:200],
        "source": source,
        "core_spec": core_spec,
        "formula": str(desc["formula"])[:200],
        "n_atoms": int(desc["n_atoms"]),
        "elements": sorted(desc["elements"]),
        "periodic": bool(desc.get("periodic", False)),
        "sha256": desc.get("sha256"),
        "description": desc,
        "created_by": created_by,
    }
