"""Running statistics of the live view against closed-form answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from dashboard import live


def _cols(
    t: np.ndarray, etot: np.ndarray, ekin: np.ndarray, *, phase: str = "production", start: int = 0
) -> dict:
    n = len(t)
    return {
        "phase": [phase] * n,
        "time_ps": t.tolist(),
        "etot_eV": etot.tolist(),
        "ekin_eV": ekin.tolist(),
        "epot_eV": (etot - ekin).tolist(),
        "temperature_K": (300 * ekin).tolist(),
        "inference_ms": [2.0] * n,
        "next_after_seq": start + n - 1,
    }


def _state(n_atoms: int = 10, eq: float = 0.0) -> dict:
    return live.new_state(
        {"id": 1, "n_atoms": n_atoms, "equilibration_ps": eq, "status": "running"}
    )


def test_incremental_drift_equals_the_least_squares_slope() -> None:
    # E_tot(t) = -900 + 0.002 t (eV, t in ps), E_kin = 0.5 eV: slope 2 meV/ps over 10 atoms
    t = np.linspace(0.0, 2.0, 201)
    etot, ekin = -900.0 + 0.002 * t, np.full_like(t, 0.5)
    state = _state()
    for chunk in np.array_split(np.arange(t.size), 7):  # arrives in pieces, as polled
        live.absorb_thermo(state, _cols(t[chunk], etot[chunk], ekin[chunk], start=int(chunk[0])))
    drift = live.drift_of(state)
    assert drift is not None
    assert drift["drift_meV_per_atom_per_ps"] == pytest.approx(0.2, rel=1e-9)
    # 100 |slope T| / <E_kin> = 100 * 0.002 * 2 / 0.5
    assert drift["drift_percent"] == pytest.approx(0.8, rel=1e-9)
    assert state["after_seq"] == 200 and state["points"] == 201


def test_points_are_relative_to_the_first_production_record_and_equilibration_is_shifted() -> None:
    state = _state(eq=0.5)
    eq = _cols(
        np.array([0.0, 0.25]), np.array([-10.0, -10.1]), np.array([1.0, 1.0]), phase="equilibration"
    )
    points = live.absorb_thermo(state, eq)
    assert points["t"] == [-0.5, -0.25] and points["t_prod"] == []
    prod = _cols(np.array([0.0, 0.1]), np.array([-10.0, -9.999]), np.array([1.0, 1.0]), start=2)
    points = live.absorb_thermo(state, prod)
    assert points["t"] == [0.0, 0.1]
    assert points["detot_meV"] == pytest.approx([0.0, 1.0])


def test_provisional_metrics_combine_thermo_and_force_errors() -> None:
    state = _state()
    t = np.linspace(0, 1, 11)
    live.absorb_thermo(state, _cols(t, -5 + 0 * t, 0.2 + 0 * t))
    body = {
        "samples": [
            {"force_rmse_eV_per_A": 0.3, "per_atom_error_eV_per_A": [0.1, 0.2]},
            {"force_rmse_eV_per_A": 0.4, "per_atom_error_eV_per_A": [0.3]},
        ],
        "next_after_seq": 1,
    }
    values = live.absorb_force_errors(state, body)
    metrics = live.provisional_metrics(state)
    assert values == [0.1, 0.2, 0.3]
    assert metrics["force_rmse_eV_per_A"] == pytest.approx(math.sqrt((0.09 + 0.16) / 2))
    assert metrics["inference_ms_per_step"] == 2.0
    assert metrics["stable_duration_ps"] == pytest.approx(1.0)
    assert metrics["drift_percent"] == pytest.approx(0.0, abs=1e-9)
    assert metrics["crashed"] is False


def test_a_nan_record_does_not_poison_the_statistics() -> None:
    state = _state()
    t = np.linspace(0, 1, 5)
    etot = np.array([-1.0, -1.0, -1.0, -1.0, np.nan])
    live.absorb_thermo(state, _cols(t, etot, np.full(5, 0.5)))
    assert state["sums"]["n"] == 4 and math.isfinite(state["sums"]["e"])


def test_running_drift_curve_matches_the_incremental_value_at_the_end() -> None:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 1001)
    etot = -900 + 1e-3 * t + 1e-4 * rng.normal(size=t.size)
    ekin = 0.8 + 0.05 * rng.normal(size=t.size)
    state = _state()
    live.absorb_thermo(state, _cols(t, etot, ekin))
    tt, curve = live.running_drift_curve(t, etot, ekin, max_points=50)
    assert len(tt) <= 50 and tt[-1] == t[-1]
    drift = live.drift_of(state)
    assert drift is not None
    assert curve[-1] == pytest.approx(drift["drift_percent"], rel=1e-6)


def test_histogram_bins_have_a_fixed_width_and_grow() -> None:
    hist: dict[str, Any] = {"width": None, "counts": []}
    assert live.bin_values(hist, [0.01, 0.02, float("nan")], span=0.4)
    assert hist["width"] == pytest.approx(0.01) and sum(hist["counts"]) == 2
    live.bin_values(hist, [1.005])  # beyond the first span: more bins, same width
    assert hist["width"] == pytest.approx(0.01) and len(hist["counts"]) == 101
    assert hist["counts"][100] == 1
    assert not live.bin_values(hist, [])
