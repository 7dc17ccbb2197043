"""One entry point from a structure spec (built-in name, file path, ``smiles:``) to Atoms."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from mdval.errors import StructureError
from mdval.structures.builtin import BUILTINS, find_builtin
from mdval.structures.reading import read_structure_bytes, read_structure_file
from mdval.structures.smiles import smiles_to_atoms
from mdval.structures.validate import validate_atoms

SMILES_PREFIX = "smiles:"


def load_structure(spec: str) -> Atoms:
    """The validated structure named by ``spec`` (positions in Å).

    ``spec`` is one of

    - a built-in name or alias, any case: ``H2O``/``water``, ``CH4``, ``alanine``,
      ``alanine-dipeptide``, ``cu-fcc`` (see :data:`mdval.structures.builtin.BUILTINS`);
      a built-in name wins over a file of that name;
    - ``smiles:<SMILES>``: RDKit embedding, seeded by ``MDVAL_SMILES_SEED``;
    - a path to any file ASE reads (xyz/extxyz, pdb, cif, traj, ...); the first frame is used.

    ``atoms.info`` holds ``spec`` and ``name``. Raises :class:`StructureError` naming the
    problem (not found, unreadable, empty, too many atoms, atoms too close, bad SMILES).
    """
    text = spec.strip()
    if not text:
        raise StructureError("empty structure spec: give a built-in name, a file or smiles:...")
    if text.lower().startswith(SMILES_PREFIX):
        smiles = text[len(SMILES_PREFIX) :].strip()
        atoms = smiles_to_atoms(smiles)
        name = smiles
    elif (builtin := find_builtin(text)) is not None:
        atoms = read_structure_file(builtin.path)
        name = builtin.name
    else:
        path = Path(text).expanduser()
        if not path.exists() and not path.suffix:
            known = ", ".join(b.name for b in BUILTINS)
            raise StructureError(
                f"unknown structure {text!r}: not a built-in ({known}), not an existing file, "
                "and not smiles:<SMILES>"
            )
        atoms = read_structure_file(path)
        name = path.stem
    validate_atoms(atoms, source=name)
    atoms.info.update(spec=text, name=name)
    return atoms


def load_structure_bytes(data: bytes, filename: str) -> Atoms:
    """The validated structure in uploaded ``data``; the format comes from ``filename``'s extension.

    Accepted extensions: :data:`mdval.structures.reading.UPLOAD_FORMATS`.
    """
    atoms = read_structure_bytes(data, filename)
    name = Path(filename).stem
    validate_atoms(atoms, source=Path(filename).name)
    atoms.info.update(spec=Path(filename).name, name=name)
    return atoms
