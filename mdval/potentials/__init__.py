"""Potentials: spec strings to registry entries that build ASE calculators.

Importing this package loads neither torch, tblite nor ase (its names load on first use,
PEP 562), so that the API can import the light ``families.declared`` below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdval.potentials.base import PotentialEntry
    from mdval.potentials.registry import ACCEPTED_FORMS, BUILTIN_POTENTIALS, resolve_potential

__all__ = ["ACCEPTED_FORMS", "BUILTIN_POTENTIALS", "PotentialEntry", "resolve_potential"]


def __getattr__(name: str) -> Any:
    if name == "PotentialEntry":
        from mdval.potentials.base import PotentialEntry

        return PotentialEntry
    if name in ("ACCEPTED_FORMS", "BUILTIN_POTENTIALS", "resolve_potential"):
        from mdval.potentials import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'mdval.potentials' has no attribute {name!r}")
