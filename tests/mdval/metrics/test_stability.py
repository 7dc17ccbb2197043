"""Crash checks: each fires with its reason, none fires on a sound frame."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule

from mdval.metrics.stability import (
    bond_pairs,
    check_frame,
    crash_rate,
    max_bond_change_A,
)

THRESHOLDS = {
    "explosion_excess_K": 10_000.0,
    "explosion_jump_factor": 100.0,
    "bond_collapse_A": 0.5,
    "max_force_eV_per_A": 100.0,
}


@pytest.fixture
def water() -> Atoms:
    return molecule("H2O")


def test_bond_pairs_of_water_are_the_two_oh_bonds(water: Atoms) -> None:
    i, j, b0 = bond_pairs(water)
    assert water.get_chemical_symbols() == ["O", "H", "H"]
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (0, 2)]
    np.testing.assert_allclose(b0, [water.get_distance(0, 1), water.get_distance(0, 2)])


def test_bond_pairs_of_methane() -> None:
    i, j, _ = bond_pairs(molecule("CH4"))
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (0, 2), (0, 3), (0, 4)]
    assert len(bond_pairs(Atoms("H"))[0]) == 0


def test_bonds_across_a_periodic_boundary_use_the_minimum_image() -> None:
    atoms = Atoms("H2", positions=[[0.2, 5.0, 5.0], [9.8, 5.0, 5.0]], cell=[10, 10, 10], pbc=True)
    i, j, b0 = bond_pairs(atoms)
    assert (i.tolist(), j.tolist()) == ([0], [1])
    assert b0 == pytest.approx([0.4])
    pos = atoms.positions.copy()
    assert max_bond_change_A(pos, (i, j), b0, atoms.cell, atoms.pbc) == pytest.approx(0.0)
    pos[0, 0] = 0.3  # one bond stretched by 0.1 Å across the boundary
    assert max_bond_change_A(pos, (i, j), b0, atoms.cell, atoms.pbc) == pytest.approx(0.1)
    # Without the cell the same pair looks 9.1 Å long.
    assert max_bond_change_A(pos, (i, j), b0) == pytest.approx(9.5 - 0.4)


def test_an_atom_bonded_to_its_own_image_is_left_out() -> None:
    atoms = Atoms("H2", positions=[[0.0, 0.0, 0.0], [0.5, 0.0, 0.0]], cell=[1.1, 8, 8], pbc=True)
    i, j, b0 = bond_pairs(atoms)
    assert (i.tolist(), j.tolist()) == ([0], [1])
    assert b0 == pytest.approx([0.5])


def test_max_bond_change(water: Atoms) -> None:
    i, j, b0 = bond_pairs(water)
    pos = water.positions.copy()
    assert max_bond_change_A(pos, (i, j), b0) == 0.0
    direction = (pos[2] - pos[0]) / np.linalg.norm(pos[2] - pos[0])
    pos[2] += 0.3 * direction
    assert max_bond_change_A(pos, np.stack([i, j], axis=1), b0) == pytest.approx(0.3)


def _frame(water: Atoms, **overrides: object) -> str | None:
    args: dict[str, object] = {
        "epot_eV": -14.2,
        "forces_eV_per_A": np.full((3, 3), 0.5),
        "positions_A": water.positions.copy(),
        "temperature_K": 310.0,
        "target_temperature_K": 300.0,
        "previous_temperature_K": 290.0,
        "bonds": bond_pairs(water),
        **THRESHOLDS,
    }
    args.update(overrides)
    return check_frame(**args)  # type: ignore[arg-type]


def test_a_normal_frame_passes(water: Atoms) -> None:
    assert _frame(water) is None


def test_defaults_come_from_settings(water: Atoms) -> None:
    assert (
        check_frame(
            epot_eV=-14.2,
            forces_eV_per_A=np.zeros((3, 3)),
            positions_A=water.positions,
            temperature_K=300.0,
            target_temperature_K=300.0,
            previous_temperature_K=300.0,
            bonds=bond_pairs(water),
        )
        is None
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epot_eV", float("nan")),
        ("epot_eV", float("inf")),
        ("forces_eV_per_A", np.array([[0.0, np.nan, 0.0]] * 3)),
        ("positions_A", np.array([[0.0, 0.0, np.inf]] * 3)),
        ("temperature_K", float("nan")),
    ],
)
def test_non_finite_values(water: Atoms, field: str, value: object) -> None:
    reason = _frame(water, **{field: value})
    assert reason is not None and reason.startswith("non-finite")


def test_temperature_far_above_target(water: Atoms) -> None:
    reason = _frame(water, temperature_K=10_400.0, previous_temperature_K=9_000.0)
    assert reason is not None and reason.startswith("explosion") and "target" in reason
    assert _frame(water, temperature_K=10_200.0, previous_temperature_K=9_000.0) is None


def test_temperature_jump(water: Atoms) -> None:
    reason = _frame(water, temperature_K=250.0, previous_temperature_K=2.0)
    assert reason is not None and reason.startswith("explosion") and "jumped" in reason
    assert _frame(water, temperature_K=150.0, previous_temperature_K=2.0) is None
    # A tiny previous temperature makes the factor meaningless: no verdict on it.
    assert _frame(water, temperature_K=250.0, previous_temperature_K=0.5) is None
    assert _frame(water, temperature_K=250.0, previous_temperature_K=None) is None


def test_bond_collapse(water: Atoms) -> None:
    pos = water.positions.copy()
    direction = (pos[1] - pos[0]) / np.linalg.norm(pos[1] - pos[0])
    pos[1] += 0.6 * direction
    reason = _frame(water, positions_A=pos)
    assert reason is not None and reason.startswith("bond collapse") and "0-1" in reason
    pos[1] -= 0.3 * direction  # now 0.3 Å: under the 0.5 Å default, over a 0.2 Å threshold
    assert _frame(water, positions_A=pos) is None
    reason = _frame(water, positions_A=pos, bond_collapse_A=0.2)
    assert reason is not None and reason.startswith("bond collapse")
    assert _frame(water, positions_A=pos, bonds=None, bond_collapse_A=0.2) is None


def test_force_limit(water: Atoms) -> None:
    forces = np.zeros((3, 3))
    forces[2] = [90.0, 60.0, 0.0]  # |F| = 108 eV/Å
    reason = _frame(water, forces_eV_per_A=forces)
    assert reason is not None and reason.startswith("force") and "atom 2" in reason
    assert _frame(water, forces_eV_per_A=forces, max_force_eV_per_A=200.0) is None


def test_crash_rate() -> None:
    assert crash_rate(1, 4) == 0.25
    assert crash_rate(0, 3) == 0.0
    assert crash_rate(0, 0) is None
    with pytest.raises(ValueError):
        crash_rate(3, 2)
