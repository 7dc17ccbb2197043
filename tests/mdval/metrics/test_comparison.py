"""Trajectory comparison against closed-form cases."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from scipy.spatial.transform import Rotation

from mdval.metrics.comparison import (
    HR_N_BINS,
    HR_R_MAX_A,
    alanine_dipeptide_phi_psi_indices,
    bond_length_error_A,
    bond_length_stats,
    bond_type,
    dihedral_deg,
    distance_histogram,
    divergence_time_ps,
    hr_error,
    js_divergence,
    kabsch_rmsd_A,
    phi_psi_js_divergence,
    rmsd_series_A,
)
from mdval.metrics.stability import bond_pairs

# Ace-Ala-NMe (RDKit ETKDG seed 42 + MMFF). Backbone: C1 (acetyl C=O), N3, CA4, C6, N8.
ALANINE_DIPEPTIDE_XYZ = """\
C -2.7774 1.1602 -1.2033
C -2.0780 0.5133 -0.0384
O -2.5876 0.4499 1.0745
N -0.8343 0.0105 -0.3331
C -0.0681 -0.7678 0.6433
C -0.4448 -2.2422 0.5796
C 1.4432 -0.5579 0.4133
O 2.2900 -1.4163 0.6416
N 1.7675 0.7359 0.0422
C 3.1388 1.1703 -0.0239
H -2.1065 1.2911 -2.0568
H -3.6197 0.5332 -1.5072
H -3.1406 2.1457 -0.8990
H -0.5407 -0.0497 -1.3005
H -0.2914 -0.3861 1.6471
H -1.5164 -2.3833 0.7560
H -0.2102 -2.6660 -0.4035
H 0.1019 -2.8215 1.3310
H 1.0362 1.4315 0.1406
H 3.5010 1.3428 0.9929
H 3.7553 0.4063 -0.5052
H 3.1817 2.1001 -0.5956
"""


def alanine_dipeptide() -> Atoms:
    rows = [line.split() for line in ALANINE_DIPEPTIDE_XYZ.splitlines()]
    return Atoms([r[0] for r in rows], positions=[[float(x) for x in r[1:]] for r in rows])


def octahedron(scale: float = 1.0) -> np.ndarray:
    return scale * np.vstack([np.eye(3), -np.eye(3)])


def test_kabsch_rmsd_of_rotated_and_translated_copy_is_zero() -> None:
    p = alanine_dipeptide().positions
    rot = Rotation.from_euler("xyz", [30, -70, 110], degrees=True)
    q = rot.apply(p) + np.array([4.0, -2.0, 7.5])
    assert kabsch_rmsd_A(p, q) == pytest.approx(0.0, abs=1e-10)


def test_kabsch_rmsd_of_a_scaled_copy_is_known() -> None:
    # Unit octahedron against one scaled by 1.2: the best rotation is the identity and every
    # atom is 0.2 Å off, whatever rotation and translation the copy went through.
    rot = Rotation.from_rotvec([0.3, -1.1, 0.4])
    q = rot.apply(octahedron(1.2)) + np.array([1.0, 2.0, 3.0])
    assert kabsch_rmsd_A(octahedron(), q) == pytest.approx(0.2, abs=1e-12)


def test_kabsch_does_not_reflect() -> None:
    p = alanine_dipeptide().positions
    mirror = p * [1.0, 1.0, -1.0]
    assert kabsch_rmsd_A(p, mirror) > 0.3


def test_kabsch_small_cases() -> None:
    assert kabsch_rmsd_A([[1.0, 2.0, 3.0]], [[5.0, 5.0, 5.0]]) == 0.0
    two = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    stretched = np.array([[0.0, 0.0, 0.0], [0.0, 1.4, 0.0]])
    assert kabsch_rmsd_A(two, stretched) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="shape"):
        kabsch_rmsd_A(two, octahedron())


def test_rmsd_series_over_common_frames() -> None:
    p = np.stack([octahedron(), octahedron(), octahedron()])
    q = np.stack([octahedron(1.0) + 5.0, octahedron(1.1), octahedron(1.3), octahedron(2.0)])
    np.testing.assert_allclose(rmsd_series_A(p, q), [0.0, 0.1, 0.3], atol=1e-12)


def test_divergence_time() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    assert divergence_time_ps(t, [0.0, 0.3, 0.5, 0.6, 0.4]) == pytest.approx(0.3)
    assert divergence_time_ps(t, [0.0, 0.1, 0.2, 0.3, 0.5]) is None
    assert divergence_time_ps(t, [0.0, 0.3, 0.5, 0.6, 0.4], threshold_A=0.2) == pytest.approx(0.1)
    assert divergence_time_ps(t, [0.0, np.nan, 0.1, 0.1, 0.1]) == pytest.approx(0.1)


def test_distance_histogram_is_normalised() -> None:
    frames = np.stack([alanine_dipeptide().positions] * 2)
    h, edges = distance_histogram(frames)
    width = HR_R_MAX_A / HR_N_BINS
    assert h.shape == (500,) and edges.shape == (501,)
    assert edges[0] == 0.0 and edges[-1] == 10.0
    assert np.sum(h) * width == pytest.approx(1.0)


def test_hr_error_identical_and_disjoint() -> None:
    width = HR_R_MAX_A / HR_N_BINS
    h, _ = distance_histogram(alanine_dipeptide().positions)
    assert hr_error(h, h.copy(), width) == 0.0
    near, _ = distance_histogram([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    far, _ = distance_histogram([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    assert hr_error(near, far, width) == pytest.approx(2.0)


def test_distance_histogram_drops_pairs_out_of_range_and_uses_mic() -> None:
    h, _ = distance_histogram([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [30.0, 0.0, 0.0]])
    assert np.sum(h) * HR_R_MAX_A / HR_N_BINS == pytest.approx(1.0)
    assert h[50] > 0  # the 1.0 Å pair
    # (0, 10]: coincident atoms (r = 0) are left out, r = 10 Å is in the last bin.
    h, _ = distance_histogram([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    assert h[0] == 0.0 and h[-1] == pytest.approx(1.0 / (HR_R_MAX_A / HR_N_BINS))
    pos = [[0.5, 0.0, 0.0], [19.5, 0.0, 0.0]]
    h_pbc, _ = distance_histogram(pos, cell=np.eye(3) * 20.0, pbc=True)
    assert h_pbc[50] > 0  # 1.0 Å through the boundary
    assert not np.any(distance_histogram(pos)[0])  # 19 Å without the cell: out of range


def test_bond_pairs_of_alanine_dipeptide_form_a_tree() -> None:
    i, _, b0 = bond_pairs(alanine_dipeptide())
    assert len(i) == 21  # 22 atoms, acyclic
    assert np.all((b0 > 0.9) & (b0 < 1.6))


def test_bond_length_stats_and_error() -> None:
    water = molecule("H2O")
    i, j, _ = bond_pairs(water)
    frames = []
    for length in (0.9, 1.1):
        pos = water.positions.copy()
        for h in (1, 2):
            pos[h] = pos[0] + length * (pos[h] - pos[0]) / np.linalg.norm(pos[h] - pos[0])
        frames.append(pos)
    stats = bond_length_stats(np.array(frames), water.numbers, (i, j))
    assert list(stats) == ["O-H"]
    assert stats["O-H"]["mean_A"] == pytest.approx(1.0)
    assert stats["O-H"]["std_A"] == pytest.approx(0.1)
    assert stats["O-H"]["n_samples"] == 4
    assert bond_length_stats(np.array(frames), water.numbers, bond_pairs(water)) == stats
    ref = {"O-H": {"mean_A": 0.97, "std_A": 0.05}, "C-H": {"mean_A": 1.09, "std_A": 0.02}}
    err = bond_length_error_A(stats, ref)
    assert list(err) == ["O-H"]
    assert err["O-H"]["abs_mean_diff_A"] == pytest.approx(0.03)
    assert err["O-H"]["std_ratio"] == pytest.approx(2.0)


def test_bond_type_labels() -> None:
    assert bond_type(1, 6) == "C-H"
    assert bond_type(8, 1) == "O-H"
    assert bond_type(7, 6) == "C-N"
    assert bond_type(8, 7) == "N-O"
    assert bond_type(6, 6) == "C-C"


@pytest.mark.parametrize("angle", [60.0, -60.0, 120.0, -150.0, 180.0, 0.0, 90.0])
def test_dihedral_of_constructed_geometry(angle: float) -> None:
    theta = np.radians(angle)
    pos = np.array(
        [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [1.5, np.cos(theta), np.sin(theta)]]
    )
    value = dihedral_deg(pos, 0, 1, 2, 3)
    assert value == pytest.approx(angle, abs=1e-9)
    assert -180.0 < value <= 180.0
    ase_value = Atoms("C4", positions=pos).get_dihedral(0, 1, 2, 3)
    assert (value - ase_value) % 360.0 == pytest.approx(0.0, abs=1e-9) or (
        (value - ase_value) % 360.0 == pytest.approx(360.0, abs=1e-9)
    )


def test_dihedral_vectorised_over_frames() -> None:
    atoms = alanine_dipeptide()
    frames = np.stack([atoms.positions, -atoms.positions])  # inversion flips the sign
    values = dihedral_deg(frames, 1, 3, 4, 6)
    assert isinstance(values, np.ndarray) and values.shape == (2,)
    assert values[1] == pytest.approx(-values[0])
    assert values[0] % 360.0 == pytest.approx(atoms.get_dihedral(1, 3, 4, 6))


def test_alanine_dipeptide_phi_psi_indices() -> None:
    atoms = alanine_dipeptide()
    assert alanine_dipeptide_phi_psi_indices(atoms) == ((1, 3, 4, 6), (3, 4, 6, 8))
    # The atom order must not matter.
    perm = np.random.default_rng(1).permutation(len(atoms))
    shuffled = atoms[perm]
    new_index = {old: new for new, old in enumerate(perm.tolist())}
    assert alanine_dipeptide_phi_psi_indices(shuffled) == (
        tuple(new_index[k] for k in (1, 3, 4, 6)),
        tuple(new_index[k] for k in (3, 4, 6, 8)),
    )
    # Any other structure: None, so that callers may ask of every run.
    assert alanine_dipeptide_phi_psi_indices(molecule("H2O")) is None
    assert alanine_dipeptide_phi_psi_indices(molecule("CH3CONH2")) is None


def test_js_divergence() -> None:
    p = np.array([1.0, 2.0, 3.0, 0.0])
    assert js_divergence(p, 2 * p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    # Closed form: p = (1, 0), q = (1/2, 1/2): JSD = H(m) - (H(p) + H(q)) / 2, m = (3/4, 1/4).
    h_m = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert js_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(h_m - 0.5)
    with pytest.raises(ValueError):
        js_divergence([0.0, 0.0], [1.0, 0.0])


def test_phi_psi_js_divergence() -> None:
    rng = np.random.default_rng(0)
    samples = np.column_stack([rng.normal(-70, 10, 500), rng.normal(140, 10, 500)])
    assert phi_psi_js_divergence(samples, samples.copy()) == pytest.approx(0.0, abs=1e-12)
    shifted = samples + np.array([140.0, -200.0])
    assert phi_psi_js_divergence(samples, shifted) == pytest.approx(1.0)
