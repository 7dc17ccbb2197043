"""Kinetic-energy distribution check against the canonical gamma distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from mdval.metrics.ensemble import ENSEMBLE_METRICS, KE_MIN_SAMPLES, ke_distribution_p
from mdval.units import KB_EV_PER_K

N_DOF = 30  # 11 atoms, 3N - 3
T_K = 300.0


def canonical_ekin(temperature_K: float, size: int, seed: int) -> np.ndarray:
    """Independent kinetic energies (eV) from gamma(n_dof/2, k_B T)."""
    dist = stats.gamma(a=N_DOF / 2, scale=KB_EV_PER_K * temperature_K)
    return dist.rvs(size=size, random_state=np.random.default_rng(seed))


def test_canonical_samples_are_accepted() -> None:
    out = ke_distribution_p(canonical_ekin(T_K, 2000, seed=1), N_DOF, T_K)
    assert set(out) == set(ENSEMBLE_METRICS)
    assert out["ke_distribution_p"] is not None
    assert out["ke_distribution_p"] > 0.01
    assert "Kolmogorov-Smirnov" in out["ke_distribution_test"]
    assert 1000 < out["ke_n_independent"] <= 2000  # independent: little is dropped


def test_samples_at_1_3_T_are_rejected() -> None:
    out = ke_distribution_p(canonical_ekin(1.3 * T_K, 2000, seed=2), N_DOF, T_K)
    assert out["ke_distribution_p"] is not None
    assert out["ke_distribution_p"] < 1e-3


def correlated_canonical_ekin(temperature_K: float, size: int, rho: float, seed: int) -> np.ndarray:
    """Canonical marginal, AR(1) correlation: gamma quantiles of a unit AR(1) Gaussian series.

    The statistical inefficiency is about (1 + rho) / (1 - rho) (39 for rho = 0.95).
    """
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=size) * np.sqrt(1.0 - rho**2)
    noise[0] = rng.normal()  # start in the stationary distribution
    z = signal.lfilter([1.0], [1.0, -rho], noise)
    dist = stats.gamma(a=N_DOF / 2, scale=KB_EV_PER_K * temperature_K)
    return np.asarray(dist.ppf(stats.norm.cdf(z)))


def test_correlated_series_is_subsampled() -> None:
    """MD-like correlated frames pass after decorrelation; taken as independent they fail."""
    ekin = correlated_canonical_ekin(T_K, 4000, rho=0.95, seed=0)
    out = ke_distribution_p(ekin, N_DOF, T_K)
    assert out["ke_n_independent"] < ekin.size // 20
    assert out["ke_distribution_p"] is not None
    assert out["ke_distribution_p"] > 0.01
    naive = ke_distribution_p(ekin, N_DOF, T_K, data_is_uncorrelated=True)
    assert naive["ke_n_independent"] == ekin.size
    assert naive["ke_distribution_p"] is not None
    assert naive["ke_distribution_p"] < 1e-6


def test_too_few_samples_give_no_p_value() -> None:
    out = ke_distribution_p(canonical_ekin(T_K, KE_MIN_SAMPLES - 1, seed=4), N_DOF, T_K)
    assert out["ke_distribution_p"] is None
    assert out["ke_n_independent"] == KE_MIN_SAMPLES - 1


def test_invalid_input_raises() -> None:
    with pytest.raises(ValueError, match="n_dof"):
        ke_distribution_p(np.ones(20), 0, T_K)
    with pytest.raises(ValueError, match="non-finite"):
        ke_distribution_p(np.array([1.0, np.nan] * 10), N_DOF, T_K)
