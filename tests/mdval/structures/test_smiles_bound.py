"""A SMILES is refused by its atom count before any embedding, and embedding is bounded
(issue 13, item 2: a 499-character SMILES of 1,499 atoms held a validate worker > 31 min)."""

from __future__ import annotations

import time

import pytest

from mdval.errors import StructureError
from mdval.structures import load_structure
from mdval.structures.smiles import MAX_SMILES_ATOMS, count_atoms, smiles_to_atoms


def test_a_huge_smiles_is_refused_at_once_with_its_atom_count() -> None:
    smiles = "C" * 499  # n-C499H1000: 1,499 atoms, under MDVAL_MAX_ATOMS (2,000)
    started = time.perf_counter()
    with pytest.raises(StructureError) as err:
        load_structure(f"smiles:{smiles}")
    assert time.perf_counter() - started < 2.0  # no embedding was tried
    message = str(err.value)
    assert f"1499 atoms with hydrogens is more than the limit of {MAX_SMILES_ATOMS}" in message
    assert "structure file" in message  # what to do instead
    assert len(message) < 400  # the SMILES is not quoted in full


def test_the_count_includes_implicit_hydrogens_before_addhs() -> None:
    from rdkit import Chem

    assert count_atoms(Chem.MolFromSmiles("CCO")) == 9
    assert count_atoms(Chem.MolFromSmiles("[NH4+]")) == 5
    assert count_atoms(Chem.MolFromSmiles("c1ccccc1")) == 12


def test_a_molecule_under_the_limit_still_embeds() -> None:
    atoms = smiles_to_atoms("CC(=O)NC(C)C(=O)NC")  # alanine dipeptide, 22 atoms
    assert len(atoms) == 22


def test_embedding_is_bounded_in_time() -> None:
    # 302 atoms: just over the cap, so lift the cap and bound the attempt instead
    started = time.perf_counter()
    try:
        smiles_to_atoms("C" * 100, max_atoms=400, embed_timeout_s=1)
    except StructureError as exc:
        assert "at most 1 s per attempt" in str(exc)
    # two attempts (distance geometry, then random coordinates), each ~1 s, plus MMFF
    assert time.perf_counter() - started < 30.0
