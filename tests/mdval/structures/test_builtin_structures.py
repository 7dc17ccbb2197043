"""The shipped structures load with the right composition, geometry and chirality."""

from __future__ import annotations

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from mdval.structures import (
    BUILTINS,
    describe_structure,
    find_builtin,
    list_builtins,
    load_structure,
    structure_sha256,
)

EXPECTED = {
    "H2O": ("H2O", 3, False),
    "CH4": ("CH4", 5, False),
    "alanine": ("C3H7NO2", 13, False),
    "alanine-dipeptide": ("C6H12N2O2", 22, False),
    "cu-fcc": ("Cu32", 32, True),
    "si-diamond": ("Si64", 64, True),
    "water-box": ("H128O64", 192, True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_loads_with_formula_and_size(name: str) -> None:
    formula, n_atoms, periodic = EXPECTED[name]
    atoms = load_structure(name)
    info = describe_structure(atoms)
    assert info["formula"] == formula
    assert info["n_atoms"] == n_atoms == len(atoms)
    assert info["periodic"] is periodic
    assert atoms.info["name"] == name
    entry = find_builtin(name)
    assert entry is not None and (entry.formula, entry.n_atoms) == (formula, n_atoms)


def test_every_registered_builtin_is_tested_and_described() -> None:
    assert {b.name for b in BUILTINS} == set(EXPECTED)
    assert all(item["description"] for item in list_builtins())


@pytest.mark.parametrize(
    ("alias", "name"),
    [("water", "H2O"), ("h2o", "H2O"), ("Methane", "CH4"), ("ALANINE", "alanine"),
     ("ace-ala-nme", "alanine-dipeptide"), (" Cu-FCC ", "cu-fcc")],
)  # fmt: skip
def test_aliases_are_case_insensitive(alias: str, name: str) -> None:
    assert load_structure(alias).info["name"] == name


def test_cu_fcc_is_the_ideal_2x2x2_cubic_crystal() -> None:
    atoms = load_structure("cu-fcc")
    assert atoms.pbc.all()
    np.testing.assert_allclose(atoms.cell.array, np.diag([7.22, 7.22, 7.22]), atol=1e-9)
    _, _, d = neighbor_list("ijd", atoms, 2.6)
    assert len(d) == 32 * 12  # 12 nearest neighbours each
    np.testing.assert_allclose(d, 3.61 / np.sqrt(2), atol=1e-6)


def test_si_diamond_is_tetrahedral() -> None:
    atoms = load_structure("si-diamond")
    _, _, d = neighbor_list("ijd", atoms, 2.6)
    assert len(d) == 64 * 4  # 4 nearest neighbours each
    np.testing.assert_allclose(d, 5.431 * np.sqrt(3) / 4, atol=1e-6)


def test_water_box_is_64_whole_molecules_at_liquid_density() -> None:
    atoms = load_structure("water-box")
    density_g_per_cm3 = atoms.get_masses().sum() * 1.66053907e-24 / (atoms.get_volume() * 1e-24)
    assert density_g_per_cm3 == pytest.approx(0.997, rel=1e-3)
    i, d = neighbor_list("id", atoms, 1.2)  # covalent O-H only
    oxygens = np.flatnonzero(atoms.numbers == 8)
    assert sorted(np.bincount(i, minlength=len(atoms))[oxygens]) == [2] * 64
    assert d.min() > 0.9
    _, _, far = neighbor_list("ijd", atoms, 2.0)
    assert len(far) == len(d) + 2 * 64  # + each molecule's own H-H: molecules start apart


def test_molecules_have_sensible_bonds() -> None:
    for name in ("H2O", "CH4", "alanine", "alanine-dipeptide"):
        atoms = load_structure(name)
        _, _, d = neighbor_list("ijd", atoms, 1.2)  # X-H bonds and C=O
        assert d.min() > 0.9, name


def test_l_alanine_is_s_by_cip() -> None:
    from rdkit import Chem
    from rdkit.Chem import rdCIPLabeler, rdDetermineBonds

    for name in ("alanine", "alanine-dipeptide"):
        atoms = load_structure(name)
        block = f"{len(atoms)}\n\n" + "\n".join(
            f"{s} {x:.6f} {y:.6f} {z:.6f}"
            for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions, strict=True)
        )
        mol = Chem.MolFromXYZBlock(block)
        rdDetermineBonds.DetermineBonds(mol, charge=0)
        Chem.AssignStereochemistryFrom3D(mol)
        rdCIPLabeler.AssignCIPLabels(mol)
        labels = [a.GetProp("_CIPCode") for a in mol.GetAtoms() if a.HasProp("_CIPCode")]
        assert labels == ["S"], (name, labels)


def test_l_alanine_signed_volume() -> None:
    # Independent of RDKit. L-alanine is S: with H_alpha pointing away from the viewer,
    # N -> C(OOH) -> CH3 (CIP priority order) runs counter-clockwise, which makes the triple
    # product (N - Ca) . ((C' - Ca) x (Cb - Ca)) positive (e.g. a = (1, 0, h),
    # b = (cos 120°, sin 120°, h), c = (cos 240°, sin 240°, h) gives 2.6 h > 0).
    atoms = load_structure("alanine")
    sym = atoms.get_chemical_symbols()
    pos = atoms.positions
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    carbons = [i for i, s in enumerate(sym) if s == "C"]
    n = sym.index("N")
    ca = min(carbons, key=lambda i: d[i, n])
    carboxyl = next(i for i in carbons if sum(sym[j] == "O" and d[i, j] < 1.5 for j in range(13)))
    methyl = next(i for i in carbons if i not in (ca, carboxyl))

    def volume(p: np.ndarray) -> float:
        return float(np.dot(p[n] - p[ca], np.cross(p[carboxyl] - p[ca], p[methyl] - p[ca])))

    assert volume(pos) > 0.5
    assert volume(pos * np.array([1.0, 1.0, -1.0])) < -0.5  # D-alanine, the mirror image


def test_hash_is_stable_and_content_based() -> None:
    a = load_structure("alanine")
    b = load_structure("ALA")
    assert structure_sha256(a) == structure_sha256(b)
    b.info["whatever"] = 1
    assert structure_sha256(a) == structure_sha256(b)
    b.positions[0, 0] += 1e-8  # below the 1e-6 Å resolution
    assert structure_sha256(a) == structure_sha256(b)
    b.positions[0, 0] += 1e-4
    assert structure_sha256(a) != structure_sha256(b)
    c = a.copy()
    c.pbc = True
    c.cell = [20.0, 20.0, 20.0]
    assert structure_sha256(a) != structure_sha256(c)
    assert len(structure_sha256(a)) == 64
