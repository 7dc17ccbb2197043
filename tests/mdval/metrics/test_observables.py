"""Equilibrium observables (model vs control) against closed-form cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from scipy.spatial.transform import Rotation

from mdval.metrics.comparison import alanine_dipeptide_phi_psi_indices
from mdval.metrics.observables import (
    OBSERVABLE_METRICS,
    TrajectorySample,
    _w1_by_type,
    angle_triples,
    bond_angles_by_type,
    bond_lengths_by_type,
    equilibrium_observables,
    observables_noise,
    pair_distances_A,
)
from mdval.metrics.stability import bond_pairs
from mdval.structures.load import load_structure

CUBIC_10 = 10.0 * np.eye(3)
PBC = np.array([True, True, True])


def alanine_dipeptide() -> Atoms:
    return load_structure("alanine-dipeptide")


def water(angle_deg: float = 104.5, r_A: float = 0.9572) -> Atoms:
    half = np.radians(angle_deg / 2.0)
    return Atoms(
        "OH2",
        positions=[
            [0.0, 0.0, 0.0],
            [r_A * np.sin(half), r_A * np.cos(half), 0.0],
            [-r_A * np.sin(half), r_A * np.cos(half), 0.0],
        ],
    )


def jittered(atoms: Atoms, n_frames: int, sigma_A: float, seed: int) -> np.ndarray:
    """(F, N, 3): the structure plus independent Gaussian noise per frame."""
    rng = np.random.default_rng(seed)
    return atoms.positions[None] + rng.normal(0.0, sigma_A, (n_frames, len(atoms), 3))


def oscillator_velocities(n_frames: int, n_atoms: int, dt_ps: float, seed: int) -> np.ndarray:
    """(F, N, 3) Å/fs: each component a cosine at 30-90 THz with a random phase (stationary)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None, None] * dt_ps
    freq = rng.uniform(30.0, 90.0, (1, n_atoms, 3))
    phase = rng.uniform(0.0, 2.0 * np.pi, (1, n_atoms, 3))
    return 0.01 * np.cos(2.0 * np.pi * freq * t + phase)


def sample(atoms: Atoms, positions: np.ndarray, **kwargs: object) -> TrajectorySample:
    return TrajectorySample(positions=positions, numbers=atoms.numbers, **kwargs)  # type: ignore[arg-type]


# --- distances and labels ---------------------------------------------------------------


def test_minimum_image_across_the_boundary() -> None:
    pos = np.array([[[0.25, 5.0, 5.0], [9.75, 5.0, 5.0]]])
    np.testing.assert_allclose(pair_distances_A(pos, CUBIC_10, PBC), [0.5])
    np.testing.assert_allclose(pair_distances_A(pos), [9.5])  # no cell: the plain distance
    triclinic = np.array([[10.0, 0.0, 0.0], [2.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    np.testing.assert_allclose(pair_distances_A(pos, triclinic, PBC), [0.5])  # find_mic path
    np.testing.assert_allclose(pair_distances_A(pos, CUBIC_10, [False, True, True]), [9.5])
    lengths = bond_lengths_by_type(pos, [1, 8], np.array([[0, 1]]), CUBIC_10, PBC)
    np.testing.assert_allclose(lengths["H-O"], [0.5])


def test_pair_distances_per_element_pair() -> None:
    w = water()
    by_pair = pair_distances_A(w.positions, pairs_of=w.numbers)
    assert list(by_pair) == ["H-H", "H-O"]
    np.testing.assert_allclose(by_pair["H-O"], [0.9572, 0.9572])
    np.testing.assert_allclose(by_pair["H-H"], [2 * 0.9572 * np.sin(np.radians(52.25))])
    assert pair_distances_A(jittered(w, 5, 0.01, 0)).shape == (15,)
    assert np.all(pair_distances_A(w.positions, r_max_A=1.0) <= 1.0)


def test_water_angle_and_labels() -> None:
    w = water(104.5)
    bonds = bond_pairs(w)
    lengths = bond_lengths_by_type(w.positions, w.numbers, bonds)
    angles = bond_angles_by_type(w.positions, w.numbers, bonds)
    assert list(lengths) == ["H-O"]
    np.testing.assert_allclose(lengths["H-O"], [0.9572, 0.9572])
    assert list(angles) == ["H-O-H"]
    np.testing.assert_allclose(angles["H-O-H"], [104.5])


def test_angle_across_the_boundary_uses_the_minimum_image() -> None:
    w = water(104.5)
    pos = w.positions + np.array([0.2, 0.2, 5.0])
    pos[1:] %= 10.0  # wrap the hydrogens into the cell: one lands on the far side
    angles = bond_angles_by_type(pos, w.numbers, np.array([[0, 1], [0, 2]]), CUBIC_10, PBC)
    np.testing.assert_allclose(angles["H-O-H"], [104.5])


def test_methane_and_ethanol_types() -> None:
    ch4 = molecule("CH4")
    angles = bond_angles_by_type(ch4.positions, ch4.numbers, bond_pairs(ch4))
    assert list(angles) == ["H-C-H"]
    np.testing.assert_allclose(angles["H-C-H"], np.degrees(np.arccos(-1.0 / 3.0)), atol=1e-3)
    assert angle_triples(bond_pairs(ch4)).shape == (6, 3)

    eth = molecule("CH3CH2OH")
    bonds = bond_pairs(eth)
    assert list(bond_lengths_by_type(eth.positions, eth.numbers, bonds)) == [
        "C-C",
        "C-H",
        "C-O",
        "H-O",
    ]
    assert list(bond_angles_by_type(eth.positions, eth.numbers, bonds)) == [
        "C-C-H",
        "C-C-O",
        "C-O-H",
        "H-C-H",
        "H-C-O",
    ]


# --- equilibrium_observables ------------------------------------------------------------


def test_shift_by_0_1_A_gives_w1_of_0_1_A() -> None:
    """A diatomic whose every distance is 0.1 Å longer: W1 of 0.1 Å, for h(r) and the bond."""
    rng = np.random.default_rng(5)
    d = rng.uniform(1.0, 1.3, 50)
    control_pos = np.zeros((50, 2, 3))
    control_pos[:, 1, 0] = d
    model_pos = control_pos.copy()
    model_pos[:, 1, 0] += 0.1
    co = Atoms("CO")
    out = equilibrium_observables(
        sample(co, model_pos), sample(co, control_pos), bonds=np.array([[0, 1]])
    )
    assert out["rdf_w1_A"] == pytest.approx(0.1)
    assert out["bond_length_w1_A"] == pytest.approx(0.1)
    assert out["bond_length_w1_A_by_type"] == {"C-O": pytest.approx(0.1)}
    assert out["bond_angle_w1_deg"] is None  # no angles in a diatomic
    assert out["bond_angle_w1_deg_by_type"] == {}


def test_identical_trajectories_give_zero_everywhere() -> None:
    ala = alanine_dipeptide()
    pos = jittered(ala, 40, 0.02, seed=6)
    vel = oscillator_velocities(40, len(ala), 0.001, seed=7)
    run = sample(ala, pos, velocities=vel, frame_interval_ps=0.001)
    out = equilibrium_observables(run, run, bonds=bond_pairs(ala))
    assert set(out) == set(OBSERVABLE_METRICS)
    for key in ("rdf_w1_A", "bond_length_w1_A", "bond_angle_w1_deg", "vdos_w1_THz"):
        assert out[key] == 0.0, key
    assert out["dihedral_js"] == 0.0
    assert set(out["bond_length_w1_A_by_type"].values()) == {0.0}
    assert set(out["bond_angle_w1_deg_by_type"].values()) == {0.0}
    assert out["n_frames_model"] == out["n_frames_control"] == 40
    json.dumps(out)  # JSON-ready


def rotate_about_bond(atoms: Atoms, a: int, b: int, angle_deg: float) -> np.ndarray:
    """Positions with the part of the molecule on b's side of bond a-b turned about a->b."""
    i, j, _ = bond_pairs(atoms)
    neighbours: dict[int, set[int]] = {}
    for p, q in zip(i.tolist(), j.tolist(), strict=True):
        if {p, q} != {a, b}:
            neighbours.setdefault(p, set()).add(q)
            neighbours.setdefault(q, set()).add(p)
    side, todo = {b}, [b]
    while todo:
        for n in neighbours.get(todo.pop(), set()) - side:
            side.add(n)
            todo.append(n)
    pos = atoms.positions.copy()
    axis = pos[b] - pos[a]
    rot = Rotation.from_rotvec(np.radians(angle_deg) * axis / np.linalg.norm(axis))
    moving = sorted(side)
    pos[moving] = rot.apply(pos[moving] - pos[b]) + pos[b]
    return pos


def test_disjoint_phi_psi_densities_give_js_of_1() -> None:
    ala = alanine_dipeptide()
    found = alanine_dipeptide_phi_psi_indices(ala)
    assert found is not None
    _, n, ca, _ = found[0]  # phi = C-N-CA-C': turning about N-CA moves phi only
    turned = ala.copy()
    turned.positions = rotate_about_bond(ala, n, ca, 180.0)
    bonds = bond_pairs(ala)
    control = sample(ala, jittered(ala, 30, 0.005, seed=8))
    model = sample(ala, jittered(turned, 30, 0.005, seed=9))
    out = equilibrium_observables(model, control, bonds=bonds)
    assert out["dihedral_js"] == pytest.approx(1.0)
    same = equilibrium_observables(control, control, bonds=bonds)
    assert same["dihedral_js"] == 0.0


def test_dihedral_and_vdos_not_applicable() -> None:
    w = water()
    run = sample(w, jittered(w, 10, 0.01, seed=10))  # not a peptide, no velocities
    out = equilibrium_observables(run, run, bonds=bond_pairs(w))
    assert out["dihedral_js"] is None
    assert out["vdos_w1_THz"] is None
    assert out["rdf_w1_A"] == 0.0


def test_fewer_than_two_frames_give_none() -> None:
    w = water()
    one = sample(w, w.positions[None])
    two = sample(w, jittered(w, 2, 0.01, seed=11))
    out = equilibrium_observables(one, two, bonds=bond_pairs(w))
    assert out["n_frames_model"] == 1
    assert out["n_frames_control"] == 2
    assert all(out[k] is None for k in OBSERVABLE_METRICS if not k.startswith("n_frames"))


def test_crashed_model_uses_its_finite_frames() -> None:
    w = water()
    pos = jittered(w, 10, 0.01, seed=12)
    pos[6:] = np.nan
    out = equilibrium_observables(
        sample(w, pos), sample(w, jittered(w, 10, 0.01, seed=13)), bonds=bond_pairs(w)
    )
    assert out["n_frames_model"] == 6
    assert out["rdf_w1_A"] is not None
    assert out["rdf_w1_A"] < 0.05


def test_types_present_in_only_one_run_are_skipped() -> None:
    out = _w1_by_type({"C-H": np.ones(3), "H-O": np.ones(3)}, {"C-H": np.ones(3) + 0.2})
    assert out == {"C-H": pytest.approx(0.2)}


def test_different_systems_are_refused() -> None:
    w = water()
    other = TrajectorySample(positions=jittered(w, 3, 0.01, seed=14), numbers=np.array([8, 1, 6]))
    with pytest.raises(ValueError, match="atomic numbers"):
        equilibrium_observables(
            other, sample(w, jittered(w, 3, 0.01, 15)), bonds=np.array([[0, 1]])
        )


def test_from_atoms_converts_velocities_to_A_per_fs() -> None:
    from ase import units

    w = water()
    w.set_velocities(np.full((3, 3), 1.0 / units.fs))  # 1 Å/fs in ASE units
    run = TrajectorySample.from_atoms([w, w.copy()], frame_interval_ps=0.001)
    assert run.n_frames == 2
    assert run.velocities is not None
    np.testing.assert_allclose(run.velocities, 1.0)
    np.testing.assert_allclose(run.masses_amu, w.get_masses())


# --- observables_noise ------------------------------------------------------------------


def test_noise_of_a_stationary_trajectory_is_small() -> None:
    w = water()
    bonds = bond_pairs(w)
    dt = 0.001
    control = sample(
        w,
        jittered(w, 800, 0.02, seed=16),
        velocities=oscillator_velocities(800, 3, dt, seed=17),
        frame_interval_ps=dt,
    )
    noise = observables_noise(control, bonds=bonds)
    assert set(noise) == set(OBSERVABLE_METRICS)
    assert noise["n_frames_model"] == noise["n_frames_control"] == 400
    # sigma = 0.02 Å per coordinate: W1 of 1200 samples each, a few thousandths of an Å.
    assert noise["rdf_w1_A"] < 0.005
    assert noise["bond_length_w1_A"] < 0.005
    assert noise["bond_angle_w1_deg"] < 0.5
    assert noise["vdos_w1_THz"] < 1.0  # one bin of the half-length spectrum is 5 THz
    # A model with 0.1 Å longer O-H bonds stands far above that floor.
    stretched = water(r_A=0.9572 + 0.1)
    model = sample(stretched, jittered(stretched, 800, 0.02, seed=18))
    out = equilibrium_observables(model, control, bonds=bonds)
    assert out["bond_length_w1_A"] == pytest.approx(0.1, abs=0.01)
    assert out["bond_length_w1_A"] > 10 * noise["bond_length_w1_A"]
