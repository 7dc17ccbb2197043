"""Statistics of correlated MD time series: statistical inefficiency, means with intervals,
least-squares slopes with standard errors, survival over replicas.

Successive MD records are correlated, so a plain standard error of a mean or of a slope is
too small. The variance is inflated by the *statistical inefficiency* g = 1 + 2 Σ_k ρ_k (the
integrated autocorrelation of the series, summed until the autocorrelation first drops
below zero; the initial-positive-sequence rule of Geyer/Chodera, as pymbar's
``statisticalInefficiency``), so that n / g is the number of independent samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

#: z for a two-sided 95 % normal interval: ``scipy.stats.norm.ppf(0.975)``, written as the
#: literal so that importing this module does not import scipy (the API imports it; a test
#: checks the value against scipy).
Z95: float = 1.959963984540054


def statistical_inefficiency(values: ArrayLike) -> float:
    """g ≥ 1 of a 1-D series (1.0 for fewer than 3 values or a constant series)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    if n < 3:
        return 1.0
    dx = x - x.mean()
    var = float(np.dot(dx, dx)) / n
    if var <= 0.0:
        return 1.0
    # Autocorrelation by FFT (zero-padded), normalised by the overlap n - k.
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(dx, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[:n] / np.arange(n, 0, -1)
    rho = acov / acov[0]
    g = 1.0
    for k in range(1, n - 1):
        if rho[k] <= 0.0:
            break
        g += 2.0 * rho[k] * (1.0 - k / n)
    return max(1.0, float(g))


def mean_ci95(values: ArrayLike) -> tuple[float, float, float]:
    """(mean, half-width of its 95 % interval, statistical inefficiency) of a correlated
    series; the half-width is NaN for fewer than 2 values."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        return math.nan, math.nan, 1.0
    if x.size < 2:
        return float(x[0]), math.nan, 1.0
    g = statistical_inefficiency(x)
    n_eff = max(x.size / g, 1.0)
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(n_eff)
    return float(x.mean()), half, g


def slope_with_stderr(x: ArrayLike, y: ArrayLike) -> tuple[float, float, float]:
    """Least-squares slope of y on x, its standard error corrected for the autocorrelation of
    the residuals, and that statistical inefficiency g.

    The ordinary-least-squares variance of the slope, s² / Σ(x − x̄)², is multiplied by g of
    the residuals. The stderr is NaN with fewer than 3 points or zero spread in x.
    """
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y differ in length: {xs.size} vs {ys.size}")
    if xs.size < 2:
        return math.nan, math.nan, 1.0
    dx = xs - xs.mean()
    dy = ys - ys.mean()
    sxx = float(np.dot(dx, dx))
    if sxx == 0.0:
        return math.nan, math.nan, 1.0
    slope = float(np.dot(dx, dy)) / sxx
    if xs.size < 3:
        return slope, math.nan, 1.0
    residual = dy - slope * dx
    g = statistical_inefficiency(residual)
    s2 = float(np.dot(residual, residual)) / (xs.size - 2)
    return slope, math.sqrt(s2 * g / sxx), g


def survival_curve(
    failure_times_ps: Sequence[float | None], duration_ps: float, *, n_points: int = 101
) -> dict[str, list[float]]:
    """Fraction of replicas not crashed at each time (Kaplan–Meier with every replica
    censored at ``duration_ps`` when it did not crash; a ``None`` time means no crash).

    Returns ``{"time_ps": [...], "alive_fraction": [...]}`` on ``n_points`` even times from
    0 to ``duration_ps``.
    """
    n = len(failure_times_ps)
    times = np.linspace(0.0, float(duration_ps), n_points)
    if n == 0:
        return {"time_ps": times.tolist(), "alive_fraction": [math.nan] * n_points}
    crashed = np.array([t for t in failure_times_ps if t is not None], dtype=np.float64)
    alive = np.array([(crashed <= t).sum() for t in times], dtype=np.float64)
    return {"time_ps": times.tolist(), "alive_fraction": (1.0 - alive / n).tolist()}


def median_time_to_failure(
    failure_times_ps: Sequence[float | None], duration_ps: float
) -> dict[str, float | None]:
    """Median time to failure over replicas, with a distribution-free 95 % interval.

    A replica that did not crash (``None``) is censored at ``duration_ps``. The median is the
    time at which the surviving fraction first drops to one half or below, ``None`` when more
    than half survived (the median lies beyond the run). The interval takes the order
    statistics of ranks given by the binomial(n, 1/2) 2.5 % quantile; a bound that falls on a
    censored replica is ``None`` (beyond the run); with too few replicas for a lower rank
    (n < 6) the lower bound is 0.
    """
    n = len(failure_times_ps)
    crashes = sorted(float(t) for t in failure_times_ps if t is not None)

    def order_stat(rank: int) -> float | None:  # 1-based rank among all n replicas
        return crashes[rank - 1] if 1 <= rank <= len(crashes) else None

    if n == 0:
        return {"median_ps": None, "ci95_low_ps": None, "ci95_high_ps": None}
    from scipy import stats  # here, not at the top: importing this module stays light

    lo = int(stats.binom.ppf(0.025, n, 0.5))  # rank of the lower bound (0: none)
    hi = n - lo + 1
    return {
        "median_ps": order_stat(math.ceil(n / 2)),
        "ci95_low_ps": order_stat(lo) if lo >= 1 else 0.0,
        "ci95_high_ps": order_stat(hi),
    }
