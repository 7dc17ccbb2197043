"""Force and energy accuracy of a model against the reference, along the model's trajectory.

F are the model's forces and G the reference's, in eV/Å, both (frames, N, 3) or (N, 3) for a
single frame. Definitions follow METRICS.md ("Force accuracy along the model's own
trajectory"); every mean runs over all sampled frames, atoms and components.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Atoms whose reference force is at most this (eV/Å) have no meaningful direction; they are
#: left out of the angle and relative-magnitude errors.
ANGLE_MIN_FORCE_EV_PER_A: float = 0.05

#: The keys of :func:`force_accuracy`, in report order.
FORCE_METRICS: tuple[str, ...] = (
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_rmse_xyz_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "force_magnitude_rel_error",
    "energy_rmse_meV_per_atom",
)


def _per_atom_vectors(F: ArrayLike, G: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """F and G as (M, 3) float64, M = frames x atoms; checks that the shapes agree."""
    f = np.asarray(F, dtype=np.float64)
    g = np.asarray(G, dtype=np.float64)
    if f.shape != g.shape:
        raise ValueError(f"model and reference forces differ in shape: {f.shape} vs {g.shape}")
    if f.ndim not in (2, 3) or f.shape[-1] != 3:
        raise ValueError(f"forces must have shape (frames, N, 3) or (N, 3), got {f.shape}")
    return f.reshape(-1, 3), g.reshape(-1, 3)


def per_atom_error_norms(F: ArrayLike, G: ArrayLike) -> np.ndarray:
    """(M,) |F_i - G_i| in eV/Å for every atom of every frame (M = frames x N), frame-major."""
    f, g = _per_atom_vectors(F, G)
    return np.linalg.norm(f - g, axis=1)


def angle_errors_deg(
    F: ArrayLike, G: ArrayLike, *, min_force_eV_per_A: float = ANGLE_MIN_FORCE_EV_PER_A
) -> np.ndarray:
    """(K,) angle between F_i and G_i in degrees, in [0, 180], for the K atoms with |G_i| > min.

    Computed as atan2(|F_i x G_i|, F_i . G_i), which is the arccos of METRICS.md but accurate
    near 0 and 180 degrees. An atom whose model force is exactly zero counts as 90 degrees.
    """
    f, g = _per_atom_vectors(F, G)
    keep = np.linalg.norm(g, axis=1) > min_force_eV_per_A
    f, g = f[keep], g[keep]
    cross = np.linalg.norm(np.cross(f, g), axis=1)
    dot = np.einsum("ij,ij->i", f, g)
    return np.degrees(np.arctan2(cross, dot))


def force_accuracy(
    F: ArrayLike,
    G: ArrayLike,
    E: ArrayLike | None = None,
    E_ref: ArrayLike | None = None,
    n_atoms: int | None = None,
) -> dict[str, float | list[float] | None]:
    """Force (and optionally energy) accuracy metrics of METRICS.md.

    Parameters
    ----------
    F, G
        Model and reference forces in eV/Å, (frames, N, 3) or (N, 3).
    E, E_ref
        Optional (frames,) model and reference potential energies in eV of the same frames.
    n_atoms
        Atoms per frame for the per-atom energy error; defaults to N of ``F``.

    Returns
    -------
    dict
        Exactly the keys of :data:`FORCE_METRICS`. ``force_rmse_xyz_eV_per_A`` is a list of
        three floats (x, y, z). A value is ``None`` where undefined: no force components at
        all; ``force_r2`` when the reference forces do not vary; the angle and magnitude
        errors when no atom has |G_i| > 0.05 eV/Å; the energy RMSE when ``E`` or ``E_ref`` is
        missing or empty. The energy RMSE is taken after removing the mean offset E - E_ref
        (a model may have any energy zero), then divided by the atom count.
    """
    f, g = _per_atom_vectors(F, G)
    out: dict[str, float | list[float] | None] = dict.fromkeys(FORCE_METRICS)
    out["energy_rmse_meV_per_atom"] = _energy_rmse_meV_per_atom(
        E, E_ref, n_atoms if n_atoms is not None else np.shape(F)[-2]
    )
    if f.shape[0] == 0:
        return out

    diff = f - g
    out["force_rmse_eV_per_A"] = float(np.sqrt(np.mean(diff**2)))
    out["force_mae_eV_per_A"] = float(np.mean(np.abs(diff)))
    out["force_rmse_xyz_eV_per_A"] = [float(v) for v in np.sqrt(np.mean(diff**2, axis=0))]
    ss_tot = float(np.sum((g - g.mean()) ** 2))
    if ss_tot > 0.0:
        out["force_r2"] = 1.0 - float(np.sum(diff**2)) / ss_tot

    g_norm = np.linalg.norm(g, axis=1)
    keep = g_norm > ANGLE_MIN_FORCE_EV_PER_A
    if np.any(keep):
        out["force_angle_error_deg"] = float(np.mean(angle_errors_deg(f, g)))
        f_norm = np.linalg.norm(f[keep], axis=1)
        out["force_magnitude_rel_error"] = float(
            np.mean(np.abs(f_norm - g_norm[keep]) / g_norm[keep])
        )
    return out


def _energy_rmse_meV_per_atom(
    E: ArrayLike | None, E_ref: ArrayLike | None, n_atoms: int
) -> float | None:
    """RMSE of (E - E_ref) after removing its mean, in meV per atom; None without energies."""
    if E is None or E_ref is None:
        return None
    e = np.atleast_1d(np.asarray(E, dtype=np.float64))
    e_ref = np.atleast_1d(np.asarray(E_ref, dtype=np.float64))
    if e.shape != e_ref.shape or e.ndim != 1:
        raise ValueError(f"E and E_ref must both be (frames,), got {e.shape} and {e_ref.shape}")
    if e.size == 0:
        return None
    if n_atoms < 1:
        raise ValueError(f"n_atoms must be at least 1, got {n_atoms}")
    d = e - e_ref
    d = d - d.mean()
    return 1000.0 * float(np.sqrt(np.mean(d**2))) / n_atoms


def force_histogram(
    errors: ArrayLike,
    bins: int = 50,
    range_eV_per_A: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of per-atom error norms for plots.

    ``errors`` is any array of |F_i - G_i| in eV/Å (e.g. from :func:`per_atom_error_norms`);
    non-finite values are dropped. Returns ``(bin_edges_eV_per_A, counts)`` with shapes
    (bins + 1,) and (bins,). Without ``range_eV_per_A`` the range is (0, max error), or
    (0, 1) when there is no finite error.
    """
    err = np.asarray(errors, dtype=np.float64).ravel()
    err = err[np.isfinite(err)]
    if range_eV_per_A is None:
        top = float(err.max()) if err.size and err.max() > 0.0 else 1.0
        range_eV_per_A = (0.0, top)
    counts, edges = np.histogram(err, bins=bins, range=range_eV_per_A)
    return edges, counts
