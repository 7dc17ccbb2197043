"""Vibrational density of states from the mass-weighted velocity autocorrelation.

Definitions follow METRICS.md ("Equilibrium observables", ``vdos_w1_THz``). Velocities are in
Å/fs (not ASE units: multiply ASE velocities by ``ase.units.fs``), masses in amu, the frame
interval in ps, so that frequencies come out in THz (1/ps).
"""

from __future__ import annotations

import numpy as np
import tidynamics
from numpy.typing import ArrayLike
from scipy.integrate import trapezoid
from scipy.stats import wasserstein_distance

#: Fewest frames for which :func:`vdos` is defined (three lags of the half-length default).
VDOS_MIN_FRAMES: int = 4

#: A spectrum: ``(freq_THz, density_per_THz)``, both (K,).
Spectrum = tuple[np.ndarray, np.ndarray]


def _velocity_frames(velocities_A_per_fs: ArrayLike) -> np.ndarray:
    v = np.asarray(velocities_A_per_fs, dtype=np.float64)
    if v.ndim != 3 or v.shape[2] != 3:
        raise ValueError(f"velocities must have shape (frames, N, 3), got {v.shape}")
    return v


def mass_weighted_vacf(
    velocities_A_per_fs: ArrayLike, masses_amu: ArrayLike, *, n_lags: int | None = None
) -> np.ndarray:
    """(n_lags,) C(t) = sum_i m_i <v_i(0) . v_i(t)> in amu Å²/fs², lags 0, 1, ... frames.

    ``velocities_A_per_fs`` (F, N, 3), ``masses_amu`` (N,). The average runs over all time
    origins (tidynamics' FFT correlation, unbiased: lag t averages F - t origins), the sum over
    atoms and Cartesian components. ``n_lags`` defaults to all F lags. C(0) is twice the mean
    kinetic energy in amu Å²/fs².
    """
    v = _velocity_frames(velocities_A_per_fs)
    m = np.asarray(masses_amu, dtype=np.float64).ravel()
    if m.size != v.shape[1]:
        raise ValueError(f"{m.size} masses for {v.shape[1]} atoms")
    if np.any(m <= 0.0):
        raise ValueError("masses must be positive")
    n_frames = v.shape[0]
    lags = n_frames if n_lags is None else int(n_lags)
    if not 1 <= lags <= n_frames:
        raise ValueError(f"n_lags must be in [1, {n_frames}], got {lags}")
    weighted = (v * np.sqrt(m)[None, :, None]).reshape(n_frames, -1)  # (F, 3N)
    c = np.asarray(tidynamics.acf(weighted), dtype=np.float64)
    return c[:lags]


def vdos(
    velocities_A_per_fs: ArrayLike,
    masses_amu: ArrayLike,
    frame_interval_ps: float,
    *,
    max_lag_ps: float | None = None,
) -> Spectrum:
    """Vibrational density of states: the windowed Fourier transform of the mass-weighted VACF.

    Parameters
    ----------
    velocities_A_per_fs
        (F, N, 3) velocities in Å/fs at equally spaced frames, F >= :data:`VDOS_MIN_FRAMES`.
    masses_amu
        (N,) masses in amu.
    frame_interval_ps
        Time between frames in ps.
    max_lag_ps
        Longest lag of the VACF that enters the transform, in ps. Default: half the
        trajectory (lags beyond it average over fewer than half of the time origins). Sets
        the resolution: the frequency bin is 1 / (2 * max_lag_ps) THz.

    Returns
    -------
    (freq_THz, density_per_THz)
        (L,) frequencies 0, df, ..., 1 / (2 * frame_interval_ps) (the Nyquist frequency) in
        THz and the density on them, normalised to integrate to 1 (trapezoid rule).

    The VACF C(t) (:func:`mass_weighted_vacf`) over lags 0..L-1 is multiplied by the falling
    half of a Hann window, w(t) = (1 + cos(pi t / (L-1))) / 2, and transformed as an even
    function: D(f) ~ C(0) + 2 sum_t w(t) C(t) cos(2 pi f t). The window's side lobes can
    make D slightly negative; those values are set to 0 before normalising. Raises
    ValueError when the spectrum is zero (all velocities zero).
    """
    v = _velocity_frames(velocities_A_per_fs)
    n_frames = v.shape[0]
    if n_frames < VDOS_MIN_FRAMES:
        raise ValueError(f"a VDOS needs at least {VDOS_MIN_FRAMES} frames, got {n_frames}")
    dt = float(frame_interval_ps)
    if not dt > 0.0:
        raise ValueError(f"frame_interval_ps must be positive, got {frame_interval_ps}")
    half = n_frames // 2 + 1
    n_lags = half if max_lag_ps is None else min(n_frames, round(max_lag_ps / dt) + 1)
    if n_lags < 3:
        raise ValueError(f"max_lag_ps={max_lag_ps} leaves {n_lags} lags; at least 3 are needed")
    c = mass_weighted_vacf(v, masses_amu, n_lags=n_lags)
    window = 0.5 * (1.0 + np.cos(np.pi * np.arange(n_lags) / (n_lags - 1)))
    cw = c * window
    even = np.concatenate([cw, cw[-2:0:-1]])  # length 2L - 2, the periodic even extension
    density = np.clip(np.fft.rfft(even).real * dt, 0.0, None)
    freq = np.fft.rfftfreq(even.size, d=dt)
    area = float(trapezoid(density, freq))
    if not area > 0.0:
        raise ValueError("the VDOS is zero everywhere (zero velocities?)")
    return freq, density / area


def vdos_w1_THz(a: Spectrum, b: Spectrum) -> float:
    """Wasserstein-1 distance in THz between two spectra as distributions over frequency.

    ``a`` and ``b`` are ``(freq_THz, density)`` pairs as returned by :func:`vdos`, each (K,)
    (K may differ between them). Each spectrum is the discrete distribution with mass
    proportional to its density at its grid frequencies
    (:func:`scipy.stats.wasserstein_distance` with ``u_weights`` / ``v_weights``). Equal bin
    widths within a grid make that the binned density, so spectra on different axes (other
    frame interval or length) are compared directly, with no interpolation onto a common grid.
    """
    values = []
    for name, (freq, density) in (("a", a), ("b", b)):
        f = np.asarray(freq, dtype=np.float64).ravel()
        d = np.asarray(density, dtype=np.float64).ravel()
        if f.shape != d.shape:
            raise ValueError(f"spectrum {name}: {f.size} frequencies but {d.size} densities")
        if np.any(d < 0.0) or not d.sum() > 0.0:
            raise ValueError(f"spectrum {name} must be non-negative with a positive total")
        values.append((f, d))
    (fa, da), (fb, db) = values
    return float(wasserstein_distance(fa, fb, u_weights=da, v_weights=db))
