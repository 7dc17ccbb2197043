"""Potentials: spec strings to registry entries that build ASE calculators.

Importing this package loads neither torch nor tblite; they load when a spec needs them.
"""

from mdval.potentials.base import PotentialEntry
from mdval.potentials.registry import ACCEPTED_FORMS, BUILTIN_POTENTIALS, resolve_potential

__all__ = ["ACCEPTED_FORMS", "BUILTIN_POTENTIALS", "PotentialEntry", "resolve_potential"]
