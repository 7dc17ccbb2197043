"""Statistics of correlated series against closed-form cases, and the drift's resolution."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mdval.metrics.energy import energy_conservation
from mdval.metrics.statistics import (
    Z95,
    mean_ci95,
    median_time_to_failure,
    slope_with_stderr,
    statistical_inefficiency,
    survival_curve,
)


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    """x_t = φ x_{t-1} + ε_t, started from its stationary distribution."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(size=n)
    x = np.empty(n)
    x[0] = eps[0] / math.sqrt(1.0 - phi * phi)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + eps[t]
    return x


# --- statistical inefficiency --------------------------------------------------------------


def test_white_noise_has_g_near_one() -> None:
    g = statistical_inefficiency(np.random.default_rng(0).normal(size=100_000))
    assert g >= 1.0
    assert g == pytest.approx(1.0, abs=0.2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ar1_has_g_of_one_plus_phi_over_one_minus_phi(seed: int) -> None:
    phi = 0.9
    expected = (1.0 + phi) / (1.0 - phi)  # 19
    g = statistical_inefficiency(ar1(phi, 200_000, seed))
    assert g == pytest.approx(expected, rel=0.3)


@pytest.mark.parametrize("values", [[], [1.0], [1.0, 2.0], [3.0] * 50])
def test_g_is_one_when_undefined(values: list[float]) -> None:
    assert statistical_inefficiency(values) == 1.0


def test_g_is_never_below_one() -> None:
    # An alternating series is anti-correlated: g would be < 1, it is clipped to 1.
    assert statistical_inefficiency(np.tile([1.0, -1.0], 500)) == 1.0


# --- mean with its 95 % interval -------------------------------------------------------------


def test_z95() -> None:
    assert math.isclose(Z95, 1.959964, abs_tol=1e-6)


def test_z95_literal_is_scipys_normal_quantile() -> None:
    """Z95 is written as a literal (importing the module stays free of scipy); it is scipy's."""
    from scipy import stats

    assert float(stats.norm.ppf(0.975)) == Z95


def test_mean_ci95_of_iid_normal_covers_the_true_mean_about_95_percent() -> None:
    rng = np.random.default_rng(42)
    true_mean = 3.0
    trials = 400
    covered = 0
    for _ in range(trials):
        mean, half, g = mean_ci95(rng.normal(true_mean, 2.0, size=200))
        assert half > 0.0 and g >= 1.0
        covered += abs(mean - true_mean) <= half
    assert 0.90 <= covered / trials <= 0.99


def test_mean_ci95_of_iid_normal_has_the_plain_half_width() -> None:
    x = np.random.default_rng(7).normal(size=10_000)
    mean, half, g = mean_ci95(x)
    assert mean == pytest.approx(float(x.mean()))
    assert half == pytest.approx(Z95 * float(x.std(ddof=1)) / math.sqrt(x.size / g))
    assert half == pytest.approx(Z95 / math.sqrt(x.size), rel=0.15)


def test_mean_ci95_widens_by_sqrt_g_for_a_correlated_series() -> None:
    x = ar1(0.9, 100_000, seed=5)
    _, half, g = mean_ci95(x)
    assert g == pytest.approx(19.0, rel=0.3)
    plain = Z95 * float(x.std(ddof=1)) / math.sqrt(x.size)
    assert half == pytest.approx(plain * math.sqrt(g))


def test_mean_ci95_of_too_few_values() -> None:
    mean, half, g = mean_ci95([])
    assert math.isnan(mean) and math.isnan(half) and g == 1.0
    mean, half, g = mean_ci95([2.5])
    assert mean == 2.5 and math.isnan(half) and g == 1.0


# --- slope with its standard error -----------------------------------------------------------


def test_slope_of_an_exact_line_is_exact_with_zero_stderr() -> None:
    x = np.linspace(0.0, 10.0, 101)
    slope, stderr, _ = slope_with_stderr(x, 2.5 * x - 7.0)
    assert slope == pytest.approx(2.5, rel=1e-12)
    assert stderr == pytest.approx(0.0, abs=1e-12)


def test_slope_stderr_of_a_noisy_line_matches_ols() -> None:
    rng = np.random.default_rng(11)
    x = np.linspace(0.0, 1.0, 5_000)
    sigma = 0.3
    y = 1.5 * x + rng.normal(0.0, sigma, size=x.size)
    slope, stderr, g = slope_with_stderr(x, y)
    ols = sigma / math.sqrt(float(np.sum((x - x.mean()) ** 2)))
    assert g == pytest.approx(1.0, abs=0.2)
    assert stderr == pytest.approx(ols, rel=0.15)
    assert abs(slope - 1.5) < 4.0 * stderr


def test_slope_undefined_cases() -> None:
    slope, stderr, _ = slope_with_stderr([1.0], [2.0])
    assert math.isnan(slope) and math.isnan(stderr)
    slope, stderr, _ = slope_with_stderr([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert math.isnan(slope) and math.isnan(stderr)
    slope, stderr, _ = slope_with_stderr([0.0, 1.0], [0.0, 3.0])
    assert slope == pytest.approx(3.0) and math.isnan(stderr)
    with pytest.raises(ValueError, match="differ in length"):
        slope_with_stderr([0.0, 1.0], [0.0, 1.0, 2.0])


# --- survival over replicas -------------------------------------------------------------------


def test_survival_curve_of_two_failures_in_four() -> None:
    curve = survival_curve([1.0, 2.0, None, None], 4.0, n_points=9)  # every 0.5 ps
    times, alive = curve["time_ps"], curve["alive_fraction"]
    assert times == pytest.approx([0.5 * k for k in range(9)])
    by_time = dict(zip(times, alive, strict=True))
    assert by_time[0.0] == 1.0
    assert by_time[1.5] == 0.75
    assert by_time[3.0] == 0.5
    assert by_time[4.0] == 0.5  # the two survivors are censored at the run length
    assert all(a >= b for a, b in itertools.pairwise(alive))  # never rises


def test_survival_curve_default_grid() -> None:
    curve = survival_curve([1.0, 2.0, None, None], 4.0)
    assert len(curve["time_ps"]) == len(curve["alive_fraction"]) == 101
    assert curve["time_ps"][0] == 0.0 and curve["time_ps"][-1] == 4.0
    assert curve["alive_fraction"][0] == 1.0 and curve["alive_fraction"][-1] == 0.5


def test_survival_curve_without_replicas_is_undefined() -> None:
    curve = survival_curve([], 1.0, n_points=3)
    assert all(math.isnan(a) for a in curve["alive_fraction"])


def test_median_time_to_failure_is_none_when_fewer_than_half_crashed() -> None:
    assert median_time_to_failure([1.0, None, None], 4.0)["median_ps"] is None
    assert median_time_to_failure([None] * 5, 4.0)["median_ps"] is None
    assert median_time_to_failure([], 4.0)["median_ps"] is None


@pytest.mark.parametrize(
    ("failures", "median"),
    [
        ([1.0, 2.0, None, None], 2.0),  # n = 4: the 2nd failure, survival drops to 1/2
        ([3.0, 1.0, None], 3.0),  # n = 3: ceil(3/2) = 2nd failure
        ([0.5, 0.2, 0.9, 0.1, None], 0.5),  # n = 5: the 3rd failure
        ([4.0, 1.0, 3.0, 2.0], 2.0),  # all crashed
        ([0.7], 0.7),
    ],
)
def test_median_time_to_failure_is_the_ceil_n_half_th_failure(
    failures: list[float | None], median: float
) -> None:
    assert median_time_to_failure(failures, 5.0)["median_ps"] == median


def test_median_time_to_failure_interval() -> None:
    # n = 20 replicas, all crashed at 1, 2, ..., 20 ps: binomial(20, 1/2) 2.5 % quantile is 6,
    # so the 95 % interval runs from the 6th to the 15th failure.
    out = median_time_to_failure([float(k) for k in range(20, 0, -1)], 25.0)
    assert out == {"median_ps": 10.0, "ci95_low_ps": 6.0, "ci95_high_ps": 15.0}
    # An upper bound on a censored replica lies beyond the run.
    out = median_time_to_failure([float(k) for k in range(1, 11)] + [None] * 10, 25.0)
    assert out["median_ps"] == 10.0 and out["ci95_high_ps"] is None
    # Too few replicas for a lower rank: the lower bound is 0.
    assert median_time_to_failure([1.0, 2.0, 3.0], 5.0)["ci95_low_ps"] == 0.0


# --- drift resolution in energy_conservation ---------------------------------------------------


def test_strong_linear_drift_with_small_noise_is_resolved() -> None:
    rng = np.random.default_rng(3)
    t = np.linspace(0.0, 5.0, 2_001)
    etot = -900.0 + 0.02 * t + rng.normal(0.0, 1e-3, size=t.size)
    ekin = np.full_like(t, 1.0) + rng.normal(0.0, 0.1, size=t.size)
    out = energy_conservation(t, etot, ekin, n_atoms=22)
    stderr = out["drift_stderr_meV_per_atom_per_ps"]
    drift = out["drift_meV_per_atom_per_ps"]
    assert isinstance(stderr, float) and isinstance(drift, float)
    assert drift == pytest.approx(1000.0 * 0.02 / 22, rel=0.01)
    assert 0.0 < stderr < abs(drift) / 3.0
    assert out["drift_resolved"] is True


def test_pure_noise_is_not_a_resolved_drift() -> None:
    rng = np.random.default_rng(2024)
    t = np.linspace(0.0, 5.0, 2_001)
    etot = -900.0 + rng.normal(0.0, 1e-3, size=t.size)
    ekin = np.full_like(t, 1.0) + rng.normal(0.0, 0.1, size=t.size)
    out = energy_conservation(t, etot, ekin, n_atoms=22)
    stderr = out["drift_stderr_meV_per_atom_per_ps"]
    drift = out["drift_meV_per_atom_per_ps"]
    assert isinstance(stderr, float) and isinstance(drift, float)
    assert stderr > 0.0 and abs(drift) <= 3.0 * stderr
    assert out["drift_resolved"] is False


def test_drift_stderr_of_an_exact_line_is_zero_and_resolved() -> None:
    t = np.linspace(0.0, 2.0, 201)
    out = energy_conservation(t, -900.0 + 0.05 * t, np.full_like(t, 2.0), n_atoms=22)
    assert out["drift_stderr_meV_per_atom_per_ps"] == pytest.approx(0.0, abs=1e-9)
    assert out["drift_resolved"] is True


def test_drift_resolution_is_undefined_with_two_records() -> None:
    out = energy_conservation([0.0, 1.0], [-900.0, -899.9], [1.0, 1.0], n_atoms=3)
    assert out["drift_meV_per_atom_per_ps"] is not None
    assert out["drift_stderr_meV_per_atom_per_ps"] is None
    assert out["drift_resolved"] is None
