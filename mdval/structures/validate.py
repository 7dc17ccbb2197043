"""Sanity checks of a structure, and of a structure against a potential.

Every check raises a typed :mod:`mdval.errors` error whose message names the problem
(which atoms, which elements, which limit and the setting that sets it).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list
from scipy.spatial import cKDTree

from mdval.errors import StructureError, UnsupportedElementsError
from mdval.potentials.base import PotentialEntry
from mdval.settings import get_settings

Role = Literal["model", "reference"]


def validate_atoms(
    atoms: Atoms,
    *,
    source: str = "structure",
    max_atoms: int | None = None,
    min_distance_A: float | None = None,
) -> None:
    """Reject structures that cannot be run: empty, too large, bad numbers, atoms too close.

    ``source`` names the structure in messages. Limits default to the core settings
    (``MDVAL_MAX_ATOMS``, ``MDVAL_MIN_DISTANCE_A``).
    """
    settings = get_settings()
    max_atoms = settings.max_atoms if max_atoms is None else max_atoms
    min_distance_A = settings.min_distance_A if min_distance_A is None else min_distance_A

    n = len(atoms)
    if n == 0:
        raise StructureError(f"{source}: the structure is empty (no atoms)")
    if n > max_atoms:
        raise StructureError(
            f"{source}: {n} atoms is more than the limit of {max_atoms} (setting MDVAL_MAX_ATOMS)"
        )
    numbers = atoms.numbers
    if numbers.min() < 1 or numbers.max() > 118:
        bad = sorted({int(z) for z in numbers if z < 1 or z > 118})
        raise StructureError(f"{source}: atomic numbers {bad} are not elements (1..118)")
    positions = atoms.positions
    if not np.isfinite(positions).all():
        first = int(np.flatnonzero(~np.isfinite(positions).all(axis=1))[0])
        raise StructureError(f"{source}: atom {first} has a non-finite position (NaN or inf)")
    _check_cell(atoms, source)
    if min_distance_A > 0:
        _check_min_distance(atoms, source, min_distance_A)


def _check_cell(atoms: Atoms, source: str) -> None:
    lengths = atoms.cell.lengths()
    for axis, periodic in enumerate(atoms.pbc):
        if periodic and lengths[axis] <= 0:
            raise StructureError(
                f"{source}: periodic along cell vector {axis} but that vector has zero length"
            )
    if atoms.pbc.all() and abs(atoms.cell.volume) < 1e-6:
        raise StructureError(f"{source}: periodic but the cell has zero volume")


def closest_pair(atoms: Atoms, cutoff_A: float) -> tuple[int, int, float] | None:
    """The closest pair ``(i, j, d)`` with ``d < cutoff_A`` (minimum image if periodic), or None.

    A periodic atom may pair with its own image (``i == j``). Linear in N: a k-d tree for
    molecules, ASE's cell-list neighbour list for periodic systems.
    """
    if atoms.pbc.any():
        ii, jj, dd = neighbor_list("ijd", atoms, cutoff_A, self_interaction=False)
        if len(dd) == 0:
            return None
        k = int(np.argmin(dd))
        i, j = sorted((int(ii[k]), int(jj[k])))
        return i, j, float(dd[k])
    pairs = cKDTree(atoms.positions).query_pairs(cutoff_A, output_type="ndarray")
    if len(pairs) == 0:
        return None
    d = np.linalg.norm(atoms.positions[pairs[:, 0]] - atoms.positions[pairs[:, 1]], axis=1)
    k = int(np.argmin(d))
    if d[k] >= cutoff_A:
        return None
    return int(pairs[k, 0]), int(pairs[k, 1]), float(d[k])


def _check_min_distance(atoms: Atoms, source: str, min_distance_A: float) -> None:
    found = closest_pair(atoms, min_distance_A)
    if found is None:
        return
    i, j, d = found
    symbols = atoms.get_chemical_symbols()
    what = (
        f"atom {i} ({symbols[i]}) is {d:.3f} Å from its own periodic image"
        if i == j
        else f"atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) are {d:.3f} Å apart"
    )
    raise StructureError(
        f"{source}: {what} (0-based indices), closer than the minimum of {min_distance_A} Å "
        "(setting MDVAL_MIN_DISTANCE_A)"
    )


def check_elements(atoms: Atoms, entry: PotentialEntry, role: Role = "model") -> None:
    """Raise :class:`UnsupportedElementsError` if ``entry`` cannot handle every element.

    The message names the unsupported elements, the potential and its role (model under
    test or reference), and lists what the potential does support.
    """
    supported = entry.supported_elements
    if supported is None:
        return
    present = set(atoms.get_chemical_symbols())
    missing = present - supported
    if missing:
        raise UnsupportedElementsError(
            f"the {role} potential {entry.spec!r} ({entry.name}) does not support "
            f"element(s) {', '.join(_sorted_symbols(missing))} of this structure; "
            f"it supports {_describe_supported(supported)}"
        )


def check_periodic(atoms: Atoms, entry: PotentialEntry, role: Role = "model") -> None:
    """Raise :class:`StructureError` for a periodic structure and a molecules-only potential,
    or a molecule and a potential that needs a cell."""
    if atoms.pbc.any() and not entry.periodic_ok:
        raise StructureError(
            f"the structure is periodic (pbc={atoms.pbc.tolist()}) but the {role} potential "
            f"{entry.spec!r} ({entry.name}) handles only non-periodic systems"
        )
    if not atoms.pbc.any() and not entry.molecules_ok:
        raise StructureError(
            f"the structure is not periodic but the {role} potential {entry.spec!r} "
            f"({entry.name}) is a crystal model that needs a periodic cell; pick a bulk "
            "structure (e.g. cu-fcc, si-diamond, water-box)"
        )


def _sorted_symbols(symbols: set[str] | frozenset[str]) -> list[str]:
    from ase.data import atomic_numbers

    return sorted(symbols, key=lambda s: atomic_numbers.get(s, 999))


def _describe_supported(supported: frozenset[str]) -> str:
    ordered = _sorted_symbols(supported)
    if len(ordered) > 20:
        return f"{len(ordered)} elements ({ordered[0]} .. {ordered[-1]})"
    return ", ".join(ordered) if ordered else "no elements"
