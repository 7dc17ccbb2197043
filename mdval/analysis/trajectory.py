"""The trajectory analyses the service shows, as JSON-ready dicts.

Every number is computed by :mod:`mdval.metrics.comparison` (h(r), Kabsch RMSD,
divergence time, dihedrals, φ/ψ JS divergence) and :mod:`mdval.metrics.geometry` (bonds,
minimum image) — the functions ``mdval compare`` and the worker use. h(r) and bonds use the
minimum image in a periodic cell. Positions in Å, times in ps, angles in degrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mdval.analysis.extxyz import Frame
from mdval.metrics.comparison import (
    HR_N_BINS,
    HR_R_MAX_A,
    dihedral_deg,
    distance_histogram,
    divergence_time_ps,
    hr_error,
    phi_psi_indices,
    phi_psi_js_divergence,
    rmsd_series_A,
)
from mdval.metrics.geometry import (
    COVALENT_RADII_A,
    atomic_numbers,
    bond_pairs_of,
    minimum_image,
)

#: Above this many atoms a frame's bonds are not listed (the view would be a blur).
MAX_ATOMS_FOR_BONDS = 2000
#: Positions on the wire are rounded to this many decimals (1e-4 Å).
POSITION_DECIMALS = 4


def bonds_of(frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, d_A) bonds of ``frame`` (minimum image in a periodic cell)."""
    return bond_pairs_of(atomic_numbers(frame.symbols), frame.positions, frame.cell, frame.pbc)


def frame_view(frame: Frame) -> dict[str, Any]:
    """One frame for the 3D view: symbols, positions, covalent radii, cell, pbc, and the
    bonds as atom pairs with their minimum-image vectors (a bond across the cell boundary
    is drawn from atom i along its vector, not across the box)."""
    pos = np.asarray(frame.positions, float)
    radii = np.asarray(COVALENT_RADII_A)[atomic_numbers(frame.symbols)]
    out: dict[str, Any] = {
        "step": _int_or_none(frame.info.get("step")),
        "time_ps": frame.time_ps,
        "symbols": list(frame.symbols),
        "positions_A": np.round(pos, POSITION_DECIMALS).tolist(),
        "radii_A": radii.tolist(),
        "cell_A": None if frame.cell is None else np.asarray(frame.cell, float).tolist(),
        "pbc": None if frame.pbc is None else [bool(p) for p in frame.pbc],
        "bonds": [],
        "bond_vectors_A": [],
    }
    if 2 <= len(pos) <= MAX_ATOMS_FOR_BONDS:
        i, j, _ = bonds_of(frame)
        vec = minimum_image(pos[j] - pos[i], frame.cell, frame.pbc)
        out["bonds"] = np.column_stack([i, j]).tolist()
        out["bond_vectors_A"] = np.round(vec, POSITION_DECIMALS).tolist()
    return out


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _stack(frames: Sequence[Frame]) -> np.ndarray:
    return np.stack([np.asarray(f.positions, float) for f in frames])


def hr_of(frames: Sequence[Frame]) -> dict[str, Any]:
    """h(r) of METRICS.md over all frames (minimum image with the first frame's cell):
    bin centres (Å) and density (1/Å), integrating to 1."""
    first = frames[0]
    h, edges = distance_histogram(_stack(frames), cell=first.cell, pbc=first.pbc)
    return {"r_A": (0.5 * (edges[1:] + edges[:-1])).tolist(), "h_per_A": h.tolist()}


def phi_psi_of(frames: Sequence[Frame]) -> list[list[float]] | None:
    """(frames, 2) φ/ψ of alanine dipeptide in degrees; None for any other structure."""
    i, j, _ = bonds_of(frames[0])
    idx = phi_psi_indices(atomic_numbers(frames[0].symbols), (i, j))
    if idx is None:
        return None
    pos = _stack(frames)
    phi, psi = dihedral_deg(pos, *idx[0]), dihedral_deg(pos, *idx[1])
    return np.column_stack([phi, psi]).tolist()


def run_analysis(frames: Sequence[Frame]) -> dict[str, Any]:
    """h(r), φ/ψ and the bond count of one run's frames."""
    if not frames:
        return {"n_frames": 0, "hr": None, "phi_psi_deg": None, "n_bonds": None}
    return {
        "n_frames": len(frames),
        "hr": hr_of(frames),
        "phi_psi_deg": phi_psi_of(frames),
        "n_bonds": int(bonds_of(frames[0])[0].size),
    }


def common_times(times_a: Sequence[float], times_b: Sequence[float]) -> tuple[
    np.ndarray, list[int], list[int]
]:  # fmt: skip
    """Frame times (ps) present in both, and the frame indices of each at those times."""
    ta = np.asarray(times_a, dtype=np.float64)
    tb = np.asarray(times_b, dtype=np.float64)
    common = np.intersect1d(np.round(ta, 9), np.round(tb, 9))
    ia = [int(np.argmin(np.abs(ta - t))) for t in common]
    ib = [int(np.argmin(np.abs(tb - t))) for t in common]
    return common, ia, ib


def compare_frames(model: Sequence[Frame], reference: Sequence[Frame]) -> dict[str, Any]:
    """METRICS.md "Trajectory comparison" of two runs from identical initial conditions:
    Kabsch RMSD(t) over the common frame times, divergence time, h(r) of each and
    ∫|Δh| dr, φ/ψ of each and their JS divergence (alanine dipeptide)."""
    out: dict[str, Any] = {
        "time_ps": [],
        "rmsd_A": [],
        "divergence_time_ps": None,
        "hr_error": None,
        "phi_psi_js_divergence": None,
        "model": run_analysis(model),
        "reference": run_analysis(reference),
    }
    if not model or not reference:
        return out
    t_model = [f.time_ps if f.time_ps is not None else np.nan for f in model]
    t_ref = [f.time_ps if f.time_ps is not None else np.nan for f in reference]
    common, ia, ib = common_times(t_model, t_ref)
    if common.size and len(model[0].symbols) == len(reference[0].symbols):
        rmsd = rmsd_series_A(_stack([model[i] for i in ia]), _stack([reference[i] for i in ib]))
        out["time_ps"] = common.tolist()
        out["rmsd_A"] = rmsd.tolist()
        out["divergence_time_ps"] = divergence_time_ps(common, rmsd)
    h_model, h_ref = out["model"]["hr"]["h_per_A"], out["reference"]["hr"]["h_per_A"]
    out["hr_error"] = hr_error(h_model, h_ref, HR_R_MAX_A / HR_N_BINS)
    pp_model, pp_ref = out["model"]["phi_psi_deg"], out["reference"]["phi_psi_deg"]
    if pp_model and pp_ref:
        out["phi_psi_js_divergence"] = phi_psi_js_divergence(pp_model, pp_ref)
    return out
