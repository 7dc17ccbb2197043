"""A cell's observables beside the distance between independent control replicas."""

from __future__ import annotations

import numpy as np
import pytest

from mdval.suites.observables import CELL_OBSERVABLES, cell_observables, replica_floor


def frames(shift_A: float, seed: int, n_frames: int = 40) -> dict[str, np.ndarray]:
    """A water molecule vibrating about a geometry stretched by ``shift_A`` (O–H bonds)."""
    rng = np.random.default_rng(seed)
    base = np.array([[0.0, 0.0, 0.0], [0.96 + shift_A, 0.0, 0.0], [-0.24, 0.93 + shift_A, 0.0]])
    positions = base + 0.01 * rng.standard_normal((n_frames, 3, 3))
    velocities = 0.01 * rng.standard_normal((n_frames, 3, 3))
    return {
        "positions_A": positions,
        "velocity_positions_A": positions,
        "velocities_A_per_fs": velocities,
        "numbers": np.array([8, 1, 1]),
        "cell_A": np.zeros((3, 3)),
        "pbc": np.zeros(3, dtype=bool),
        "structure_interval_ps": np.array(0.002),
        "velocity_interval_ps": np.array(0.002),
    }


BONDS = (np.array([0, 0]), np.array([1, 2]))


def test_identical_replicas_have_a_zero_floor() -> None:
    same = frames(0.0, seed=1)
    floor = replica_floor([same, same], bonds=BONDS)
    assert floor["bond_length_w1_A"] == pytest.approx(0.0, abs=1e-12)
    assert floor["rdf_w1_A"] == pytest.approx(0.0, abs=1e-12)


def test_one_replica_has_no_floor() -> None:
    assert all(v is None for v in replica_floor([frames(0.0, 1)], bonds=BONDS).values())


def test_a_stretched_model_stands_out_of_the_replica_floor() -> None:
    controls = [frames(0.0, seed) for seed in (1, 2, 3)]
    floor = replica_floor(controls, bonds=BONDS)
    summaries = [{"observables": {"bond_length_w1_A": 0.1, "rdf_w1_A": 0.08}}] * 3
    cell = cell_observables(summaries, controls, bonds=BONDS)
    assert set(CELL_OBSERVABLES) <= cell.keys()
    assert cell["n_runs"] == 3 and cell["n_control_replicas"] == 3
    bond = cell["bond_length_w1_A"]
    assert bond["model_vs_control"] == pytest.approx(0.1)
    assert bond["control_replicas"] == pytest.approx(floor["bond_length_w1_A"])
    assert bond["control_replicas"] < 0.01  # noise of 0.01 Å vibrations, 40 frames
    assert cell["dihedral_js"]["model_vs_control"] is None  # not a peptide
