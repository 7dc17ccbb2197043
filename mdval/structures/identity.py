"""What a structure is, in a stable, JSON-friendly form: content hash and description."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

#: Positions and cell are rounded to this many Å before hashing (1e-6 Å).
HASH_RESOLUTION_A = 1e-6
_HASH_TAG = b"mdval-structure-v1"


def _quantise(values: np.ndarray) -> bytes:
    # Integers in units of the resolution: no -0.0 vs 0.0 or float-repr ambiguity.
    q = np.rint(np.asarray(values, dtype=np.float64) / HASH_RESOLUTION_A).astype("<i8")
    return q.tobytes()


def structure_sha256(atoms: Atoms) -> str:
    """Hex sha256 of the atomic numbers, positions and cell (rounded to 1e-6 Å) and pbc.

    Non-zero initial charges, when present, are hashed too.

    Independent of the file format, of ``info``/calculator results and of the order in which
    the structure was built; atom order does matter (it is part of the structure).
    """
    h = hashlib.sha256(_HASH_TAG)
    h.update(np.int64(len(atoms)).astype("<i8").tobytes())
    h.update(np.asarray(atoms.numbers, dtype="<i8").tobytes())
    h.update(_quantise(atoms.positions))
    h.update(_quantise(atoms.cell.array))
    h.update(np.asarray(atoms.pbc, dtype=np.uint8).tobytes())
    if atoms.has("initial_charges") and np.any(atoms.get_initial_charges() != 0):
        # Charged input (e.g. from SMILES) differs from the neutral one; neutral hashes as above.
        h.update(b"charges")
        h.update(_quantise(atoms.get_initial_charges()))
    return h.hexdigest()


def describe_structure(atoms: Atoms) -> dict[str, Any]:
    """Formula, atom count, elements (sorted by Z), periodicity, cell, charge and content hash."""
    numbers = sorted({int(z) for z in atoms.numbers})
    periodic = bool(atoms.pbc.any())
    return {
        "formula": atoms.get_chemical_formula(mode="hill"),
        "n_atoms": len(atoms),
        "elements": [chemical_symbols[z] for z in numbers],
        "periodic": periodic,
        "pbc": [bool(p) for p in atoms.pbc],
        "cell_A": atoms.cell.array.tolist() if periodic else None,
        "charge": round(float(atoms.get_initial_charges().sum())),
        "sha256": structure_sha256(atoms),
    }
