"""GFN2-xTB through tblite: finite, conservative, single-threaded, refuses mixed pbc."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from mdval.errors import PotentialError
from mdval.potentials.registry import resolve_potential
from mdval.potentials.xtb import _libgomp, omp_threads
from mdval.structures import load_structure


@pytest.fixture(scope="module")
def xtb_water() -> Atoms:
    atoms = load_structure("H2O")
    atoms.calc = resolve_potential("gfn2-xtb").make_calculator("cpu")
    return atoms


def test_energy_and_forces_are_finite_and_near_the_minimum(xtb_water: Atoms) -> None:
    energy = xtb_water.get_potential_energy()
    forces = xtb_water.get_forces()
    assert np.isfinite(energy) and np.isfinite(forces).all()
    assert energy == pytest.approx(-137.9765, abs=1e-3)  # the relaxed built-in
    assert np.abs(forces).max() < 0.01  # relaxed with GFN2-xTB to fmax 0.01 eV/Å


def test_forces_are_minus_the_finite_difference_gradient(xtb_water: Atoms) -> None:
    atoms = xtb_water.copy()
    atoms.calc = xtb_water.calc
    atoms.positions += np.array([[0.03, -0.02, 0.01], [-0.05, 0.02, 0.0], [0.02, 0.04, -0.03]])
    forces = atoms.get_forces()
    h = 1e-3
    fd = np.zeros_like(forces)
    for i in range(len(atoms)):
        for k in range(3):
            energies = []
            for step in (h, -h):
                probe = atoms.copy()
                probe.calc = atoms.calc
                probe.positions[i, k] += step
                energies.append(probe.get_potential_energy())
            fd[i, k] = -(energies[0] - energies[1]) / (2 * h)
    assert np.abs(forces).max() > 0.5  # displaced: a real test, not zeros vs zeros
    np.testing.assert_allclose(forces, fd, atol=2e-3)


def test_omp_threads_are_set_and_restored() -> None:
    lib = _libgomp()
    if lib is None:
        pytest.skip("no libgomp loaded")
    before = lib.omp_get_max_threads()
    with omp_threads(1):
        assert lib.omp_get_max_threads() == 1
    assert lib.omp_get_max_threads() == before


def test_partly_periodic_cells_are_refused() -> None:
    atoms = load_structure("H2O")
    atoms.cell = [15.0, 15.0, 15.0]
    atoms.pbc = [True, True, False]
    atoms.calc = resolve_potential("gfn2-xtb").make_calculator("cpu")
    with pytest.raises(PotentialError, match="pbc all True or all False"):
        atoms.get_potential_energy()


def test_periodic_box_matches_the_isolated_molecule() -> None:
    # Why the entry says periodic_ok: a molecule in a large periodic box is the molecule.
    isolated = load_structure("H2O")
    isolated.calc = resolve_potential("gfn2-xtb").make_calculator("cpu")
    boxed = isolated.copy()
    boxed.cell = [20.0, 20.0, 20.0]
    boxed.pbc = True
    boxed.center()
    boxed.calc = resolve_potential("gfn2-xtb").make_calculator("cpu")
    assert boxed.get_potential_energy() == pytest.approx(isolated.get_potential_energy(), abs=1e-3)
    np.testing.assert_allclose(boxed.get_forces(), isolated.get_forces(), atol=5e-3)
