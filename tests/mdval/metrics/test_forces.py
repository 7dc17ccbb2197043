"""Force-accuracy metrics against closed-form cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mdval.metrics.forces import (
    FORCE_METRICS,
    force_accuracy,
    force_histogram,
    per_atom_error_norms,
)


@pytest.fixture
def ref_forces() -> np.ndarray:
    """(4 frames, 5 atoms, 3) reference forces with |G_i| >= 0.5 eV/Å."""
    rng = np.random.default_rng(7)
    g = rng.normal(size=(4, 5, 3))
    return g / np.linalg.norm(g, axis=-1, keepdims=True) * rng.uniform(0.5, 3.0, (4, 5, 1))


def test_identical_forces(ref_forces: np.ndarray) -> None:
    out = force_accuracy(ref_forces.copy(), ref_forces)
    assert set(out) == set(FORCE_METRICS)
    assert out["force_rmse_eV_per_A"] == 0.0
    assert out["force_mae_eV_per_A"] == 0.0
    assert out["force_rmse_xyz_eV_per_A"] == [0.0, 0.0, 0.0]
    assert out["force_r2"] == 1.0
    assert out["force_angle_error_deg"] == 0.0
    assert out["force_magnitude_rel_error"] == 0.0
    assert out["energy_rmse_meV_per_atom"] is None


def test_rotation_about_a_perpendicular_axis_gives_that_angle() -> None:
    rng = np.random.default_rng(3)
    g = np.zeros((3, 6, 3))
    g[..., :2] = rng.uniform(0.3, 2.0, (3, 6, 2)) * rng.choice([-1.0, 1.0], (3, 6, 2))
    f = Rotation.from_euler("z", 25.0, degrees=True).apply(g.reshape(-1, 3)).reshape(g.shape)
    out = force_accuracy(f, g)
    assert out["force_angle_error_deg"] == pytest.approx(25.0, abs=1e-10)
    assert out["force_magnitude_rel_error"] == pytest.approx(0.0, abs=1e-12)


def test_small_reference_forces_are_left_out_of_the_angle() -> None:
    g = np.array([[1.0, 0.0, 0.0], [0.04, 0.0, 0.0]])
    f = np.array([[0.0, 2.0, 0.0], [-0.04, 0.0, 0.0]])  # 90 deg on the big one, 180 on the tiny
    out = force_accuracy(f, g)
    assert out["force_angle_error_deg"] == pytest.approx(90.0)
    assert out["force_magnitude_rel_error"] == pytest.approx(1.0)
    tiny = force_accuracy(f[1:], g[1:])
    assert tiny["force_angle_error_deg"] is None
    assert tiny["force_magnitude_rel_error"] is None


def test_scaled_forces(ref_forces: np.ndarray) -> None:
    out = force_accuracy(1.1 * ref_forces, ref_forces)
    assert out["force_magnitude_rel_error"] == pytest.approx(0.1)
    assert out["force_mae_eV_per_A"] == pytest.approx(0.1 * np.mean(np.abs(ref_forces)))
    assert out["force_rmse_eV_per_A"] == pytest.approx(0.1 * np.sqrt(np.mean(ref_forces**2)))
    assert out["force_angle_error_deg"] == pytest.approx(0.0, abs=1e-6)


def test_per_component_rmse_mae_and_r2() -> None:
    # Components +-1 with mean 0 and variance 1; a constant offset per axis.
    g = np.tile(np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]]), (2, 3, 1))  # (2, 6, 3)
    f = g + np.array([0.1, 0.2, 0.3])
    out = force_accuracy(f, g)
    assert out["force_rmse_xyz_eV_per_A"] == pytest.approx([0.1, 0.2, 0.3])
    assert out["force_rmse_eV_per_A"] == pytest.approx(np.sqrt((0.01 + 0.04 + 0.09) / 3))
    assert out["force_mae_eV_per_A"] == pytest.approx(0.2)
    assert out["force_r2"] == pytest.approx(1.0 - (0.01 + 0.04 + 0.09) / 3)


def test_r2_undefined_for_constant_reference() -> None:
    g = np.ones((4, 3))
    assert force_accuracy(g + 0.1, g)["force_r2"] is None


def test_energy_rmse_removes_the_offset() -> None:
    f = np.ones((4, 22, 3))
    e_ref = np.array([-900.0, -899.5, -901.2, -900.7])
    assert force_accuracy(f, f, e_ref + 3.7, e_ref)["energy_rmse_meV_per_atom"] == pytest.approx(
        0.0, abs=1e-9
    )
    # Offset 3.7 eV plus +-0.022 eV alternating: RMSE 22 meV over 22 atoms = 1 meV/atom.
    e = e_ref + 3.7 + np.array([0.022, -0.022, 0.022, -0.022])
    out = force_accuracy(f, f, e, e_ref)
    assert out["energy_rmse_meV_per_atom"] == pytest.approx(1.0)
    assert force_accuracy(f, f, e, e_ref, n_atoms=11)["energy_rmse_meV_per_atom"] == (
        pytest.approx(2.0)
    )


def test_energy_of_one_frame_and_of_none() -> None:
    f = np.ones((3, 3))
    assert force_accuracy(f, f, [-5.0], [-4.0])["energy_rmse_meV_per_atom"] == 0.0
    assert force_accuracy(f, f, [], [])["energy_rmse_meV_per_atom"] is None


def test_per_atom_error_norms() -> None:
    g = np.zeros((2, 2, 3))
    f = g.copy()
    f[1, 0] = [3.0, 4.0, 0.0]
    np.testing.assert_allclose(per_atom_error_norms(f, g), [0.0, 0.0, 5.0, 0.0])
    np.testing.assert_allclose(per_atom_error_norms(f[1], g[1]), [5.0, 0.0])


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        force_accuracy(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="shape"):
        force_accuracy(np.zeros((2, 4)), np.zeros((2, 4)))


def test_force_histogram() -> None:
    errors = np.array([0.05, 0.15, 0.15, 0.95, np.nan])
    edges, counts = force_histogram(errors, bins=10, range_eV_per_A=(0.0, 1.0))
    assert edges.shape == (11,)
    np.testing.assert_array_equal(counts, [1, 2, 0, 0, 0, 0, 0, 0, 0, 1])
    edges, counts = force_histogram(errors, bins=4)
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(0.95)
    assert counts.sum() == 4
    edges, counts = force_histogram([], bins=5)
    assert counts.sum() == 0 and edges[-1] == 1.0
