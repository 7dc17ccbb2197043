"""Energy-conservation metrics against closed-form cases."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.build import molecule

from mdval.metrics.energy import (
    ENERGY_METRICS,
    degrees_of_freedom,
    energy_conservation,
    is_linear,
    temperature_K,
)
from mdval.units import FS_PER_ASE_TIME, KB_EV_PER_K, ase_to_ps


def test_linear_series_gives_its_slope_in_meV_per_atom_per_ps() -> None:
    t_ps = np.linspace(0.0, 2.0, 201)
    slope_eV_per_ps = 0.05
    etot = -900.0 + slope_eV_per_ps * t_ps
    ekin = np.full_like(t_ps, 2.0)
    out = energy_conservation(t_ps, etot, ekin, n_atoms=22)
    assert set(out) == set(ENERGY_METRICS)
    assert out["drift_meV_per_atom_per_ps"] == pytest.approx(1000.0 * 0.05 / 22, rel=1e-9)


def test_times_from_ase_units_must_be_converted_to_ps() -> None:
    # 1000 steps of 1 fs as an ASE engine keeps them (ASE time units), E_tot rising 1 meV/fs.
    n_atoms = 10
    time_ase = np.arange(1001) * 1.0 * units.fs
    etot = 0.001 * (time_ase / units.fs)  # eV; 1 meV per fs = 1 eV per ps
    ekin = np.full_like(etot, 1.0)
    time_ps = np.array([ase_to_ps(float(t)) for t in time_ase])
    right = energy_conservation(time_ps, etot, ekin, n_atoms)
    right_drift = right["drift_meV_per_atom_per_ps"]
    assert right_drift == pytest.approx(1000.0 * 1.0 / n_atoms, rel=1e-9)
    # The classic bug: ASE time read as fs (then / 1000 to ps) reports drift 10.18x too large.
    wrong = energy_conservation(time_ase / 1000.0, etot, ekin, n_atoms)
    wrong_drift = wrong["drift_meV_per_atom_per_ps"]
    assert wrong_drift is not None and right_drift is not None
    ratio = wrong_drift / right_drift
    assert ratio == pytest.approx(FS_PER_ASE_TIME)
    assert ratio == pytest.approx(10.18, abs=0.01)


def test_drift_sign_is_kept_and_percent_is_closed_form() -> None:
    t_ps = np.linspace(1.0, 6.0, 51)  # T_prod = 5 ps
    etot = -50.0 - 0.02 * t_ps  # loses 0.1 eV over the run
    ekin = np.full_like(t_ps, 4.0)
    out = energy_conservation(t_ps, etot, ekin, n_atoms=5)
    assert out["drift_meV_per_atom_per_ps"] == pytest.approx(-1000.0 * 0.02 / 5)
    assert out["drift_percent"] == pytest.approx(100.0 * 0.1 / 4.0)
    # Zero kinetic-energy variance: the fluctuation ratio is undefined, nothing crashes.
    assert out["fluctuation_ratio"] is None


def test_max_deviation_percent() -> None:
    t_ps = np.array([0.0, 0.1, 0.2, 0.3])
    etot = np.array([-10.0, -9.9, -10.3, -9.95])
    ekin = np.full(4, 1.5)
    out = energy_conservation(t_ps, etot, ekin, n_atoms=3)
    assert out["max_deviation_percent"] == pytest.approx(100.0 * 0.3 / 1.5)


def test_fluctuation_ratio_of_a_cosine_around_a_line() -> None:
    # A grid symmetric about its middle: the even cosine is orthogonal to the centred time,
    # so the fit recovers the line exactly and the residual is the cosine itself.
    t_ps = np.linspace(0.0, 1.0, 401)
    phase = 2.0 * np.pi * 7.0 * (t_ps - 0.5)
    a_eV, b_eV = 0.004, 0.2
    etot = -100.0 + 0.03 * t_ps + a_eV * np.cos(phase)
    ekin = 3.0 + b_eV * np.cos(phase)
    out = energy_conservation(t_ps, etot, ekin, n_atoms=4)
    assert out["fluctuation_ratio"] == pytest.approx(a_eV / b_eV, rel=1e-9)
    assert out["drift_meV_per_atom_per_ps"] == pytest.approx(1000.0 * 0.03 / 4, rel=1e-9)


def test_drift_percent_of_total_energy() -> None:
    t_ps = np.linspace(0.0, 1.0, 11)
    etot = np.linspace(-900.0, -899.1, 11)
    out = energy_conservation(t_ps, etot, np.full(11, 1.0), n_atoms=22)
    assert out["drift_percent_of_total_energy"] == pytest.approx(0.1)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_points_gives_none(n: int) -> None:
    out = energy_conservation(np.zeros(n), np.zeros(n), np.zeros(n), n_atoms=3)
    assert out == dict.fromkeys(ENERGY_METRICS)


def test_zero_time_span_and_zero_kinetic_energy_give_none() -> None:
    assert all(v is None for v in energy_conservation([1.0, 1.0], [0, 1], [1, 1], 2).values())
    out = energy_conservation([0.0, 1.0], [-1.0, -1.1], [0.0, 0.0], 2)
    assert out["drift_percent"] is None
    assert out["max_deviation_percent"] is None
    assert out["drift_meV_per_atom_per_ps"] == pytest.approx(-50.0)


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        energy_conservation([0.0, 1.0], [0.0], [1.0, 1.0], 2)


def test_temperature_closed_form() -> None:
    n_dof = 3 * 22 - 6
    ekin = 0.5 * n_dof * KB_EV_PER_K * 300.0
    assert temperature_K(ekin, n_dof) == pytest.approx(300.0)
    temps = temperature_K(np.array([ekin, 2 * ekin]), n_dof)
    assert isinstance(temps, np.ndarray)
    np.testing.assert_allclose(temps, [300.0, 600.0])
    with pytest.raises(ValueError, match="degree of freedom"):
        temperature_K(1.0, 0)


@pytest.mark.parametrize(
    ("n_atoms", "com", "rot", "linear", "expected"),
    [
        (10, False, False, False, 30),
        (10, True, False, False, 27),
        (10, True, True, False, 24),
        (3, True, True, True, 4),  # CO2: 3N - 5
        (2, True, True, False, 1),  # a diatomic is linear whatever the flag says
        (1, False, False, False, 3),
        (1, True, False, False, 0),
        (1, True, True, False, 0),
        (10, False, True, False, 27),
    ],
)
def test_degrees_of_freedom(
    n_atoms: int, com: bool, rot: bool, linear: bool, expected: int
) -> None:
    assert (
        degrees_of_freedom(n_atoms, com_removed=com, rotation_removed=rot, linear=linear)
        == expected
    )


def test_degrees_of_freedom_rejects_no_atoms() -> None:
    with pytest.raises(ValueError):
        degrees_of_freedom(0, com_removed=True, rotation_removed=False, linear=False)


def test_is_linear() -> None:
    assert is_linear(molecule("CO2").positions)
    assert is_linear(molecule("C2H2").positions)
    assert not is_linear(molecule("H2O").positions)
    assert not is_linear(molecule("CH4").positions)
    assert is_linear([[0.0, 0.0, 0.0]])
    assert is_linear(np.zeros((3, 3)))
