"""Energy conservation of an NVE segment, temperature and degrees of freedom.

Definitions follow METRICS.md ("Energy conservation"). Time is in ps here, never in ASE time
units: one ASE time unit is about 10.18 fs, and passing ASE time would scale every drift by
that factor. Convert with :func:`mdval.units.ase_to_ps` before calling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mdval.metrics.statistics import slope_with_stderr
from mdval.units import KB_EV_PER_K

#: The keys of :func:`energy_conservation`, in report order.
ENERGY_METRICS: tuple[str, ...] = (
    "drift_meV_per_atom_per_ps",
    "drift_percent",
    "max_deviation_percent",
    "fluctuation_ratio",
    "drift_percent_of_total_energy",
    "drift_stderr_meV_per_atom_per_ps",
    "drift_resolved",
)

#: Drift is resolved when |slope| exceeds this many standard errors (LAMBench uses 3σ).
DRIFT_RESOLVED_SIGMA: float = 3.0


def _as_series(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def energy_conservation(
    time_ps: ArrayLike,
    etot_eV: ArrayLike,
    ekin_eV: ArrayLike,
    n_atoms: int,
) -> dict[str, float | bool | None]:
    """Energy-conservation metrics of one NVE production segment.

    Parameters
    ----------
    time_ps
        (R,) record times in ps (not ASE time units).
    etot_eV
        (R,) total energy E_pot + E_kin in eV at those times.
    ekin_eV
        (R,) kinetic energy in eV at those times.
    n_atoms
        Number of atoms N, for the per-atom drift.

    Returns
    -------
    dict
        Exactly the keys of :data:`ENERGY_METRICS`. A value is ``None`` where it is
        undefined: fewer than two records or zero time span (every value), zero mean kinetic
        energy (the ``*_percent`` shares of it), zero kinetic-energy variance
        (``fluctuation_ratio``), E_tot,0 = 0 (``drift_percent_of_total_energy``).
        ``drift_meV_per_atom_per_ps`` keeps its sign; the other values are non-negative.
        ``drift_stderr_meV_per_atom_per_ps`` is the slope's standard error, corrected for
        the autocorrelation of the residuals (:func:`mdval.metrics.statistics.slope_with_stderr`);
        ``drift_resolved`` says whether |slope| > 3 stderr (None with fewer than 3 records).
    """
    t = _as_series(time_ps, "time_ps")
    etot = _as_series(etot_eV, "etot_eV")
    ekin = _as_series(ekin_eV, "ekin_eV")
    if not (t.shape == etot.shape == ekin.shape):
        raise ValueError(
            f"time_ps, etot_eV and ekin_eV differ in length: {t.size}, {etot.size}, {ekin.size}"
        )
    if n_atoms < 1:
        raise ValueError(f"n_atoms must be at least 1, got {n_atoms}")

    out: dict[str, float | bool | None] = dict.fromkeys(ENERGY_METRICS)
    if t.size < 2:
        return out
    # Centre both series before the fit: E_tot is ~ -900 eV while the drift is ~ meV.
    dt = t - t.mean()
    de = etot - etot.mean()
    sxx = float(np.dot(dt, dt))
    if sxx == 0.0:
        return out
    slope_eV_per_ps = float(np.dot(dt, de)) / sxx
    residual = de - slope_eV_per_ps * dt
    duration_ps = float(t[-1] - t[0])

    out["drift_meV_per_atom_per_ps"] = 1000.0 * slope_eV_per_ps / n_atoms
    _, stderr_eV_per_ps, _ = slope_with_stderr(dt, de)
    if np.isfinite(stderr_eV_per_ps):
        out["drift_stderr_meV_per_atom_per_ps"] = 1000.0 * stderr_eV_per_ps / n_atoms
        out["drift_resolved"] = bool(abs(slope_eV_per_ps) > DRIFT_RESOLVED_SIGMA * stderr_eV_per_ps)
    mean_ekin = float(ekin.mean())
    if mean_ekin > 0.0:
        out["drift_percent"] = 100.0 * abs(slope_eV_per_ps * duration_ps) / mean_ekin
        out["max_deviation_percent"] = 100.0 * float(np.max(np.abs(etot - etot[0]))) / mean_ekin
    std_ekin = float(ekin.std())
    if std_ekin > 0.0:
        out["fluctuation_ratio"] = float(residual.std()) / std_ekin
    if etot[0] != 0.0:
        out["drift_percent_of_total_energy"] = 100.0 * abs(etot[-1] - etot[0]) / abs(etot[0])
    return out


def degrees_of_freedom(
    n_atoms: int, *, com_removed: bool, rotation_removed: bool, linear: bool
) -> int:
    """Number of kinetic degrees of freedom N_dof.

    3N, less 3 when the centre-of-mass momentum is removed, less 3 more when the rotation of
    a non-linear molecule is removed (3N - 6), or 2 more for a linear one (3N - 5). A single
    atom has no rotation; two atoms are always linear, whatever ``linear`` says. Never
    negative: one atom with its momentum removed has 0.
    """
    if n_atoms < 1:
        raise ValueError(f"n_atoms must be at least 1, got {n_atoms}")
    n_dof = 3 * n_atoms
    if com_removed:
        n_dof -= 3
    if rotation_removed and n_atoms > 1:
        n_dof -= 2 if (linear or n_atoms == 2) else 3
    return max(n_dof, 0)


def temperature_K(ekin_eV: float | ArrayLike, n_dof: int) -> float | np.ndarray:
    """Kinetic temperature T = 2 E_kin / (N_dof k_B) in K.

    ``ekin_eV`` is a scalar or an array of kinetic energies in eV; the result has its shape.
    ``n_dof`` comes from :func:`degrees_of_freedom` and must be positive.
    """
    if n_dof <= 0:
        raise ValueError(f"temperature needs at least one degree of freedom, got n_dof={n_dof}")
    ekin = np.asarray(ekin_eV, dtype=np.float64)
    temp = 2.0 * ekin / (n_dof * KB_EV_PER_K)
    if temp.ndim == 0:
        return float(temp)
    return temp


def is_linear(positions_A: ArrayLike | Sequence[Sequence[float]], *, rtol: float = 1e-3) -> bool:
    """Whether the atoms lie on one line (a linear molecule: 3N - 5 rather than 3N - 6).

    ``positions_A`` is (N, 3) in Å. Uses the geometric (unit-mass) inertia tensor: the atoms
    are collinear when its smallest principal moment is at most ``rtol`` times its largest.
    Masses do not change whether a set of points is collinear. One or two atoms are linear.
    """
    pos = np.asarray(positions_A, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions_A must have shape (N, 3), got {pos.shape}")
    if pos.shape[0] <= 2:
        return True
    r = pos - pos.mean(axis=0)
    inertia = np.eye(3) * np.sum(r * r) - r.T @ r
    moments = np.linalg.eigvalsh(inertia)  # ascending
    if moments[-1] <= 0.0:  # all atoms on one point
        return True
    return bool(moments[0] <= rtol * moments[-1])
