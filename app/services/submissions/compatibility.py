"""Whether a model can run a structure, decided on registry rows (no torch, no ase): the
element and periodicity checks, and the engines' own rule."""

from __future__ import annotations

from app.api.errors import ApiError
from app.crud import catalog
from app.db.models import Potential, Structure
from mdval.errors import InputError
from mdval.md.compatibility import check_engine


def check_compatible(model: Potential, structure: Structure, *, role: str) -> None:
    """The element and periodicity checks, on cached registry data."""
    if model.supported_elements is not None:
        missing = sorted(set(structure.elements) - set(model.supported_elements))
        if missing:
            raise ApiError(
                422,
                f"structure '{structure.spec}' ({structure.formula}) contains "
                f"{', '.join(missing)}, which {role} '{model.spec}' does not support "
                f"(it supports {', '.join(model.supported_elements)})",
                field="structure",
            )
    if structure.periodic and not model.periodic_ok:
        raise ApiError(
            422,
            f"structure '{structure.spec}' is periodic and {role} '{model.spec}' handles only "
            "non-periodic systems",
            field="structure",
        )


def check_engine_compatible(model: Potential, structure: Structure, *, engine: str) -> None:
    """The engines' own rule (:func:`mdval.md.compatibility.check_engine`) on registry data."""
    try:
        check_engine(
            engine,
            potential_spec=model.spec,
            potential_kind=model.kind,
            is_torch=catalog.is_torch_potential(model),
            periodic=structure.periodic,
        )
    except InputError as exc:
        raise ApiError(422, str(exc), field="engine") from None
