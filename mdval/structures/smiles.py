"""``smiles:<SMILES>`` input: RDKit parse, hydrogens, seeded ETKDG embedding, MMFF relaxation."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
from ase import Atoms

from mdval.errors import StructureError
from mdval.settings import get_settings

_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*", re.MULTILINE)

#: Most atoms (hydrogens included) a SMILES may embed into. ETKDG's cost grows steeply with
#: size (2 CPU threads: 150 atoms ~1 s, 300 atoms ~2.5 s and often no conformer, 1,500 atoms
#: > 30 min); larger molecules come as structure files. Checked before embedding.
MAX_SMILES_ATOMS = 300
#: Wall-clock bound of one ETKDG embedding attempt, in seconds (RDKit's ``timeout``).
EMBED_TIMEOUT_S = 20
#: Longest SMILES quoted in a message.
_QUOTE_CHARS = 60


def _quote(text: str) -> str:
    return repr(text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "...")


def count_atoms(mol: Any) -> int:
    """Atoms of a parsed molecule with its hydrogens, implicit ones included (no AddHs)."""
    return int(sum(1 + atom.GetTotalNumHs() for atom in mol.GetAtoms()))


def _capture_rdkit_log() -> AbstractContextManager[Any]:
    """Capture RDKit's error log (so the reason goes into our message, not to stderr)."""
    from rdkit import rdBase

    capture = getattr(rdBase, "CaptureErrorLog", None)  # RDKit >= 2025
    if capture is not None:
        return capture()
    return nullcontext(None)


_PARSE_PREFIX = "SMILES Parse Error: "


def _rdkit_reason(capture: Any) -> str:
    """RDKit's whole parse message: its sentences joined by "; ", then the SMILES and the
    caret line under the position it names on lines of their own (so they stay aligned);
    the closing "Failed parsing SMILES ..." line, which repeats the input, is dropped."""
    messages = getattr(capture, "messages", "") or ""
    lines = [ln.rstrip() for ln in _TIMESTAMP.sub("", messages).splitlines() if ln.strip()]
    sentences, pointer = [], []
    for line in lines:
        if line.startswith(_PARSE_PREFIX):
            text = line.removeprefix(_PARSE_PREFIX).strip()
            if not text.startswith("Failed parsing SMILES"):
                sentences.append(text)
        else:  # the SMILES as RDKit quotes it and the ~~~^ line under it
            pointer.append(line)
    if not sentences and not pointer:
        return "RDKit could not parse it"
    return "\n".join(["; ".join(sentences), *pointer]).strip()


def smiles_to_atoms(
    smiles: str,
    *,
    seed: int | None = None,
    max_atoms: int | None = None,
    embed_timeout_s: int = EMBED_TIMEOUT_S,
) -> Atoms:
    """3D structure of ``smiles`` with explicit hydrogens (positions in Å, non-periodic).

    Steps: parse (with sanitisation), add hydrogens, embed with ETKDGv3 seeded by ``seed``
    (default ``get_settings().smiles_seed``), relax with MMFF94 (UFF where MMFF lacks
    parameters). Formal charges become ``initial_charges``. Raises :class:`StructureError`
    for a bad SMILES, too many atoms (more than ``max_atoms``, default the lesser of
    ``MDVAL_MAX_ATOMS`` and :data:`MAX_SMILES_ATOMS`, counted before embedding), or an
    embedding failure (each ETKDG attempt is bounded by ``embed_timeout_s``).
    """
    from rdkit import Chem
    from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

    settings = get_settings()
    seed = settings.smiles_seed if seed is None else seed
    limit_name = "MDVAL_MAX_ATOMS" if settings.max_atoms <= MAX_SMILES_ATOMS else "SMILES input"
    max_atoms = min(settings.max_atoms, MAX_SMILES_ATOMS) if max_atoms is None else max_atoms
    text = smiles.strip()
    if not text:
        raise StructureError("bad SMILES: the string after 'smiles:' is empty")

    with _capture_rdkit_log() as capture:
        mol = Chem.MolFromSmiles(text)
    if mol is None:
        raise StructureError(f"bad SMILES {_quote(text)}: {_rdkit_reason(capture)}")
    n_atoms = count_atoms(mol)  # before AddHs and embedding: the cheap check comes first
    if n_atoms > max_atoms:
        raise StructureError(
            f"SMILES {_quote(text)}: {n_atoms} atoms with hydrogens is more than the limit of "
            f"{max_atoms} for a SMILES ({limit_name}; embedding a larger molecule in 3D takes "
            "minutes): upload it as a structure file (xyz, pdb, ...) instead"
        )
    mol = Chem.AddHs(mol)

    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)  # type: ignore[assignment]  # RDKit stub is wrong
    params.timeout = int(embed_timeout_s)  # type: ignore[assignment]
    with _capture_rdkit_log() as capture:
        status = rdDistGeom.EmbedMolecule(mol, params)
        if status != 0:
            # Random starting coordinates embed molecules that distance geometry cannot.
            params.useRandomCoords = True  # type: ignore[assignment]
            status = rdDistGeom.EmbedMolecule(mol, params)
    if status != 0:
        raise StructureError(
            f"SMILES {_quote(text)}: RDKit could not embed a 3D structure (ETKDG, seed {seed}, "
            f"at most {embed_timeout_s} s per attempt): "
            f"{_rdkit_reason(capture) if getattr(capture, 'messages', '') else 'no conformer'}"
        )
    with _capture_rdkit_log():
        if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
            rdForceFieldHelpers.MMFFOptimizeMolecule(mol, maxIters=2000)
        elif rdForceFieldHelpers.UFFHasAllMoleculeParams(mol):
            rdForceFieldHelpers.UFFOptimizeMolecule(mol, maxIters=2000)

    positions = np.asarray(mol.GetConformer().GetPositions(), dtype=np.float64)
    numbers = [a.GetAtomicNum() for a in mol.GetAtoms()]
    atoms = Atoms(numbers=numbers, positions=positions)
    charges = [a.GetFormalCharge() for a in mol.GetAtoms()]
    if any(charges):
        # Formal charges ride along as initial charges: their sum is the total charge that
        # charge-aware calculators (GFN2-xTB via tblite) use.
        atoms.set_initial_charges(charges)
    return atoms
