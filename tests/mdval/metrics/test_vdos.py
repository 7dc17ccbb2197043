"""VDOS from the mass-weighted VACF against closed-form spectra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from mdval.metrics.vdos import VDOS_MIN_FRAMES, mass_weighted_vacf, vdos, vdos_w1_THz

DT_PS = 0.001  # 1 fs: Nyquist 500 THz
N_FRAMES = 1000


def oscillator(f_THz: float, n_frames: int = N_FRAMES, dt_ps: float = DT_PS) -> np.ndarray:
    """(F, 1, 3) velocity trace of one harmonic oscillator, v_x(t) = cos(2 pi f t)."""
    t = np.arange(n_frames) * dt_ps
    v = np.zeros((n_frames, 1, 3))
    v[:, 0, 0] = np.cos(2.0 * np.pi * f_THz * t)
    return v


def test_vacf_at_zero_lag_is_sum_of_m_v_squared() -> None:
    v = np.zeros((10, 2, 3))
    v[:, 0] = [1.0, 2.0, 0.0]
    v[:, 1] = [0.0, 0.0, 3.0]
    c = mass_weighted_vacf(v, [2.0, 4.0])
    # Constant velocities: C(t) = 2 * 5 + 4 * 9 at every lag.
    np.testing.assert_allclose(c, 46.0)


def test_oscillator_at_30_THz_peaks_at_30_THz_within_one_bin() -> None:
    freq, density = vdos(oscillator(30.0), [1.0], DT_PS)
    bin_THz = freq[1] - freq[0]
    assert freq[np.argmax(density)] == pytest.approx(30.0, abs=bin_THz)
    assert freq[0] == 0.0
    assert freq[-1] == pytest.approx(1.0 / (2.0 * DT_PS))  # Nyquist


def test_vdos_is_a_normalised_density() -> None:
    freq, density = vdos(oscillator(30.0), [12.0], DT_PS)
    assert np.all(density >= 0.0)
    assert trapezoid(density, freq) == pytest.approx(1.0)


def test_mass_does_not_move_the_peak_but_weights_the_modes() -> None:
    """Two atoms at 20 and 60 THz: the heavier one's mode carries more weight."""
    v = np.concatenate([oscillator(20.0), oscillator(60.0)], axis=1)
    freq, density = vdos(v, [1.0, 9.0], DT_PS)
    peak_20 = density[np.argmin(np.abs(freq - 20.0))]
    peak_60 = density[np.argmin(np.abs(freq - 60.0))]
    assert peak_60 / peak_20 == pytest.approx(9.0, rel=0.05)


def test_w1_between_30_and_40_THz_single_modes_is_10_THz() -> None:
    a = vdos(oscillator(30.0), [1.0], DT_PS)
    b = vdos(oscillator(40.0), [1.0], DT_PS)
    assert vdos_w1_THz(a, b) == pytest.approx(10.0, abs=0.1)
    assert vdos_w1_THz(a, a) == 0.0


def test_w1_compares_spectra_on_different_axes() -> None:
    """Half the frame rate: other grid, same mode; the distance stays below a bin."""
    a = vdos(oscillator(30.0), [1.0], DT_PS)
    b = vdos(oscillator(30.0, n_frames=N_FRAMES // 2, dt_ps=2 * DT_PS), [1.0], 2 * DT_PS)
    assert a[0].size != b[0].size
    assert vdos_w1_THz(a, b) < a[0][1] - a[0][0]


def test_too_few_frames_or_zero_velocities_raise() -> None:
    with pytest.raises(ValueError, match="at least"):
        vdos(oscillator(30.0, n_frames=VDOS_MIN_FRAMES - 1), [1.0], DT_PS)
    with pytest.raises(ValueError, match="zero"):
        vdos(np.zeros((20, 1, 3)), [1.0], DT_PS)
