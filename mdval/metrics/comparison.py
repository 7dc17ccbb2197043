"""Trajectory comparison: a model against the reference from identical initial conditions.

Definitions follow METRICS.md ("Trajectory comparison"). Positions are in Å, (N, 3) for a
frame and (frames, N, 3) for a trajectory; times in ps; angles in degrees.

numpy and scipy only (ase only for type hints): the API computes the dashboard's numbers
(:mod:`mdval.analysis`) with these same functions, and the API process never imports ase.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import jensenshannon, pdist
from scipy.spatial.transform import Rotation

from mdval.metrics.geometry import (
    CHEMICAL_SYMBOLS,
    Pairs,
    as_pair_indices,
    bond_pairs_of,
    is_periodic,
    minimum_image,
)

if TYPE_CHECKING:
    from ase import Atoms

#: h(r) grid of METRICS.md: 500 bins on (0, 10] Å.
HR_R_MAX_A: float = 10.0
HR_N_BINS: int = 500


def _frame(positions_A: ArrayLike, name: str) -> np.ndarray:
    pos = np.asarray(positions_A, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {pos.shape}")
    return pos


def as_frames(positions_A: ArrayLike, name: str) -> np.ndarray:
    """(frames, N, 3) from (N, 3) or (frames, N, 3); ValueError naming ``name`` otherwise."""
    pos = np.asarray(positions_A, dtype=np.float64)
    if pos.ndim == 2:
        pos = pos[None]
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f"{name} must have shape (frames, N, 3) or (N, 3), got {pos.shape}")
    return pos


def kabsch_rmsd_A(P: ArrayLike, Q: ArrayLike) -> float:
    """RMSD in Å of (N, 3) ``P`` and ``Q`` after optimal superposition (translation + rotation).

    Both are centred on their centroids (unweighted), then ``Q`` is rotated onto ``P`` by
    :meth:`scipy.spatial.transform.Rotation.align_vectors` (proper rotations only, no
    reflection). RMSD = sqrt(mean_i |P_i - R Q_i|^2).
    """
    p = _frame(P, "P")
    q = _frame(Q, "Q")
    if p.shape != q.shape:
        raise ValueError(f"P and Q differ in shape: {p.shape} vs {q.shape}")
    if p.shape[0] == 0:
        raise ValueError("RMSD of zero atoms is undefined")
    p = p - p.mean(axis=0)
    q = q - q.mean(axis=0)
    if not (np.any(p) and np.any(q)):  # one of them is a single point: nothing to rotate
        return float(np.sqrt(np.mean(np.sum((p - q) ** 2, axis=1))))
    with warnings.catch_warnings():
        # Collinear sets (e.g. two atoms) leave the rotation ambiguous, not the RMSD.
        warnings.filterwarnings("ignore", message="Optimal rotation is not uniquely")
        rotation, _ = Rotation.align_vectors(p, q)
    diff = p - rotation.apply(q)
    return float(np.sqrt(np.mean(np.sum(diff**2, axis=1))))


def rmsd_series_A(traj_P: ArrayLike, traj_Q: ArrayLike) -> np.ndarray:
    """(T,) Kabsch RMSD in Å of frame t of ``traj_P`` against frame t of ``traj_Q``.

    Both are (frames, N, 3) in Å with the same N. Compared over their common leading frames
    (a crashed model's trajectory is shorter), so T = min(frames_P, frames_Q).
    """
    p = as_frames(traj_P, "traj_P")
    q = as_frames(traj_Q, "traj_Q")
    if p.shape[1] != q.shape[1]:
        raise ValueError(f"trajectories differ in atom count: {p.shape[1]} vs {q.shape[1]}")
    n = min(p.shape[0], q.shape[0])
    return np.array([kabsch_rmsd_A(p[t], q[t]) for t in range(n)], dtype=np.float64)


def divergence_time_ps(
    time_ps: ArrayLike, rmsd_A: ArrayLike, threshold_A: float = 0.5
) -> float | None:
    """First time in ps with RMSD > ``threshold_A`` Å, or None if it never gets there.

    ``time_ps`` and ``rmsd_A`` are (T,). A non-finite RMSD (broken positions) counts as
    diverged.
    """
    t = np.asarray(time_ps, dtype=np.float64).ravel()
    r = np.asarray(rmsd_A, dtype=np.float64).ravel()
    if t.shape != r.shape:
        raise ValueError(f"time_ps and rmsd_A differ in length: {t.size} vs {r.size}")
    hit = np.flatnonzero(~(r <= threshold_A))  # NaN compares False, so it counts as a hit
    return float(t[hit[0]]) if hit.size else None


def distance_histogram(
    positions_frames: ArrayLike,
    *,
    r_max_A: float = HR_R_MAX_A,
    n_bins: int = HR_N_BINS,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance histogram h(r) of all atom pairs over all frames.

    ``positions_frames`` is (frames, N, 3) or (N, 3) in Å. Pair distances in (0, r_max_A]
    (minimum image when a cell with a periodic direction is given) are binned into
    ``n_bins`` equal bins and normalised so that sum(h) * bin_width = 1; h is all zeros when
    no pair falls in range. Returns ``(h_per_A, bin_edges_A)`` with shapes (n_bins,) and
    (n_bins + 1,).
    """
    frames = as_frames(positions_frames, "positions_frames")
    periodic = is_periodic(cell, pbc)
    i, j = np.triu_indices(frames.shape[1], k=1)
    dists = []
    for pos in frames:
        if periodic:
            dists.append(np.linalg.norm(minimum_image(pos[j] - pos[i], cell, pbc), axis=1))
        else:
            dists.append(pdist(pos))
    r = np.concatenate(dists) if dists else np.zeros(0)
    r = r[(r > 0.0) & (r <= r_max_A)]
    counts, edges = np.histogram(r, bins=n_bins, range=(0.0, r_max_A))
    width = r_max_A / n_bins
    total = counts.sum()
    h = counts / (total * width) if total else np.zeros(n_bins)
    return h.astype(np.float64), edges


def hr_error(h_model: ArrayLike, h_ref: ArrayLike, bin_width: float) -> float:
    """integral |h_model - h_ref| dr for two (n_bins,) normalised histograms; in [0, 2].

    ``bin_width`` in Å (``HR_R_MAX_A / HR_N_BINS`` = 0.02 Å for the default grid).
    """
    hm = np.asarray(h_model, dtype=np.float64)
    hr = np.asarray(h_ref, dtype=np.float64)
    if hm.shape != hr.shape:
        raise ValueError(f"histograms differ in shape: {hm.shape} vs {hr.shape}")
    return float(np.sum(np.abs(hm - hr)) * bin_width)


def _symbol_order(symbol: str) -> tuple[int, str]:
    """C first, H last, others alphabetically: "C-H", "C-O", "N-H", "O-H"."""
    return ({"C": 0, "H": 2}.get(symbol, 1), symbol)


def bond_type(z_i: int, z_j: int) -> str:
    """Label of a bond between atomic numbers ``z_i`` and ``z_j``, e.g. ``"C-H"``."""
    a, b = sorted((CHEMICAL_SYMBOLS[int(z_i)], CHEMICAL_SYMBOLS[int(z_j)]), key=_symbol_order)
    return f"{a}-{b}"


def bond_length_stats(
    frames_positions: ArrayLike,
    numbers: ArrayLike,
    pairs: Pairs,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> dict[str, dict[str, float]]:
    """Mean and standard deviation (Å) of bond lengths per bond type, over all frames.

    ``frames_positions`` (frames, N, 3) or (N, 3) in Å; ``numbers`` (N,) atomic numbers;
    ``pairs`` the bonds, e.g. ``bond_pairs(start)[:2]``. Returns
    ``{"C-H": {"mean_A": ..., "std_A": ..., "n_samples": ...}, ...}`` (population std).
    """
    from mdval.metrics.stability import bond_lengths_A  # ase's find_mic: not in the API

    frames = as_frames(frames_positions, "frames_positions")
    z = np.asarray(numbers, dtype=int).ravel()
    if z.size != frames.shape[1]:
        raise ValueError(f"{z.size} atomic numbers for {frames.shape[1]} atoms")
    i, j = as_pair_indices(pairs)
    lengths = np.array([bond_lengths_A(pos, (i, j), cell, pbc) for pos in frames])  # (F, P)
    labels = np.array([bond_type(z[a], z[b]) for a, b in zip(i, j, strict=True)], dtype=object)
    out: dict[str, dict[str, float]] = {}
    for label in sorted(set(labels)):
        values = lengths[:, labels == label].ravel()
        out[str(label)] = {
            "mean_A": float(values.mean()),
            "std_A": float(values.std()),
            "n_samples": float(values.size),
        }
    return out


def bond_length_error_A(
    stats_model: dict[str, dict[str, float]], stats_ref: dict[str, dict[str, float]]
) -> dict[str, dict[str, float | None]]:
    """Per bond type present in both: ``abs_mean_diff_A`` = |mean_model - mean_ref| (Å) and
    ``std_ratio`` = std_model / std_ref (None when the reference std is zero)."""
    out: dict[str, dict[str, float | None]] = {}
    for label in sorted(set(stats_model) & set(stats_ref)):
        m, r = stats_model[label], stats_ref[label]
        out[label] = {
            "abs_mean_diff_A": abs(m["mean_A"] - r["mean_A"]),
            "std_ratio": m["std_A"] / r["std_A"] if r["std_A"] > 0.0 else None,
        }
    return out


def dihedral_deg(positions_A: ArrayLike, i: int, j: int, k: int, l: int) -> float | np.ndarray:  # noqa: E741
    """Dihedral angle i-j-k-l in degrees, in (-180, 180].

    ``positions_A`` is (N, 3) (returns a float) or (frames, N, 3) (returns (frames,)). Same
    angle and sign as :meth:`ase.Atoms.get_dihedral` (IUPAC: positive when, looking along
    j -> k, the bond k-l is turned clockwise from i-j), but mapped from [0, 360) to
    (-180, 180].
    """
    pos = np.asarray(positions_A, dtype=np.float64)
    single = pos.ndim == 2
    frames = as_frames(pos, "positions_A")
    b1 = frames[:, j] - frames[:, i]
    b2 = frames[:, k] - frames[:, j]
    b3 = frames[:, l] - frames[:, k]
    n1 = np.cross(b1, b2)
    n2 = np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=1) * np.einsum("fi,fi->f", b1, n2)
    x = np.einsum("fi,fi->f", n1, n2)
    angle = np.degrees(np.arctan2(y, x))
    angle = np.where(angle <= -180.0, angle + 360.0, angle)
    return float(angle[0]) if single else angle


def alanine_dipeptide_phi_psi_indices(
    atoms: Atoms,
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """Backbone dihedral atoms of alanine dipeptide (Ace-Ala-NMe), found from connectivity:
    :func:`phi_psi_indices` of the atoms' numbers and bonds (those of
    :func:`mdval.metrics.stability.bond_pairs`)."""
    i, j, _ = bond_pairs_of(
        atoms.get_atomic_numbers(),
        atoms.get_positions(),
        np.asarray(atoms.get_cell()),
        atoms.get_pbc(),
    )
    return phi_psi_indices(atoms.get_atomic_numbers(), (i, j))


def phi_psi_indices(
    numbers: ArrayLike, bonds: Pairs
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """Backbone dihedral atoms of alanine dipeptide (Ace-Ala-NMe) from its connectivity.

    ``numbers`` (N,) atomic numbers; ``bonds`` the bonded pairs (e.g.
    :func:`mdval.metrics.geometry.bond_pairs_of`). The amide carbons are the carbons bonded
    to a one-neighbour O and to an N; C-alpha is the carbon bonded to an N and to an amide
    carbon. Returns ``(phi, psi)`` as atom indices, phi = (C, N, CA, C') and
    psi = (N, CA, C', N'); None when the structure does not have exactly this backbone (so
    callers may ask of any structure).
    """
    z = np.asarray(numbers, dtype=int).ravel()
    i, j = as_pair_indices(bonds)
    neighbours: list[set[int]] = [set() for _ in range(len(z))]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)

    def of(atom: int, number: int) -> list[int]:
        return sorted(n for n in neighbours[atom] if z[n] == number)

    carbons = np.flatnonzero(z == 6).tolist()
    amide_c = {c for c in carbons if of(c, 7) and any(len(neighbours[o]) == 1 for o in of(c, 8))}
    alpha = [c for c in carbons if c not in amide_c and of(c, 7) and neighbours[c] & amide_c]
    if len(amide_c) != 2 or len(alpha) != 1:
        return None
    ca = alpha[0]
    n1 = of(ca, 7)
    c_next = sorted(neighbours[ca] & amide_c)
    if len(n1) != 1 or len(c_next) != 1:
        return None
    c_prev = [c for c in neighbours[n1[0]] & amide_c if c != c_next[0]]
    n2 = of(c_next[0], 7)
    if len(c_prev) != 1 or len(n2) != 1:
        return None
    return (c_prev[0], n1[0], ca, c_next[0]), (n1[0], ca, c_next[0], n2[0])


def js_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two histograms of the same shape.

    The histograms are flattened and normalised to sum 1. This is the divergence, i.e. the
    square of :func:`scipy.spatial.distance.jensenshannon`'s distance.
    """
    pa = np.asarray(p, dtype=np.float64).ravel()
    qa = np.asarray(q, dtype=np.float64).ravel()
    if pa.shape != qa.shape:
        raise ValueError(f"histograms differ in size: {pa.size} vs {qa.size}")
    if np.any(pa < 0) or np.any(qa < 0) or pa.sum() <= 0 or qa.sum() <= 0:
        raise ValueError("histograms must be non-negative with a positive total")
    distance = float(jensenshannon(pa, qa, base=2))
    return min(max(distance**2, 0.0), 1.0)


def phi_psi_js_divergence(
    phi_psi_model_deg: ArrayLike, phi_psi_ref_deg: ArrayLike, bins: int = 36
) -> float:
    """JS divergence of the 2D (phi, psi) densities of model and reference.

    Each input is (frames, 2) angles in degrees; both are histogrammed on a
    ``bins`` x ``bins`` grid over [-180, 180]^2 (36 bins = 10 degrees).
    """
    hists = []
    for name, values in (("model", phi_psi_model_deg), ("ref", phi_psi_ref_deg)):
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"phi_psi_{name}_deg must have shape (frames, 2), got {arr.shape}")
        h, _, _ = np.histogram2d(
            arr[:, 0], arr[:, 1], bins=bins, range=((-180.0, 180.0), (-180.0, 180.0))
        )
        hists.append(h)
    return js_divergence(hists[0], hists[1])
