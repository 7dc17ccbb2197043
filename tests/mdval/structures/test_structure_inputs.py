"""Files, uploads and SMILES; every bad input raises StructureError naming the problem."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from mdval.errors import InputError, StructureError, UnsupportedElementsError
from mdval.potentials.registry import resolve_potential
from mdval.settings import get_settings
from mdval.structures import (
    check_elements,
    check_periodic,
    closest_pair,
    describe_structure,
    load_structure,
    load_structure_bytes,
    structure_sha256,
    validate_atoms,
)


@pytest.mark.parametrize("ext", ["xyz", "extxyz", "pdb", "cif", "traj"])
def test_file_formats_round_trip(tmp_path: Path, ext: str) -> None:
    atoms = load_structure("CH4")
    if ext == "cif":  # CIF needs a cell
        atoms.cell = [12.0, 12.0, 12.0]
        atoms.pbc = True
        atoms.center()
    path = tmp_path / f"mol.{ext}"
    ase.io.write(path, atoms, format="extxyz" if ext == "extxyz" else None)
    loaded = load_structure(str(path))
    assert loaded.get_chemical_formula() == "CH4"
    np.testing.assert_allclose(loaded.positions, atoms.positions, atol=2e-3)  # pdb: 3 decimals
    assert loaded.info["name"] == "mol"
    if ext in ("xyz", "extxyz", "traj"):
        assert structure_sha256(loaded) == structure_sha256(atoms)


def test_file_drops_calculator_results_and_constraints(tmp_path: Path) -> None:
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.constraints import FixAtoms

    atoms = molecule("H2O")
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((3, 3)))
    atoms.set_constraint(FixAtoms([0]))
    path = tmp_path / "w.traj"
    ase.io.write(path, atoms)
    loaded = load_structure(str(path))
    assert loaded.calc is None and not loaded.constraints


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StructureError, match="not found"):
        load_structure(str(tmp_path / "nope.xyz"))


def test_unknown_spec_lists_builtins() -> None:
    with pytest.raises(StructureError, match=r"unknown structure 'glycine'.*alanine-dipeptide"):
        load_structure("glycine")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xyz"
    path.write_text("")
    with pytest.raises(StructureError, match=r"'empty.xyz' is empty"):
        load_structure(str(path))


def test_zero_atom_structure(tmp_path: Path) -> None:
    path = tmp_path / "zero.xyz"
    path.write_text("0\n\n")
    with pytest.raises(StructureError, match=r"empty|no atoms|could not read"):
        load_structure(str(path))
    with pytest.raises(StructureError, match="no atoms"):
        validate_atoms(Atoms())


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.xyz"
    path.write_bytes(b"\x00\x01 this is not a structure \xff\n" * 5)
    with pytest.raises(StructureError, match=r"could not read structure file 'garbage.xyz'"):
        load_structure(str(path))


def test_atoms_too_close_names_the_pair() -> None:
    atoms = molecule("CH4")
    atoms.positions[3] = atoms.positions[1] + [0.1, 0.1, 0.0]
    with pytest.raises(StructureError) as err:
        validate_atoms(atoms, source="ch4")
    msg = str(err.value)
    assert "atoms 1 (H) and 3 (H)" in msg and "0.141 Å" in msg and "MDVAL_MIN_DISTANCE_A" in msg


def test_atoms_too_close_across_the_periodic_boundary() -> None:
    atoms = Atoms("Ar2", positions=[[0.1, 5, 5], [9.8, 5, 5]], cell=[10, 10, 10], pbc=True)
    with pytest.raises(StructureError, match=r"atoms 0 \(Ar\) and 1 \(Ar\) are 0.300 Å apart"):
        validate_atoms(atoms)
    atoms.pbc = False  # 9.7 Å apart without minimum image
    validate_atoms(atoms)


def test_atom_too_close_to_its_own_image() -> None:
    atoms = Atoms("H", cell=[0.3, 5, 5], pbc=True)
    with pytest.raises(StructureError, match="own periodic image"):
        validate_atoms(atoms)


def test_closest_pair_is_linear_time_for_large_sparse_molecules() -> None:
    rng = np.random.default_rng(0)
    atoms = Atoms(f"H{2000}", positions=rng.uniform(0, 300, (2000, 3)))
    atoms.positions[1234] = atoms.positions[17] + [0.2, 0, 0]
    assert closest_pair(atoms, 0.5) == (17, 1234, pytest.approx(0.2))


def test_too_many_atoms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "max_atoms", 20)
    with pytest.raises(StructureError, match=r"22 atoms is more than the limit of 20.*MAX_ATOMS"):
        load_structure("alanine-dipeptide")
    with pytest.raises(StructureError, match="more than the limit of 20"):
        load_structure("smiles:CCCCCCCC")  # 26 atoms with hydrogens: refused before embedding


def test_non_finite_positions() -> None:
    atoms = molecule("H2O")
    atoms.positions[2, 1] = np.nan
    with pytest.raises(StructureError, match="atom 2 has a non-finite position"):
        validate_atoms(atoms)


def test_periodic_cell_with_zero_vector() -> None:
    atoms = Atoms("Cu", cell=[0, 0, 0], pbc=True)
    with pytest.raises(StructureError, match="zero length"):
        validate_atoms(atoms)


def test_smiles_builds_a_seeded_relaxed_molecule() -> None:
    a = load_structure("smiles:CCO")
    b = load_structure("SMILES: CCO ")
    assert a.get_chemical_formula(mode="hill") == "C2H6O"
    np.testing.assert_allclose(a.positions, b.positions)  # same seed, same geometry
    assert a.info["name"] == "CCO"
    assert describe_structure(a)["charge"] == 0


def test_charged_smiles_keeps_the_charge() -> None:
    atoms = load_structure("smiles:C[NH3+]")
    assert describe_structure(atoms)["charge"] == 1


@pytest.mark.parametrize(
    ("smiles", "problem"),
    [
        ("C1CC", "unclosed ring"),
        ("CC)(", "extra close parentheses"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("", "empty"),
    ],
)
def test_bad_smiles(smiles: str, problem: str) -> None:
    with pytest.raises(StructureError, match=rf"(?s)SMILES.*{problem}"):
        load_structure(f"smiles:{smiles}")


def test_bad_smiles_message_is_whole() -> None:
    """RDKit's message in full: the position it names and the caret under it, not cut after
    "check for mistakes around position 7:"."""
    with pytest.raises(StructureError) as info:
        load_structure("smiles:CC(=O)X")
    assert str(info.value).endswith("around position 7:\nCC(=O)X\n~~~~~~^")


def test_smiles_embedding_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdkit.Chem import rdDistGeom

    monkeypatch.setattr(rdDistGeom, "EmbedMolecule", lambda mol, params: -1)
    with pytest.raises(StructureError, match="could not embed a 3D structure"):
        load_structure("smiles:CC")


def test_upload_bytes_round_trip() -> None:
    atoms = load_structure("H2O")
    import io

    buf = io.StringIO()
    ase.io.write(buf, atoms, format="extxyz")
    loaded = load_structure_bytes(buf.getvalue().encode(), "my water.xyz")
    assert structure_sha256(loaded) == structure_sha256(atoms)
    assert loaded.info["name"] == "my water"


@pytest.mark.parametrize(
    ("data", "filename", "problem"),
    [
        (b"3\n\nO 0 0 0\n", "w.pkl", "unknown extension '.pkl'"),
        (b"", "w.xyz", "'w.xyz' is empty"),
        (b"not xyz at all", "w.xyz", "could not read structure file 'w.xyz'"),
        (b"2\n\nH 0 0 0\nH 0 0 0.1\n", "w.xyz", "atoms 0 (H) and 1 (H)"),
    ],
)
def test_bad_uploads(data: bytes, filename: str, problem: str) -> None:
    with pytest.raises(StructureError) as err:
        load_structure_bytes(data, filename)
    assert problem in str(err.value)


def test_check_elements_emt_on_water() -> None:
    water = load_structure("H2O")
    emt = resolve_potential("emt")
    with pytest.raises(UnsupportedElementsError) as err:
        check_elements(water, emt, role="reference")
    msg = str(err.value)
    assert "reference potential 'emt'" in msg
    assert "element(s) H, O" in msg and "supports Al, Ni, Cu, Pd, Ag, Pt, Au" in msg
    assert isinstance(err.value, InputError)
    check_elements(load_structure("cu-fcc"), emt)
    check_elements(water, resolve_potential("lj"))  # no restriction


def test_check_periodic() -> None:
    from mdval.potentials.base import PotentialEntry

    molecules_only = PotentialEntry(
        spec="m.pt", name="m", kind="torchscript", sha256="0" * 64,
        supported_elements=None, factory=lambda device: EMT(), periodic_ok=False,
    )  # fmt: skip
    with pytest.raises(StructureError, match=r"periodic .* handles only non-periodic"):
        check_periodic(bulk("Cu", cubic=True), molecules_only)
    check_periodic(molecule("H2O"), molecules_only)
    crystals_only = PotentialEntry(
        spec="c", name="c", kind="family", sha256="0" * 64,
        supported_elements=None, factory=lambda device: EMT(), molecules_ok=False,
    )  # fmt: skip
    with pytest.raises(StructureError, match=r"not periodic .* needs a periodic cell"):
        check_periodic(molecule("H2O"), crystals_only, role="reference")
    check_periodic(bulk("Cu", cubic=True), crystals_only)
