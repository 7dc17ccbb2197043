"""The zoo's molecules: a SMILES list kept in the repo and its seeded 3D embedding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from mdval.zoo import PACKAGE_DATA_DIR

SMILES_FILE = PACKAGE_DATA_DIR / "molecules.smi"
ROLES = ("core", "train", "heldout")


@dataclass(frozen=True)
class MoleculeSpec:
    """One line of ``molecules.smi``: ``role`` is core, train or heldout."""

    smiles: str
    name: str
    role: str


def read_smiles_list(path: Path = SMILES_FILE) -> list[MoleculeSpec]:
    """Parse a whitespace-separated ``SMILES name role`` file (``#`` at line start: comment)."""
    specs: list[MoleculeSpec] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()  # '#' only starts a comment at the line start: it is a SMILES bond
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[2] not in ROLES:
            raise ValueError(f"{path}: bad line {raw!r} (want: SMILES name role)")
        specs.append(MoleculeSpec(smiles=parts[0], name=parts[1], role=parts[2]))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate molecule names")
    return specs


def embed(smiles: str, seed: int) -> Atoms:
    """3D structure with hydrogens from RDKit ETKDG (seeded), MMFF-relaxed where possible."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    if AllChem.EmbedMolecule(mol, randomSeed=int(seed)) != 0:  # type: ignore[attr-defined]
        raise RuntimeError(f"RDKit could not embed {smiles!r}")
    if mol.GetNumAtoms() > 1 and AllChem.MMFFHasAllMoleculeParams(mol):  # type: ignore[attr-defined]
        AllChem.MMFFOptimizeMolecule(mol, maxIters=500)  # type: ignore[attr-defined]
    positions = np.array(mol.GetConformer().GetPositions(), dtype=np.float64)
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    return Atoms(symbols=symbols, positions=positions - positions.mean(axis=0))


def bonds(smiles: str) -> list[tuple[int, int]]:
    """Bonded atom pairs (hydrogens included), in the atom order of :func:`embed`."""
    from rdkit import Chem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    return [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
