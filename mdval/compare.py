"""Compare two runs started from identical initial conditions (model vs reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read

from mdval.analysis.start import start_differences, start_of_summary
from mdval.errors import InputError
from mdval.metrics.comparison import (
    alanine_dipeptide_phi_psi_indices,
    bond_length_error_A,
    bond_length_stats,
    dihedral_deg,
    distance_histogram,
    divergence_time_ps,
    hr_error,
    phi_psi_js_divergence,
    rmsd_series_A,
)
from mdval.metrics.stability import bond_pairs


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[Atoms]]:
    """The summary and trajectory frames of a run directory written by ``mdval run``."""
    summary_path, traj_path = run_dir / "summary.json", run_dir / "trajectory.extxyz"
    for path in (summary_path, traj_path):
        if not path.is_file():
            raise InputError(f"{path} not found: is {run_dir} a run directory of `mdval run`?")
    summary = json.loads(summary_path.read_text())
    frames = read(traj_path, index=":", format="extxyz")
    if not isinstance(frames, list) or not frames:
        raise InputError(f"{traj_path} holds no frames")
    return summary, frames


def compare_runs(dir_a: Path, dir_b: Path) -> dict[str, Any]:
    """Metrics of METRICS.md "Trajectory comparison", A taken as the model, B as reference."""
    sa, fa = load_run(dir_a)
    sb, fb = load_run(dir_b)
    pa, pb = sa["provenance"], sb["provenance"]
    differences = start_differences(start_of_summary(sa), start_of_summary(sb))
    if differences:
        raise InputError(
            "the runs did not start from the same conditions: " + "; ".join(differences)
        )
    dt_a, dt_b = pa["protocol"]["timestep_fs"], pb["protocol"]["timestep_fs"]
    times_a = np.array([f.info["time_ps"] for f in fa])
    times_b = np.array([f.info["time_ps"] for f in fb])
    common = np.intersect1d(np.round(times_a, 9), np.round(times_b, 9))
    if common.size == 0:
        raise InputError("the two trajectories share no frame time (check frame_every and dt)")
    ia = [int(np.argmin(abs(times_a - t))) for t in common]
    ib = [int(np.argmin(abs(times_b - t))) for t in common]
    pos_a = np.array([fa[i].get_positions() for i in ia])
    pos_b = np.array([fb[i].get_positions() for i in ib])
    rmsd = rmsd_series_A(pos_a, pos_b)
    all_a = np.array([f.get_positions() for f in fa])
    all_b = np.array([f.get_positions() for f in fb])
    h_a, edges = distance_histogram(all_a)
    h_b, _ = distance_histogram(all_b)
    pairs = bond_pairs(fa[0])
    numbers = fa[0].numbers
    result: dict[str, Any] = {
        "model_run": str(dir_a),
        "reference_run": str(dir_b),
        "timestep_fs": [dt_a, dt_b],
        "time_ps": common.tolist(),
        "rmsd_A": rmsd.tolist(),
        "divergence_time_ps": divergence_time_ps(common, rmsd),
        "hr_error": hr_error(h_a, h_b, float(edges[1] - edges[0])),
        "bond_length_error_A": bond_length_error_A(
            bond_length_stats(all_a, numbers, pairs), bond_length_stats(all_b, numbers, pairs)
        ),
    }
    indices = alanine_dipeptide_phi_psi_indices(fa[0])
    if indices is not None:
        phi_idx, psi_idx = indices
        angles = [
            np.column_stack([dihedral_deg(p, *phi_idx), dihedral_deg(p, *psi_idx)])
            for p in (all_a, all_b)
        ]
        result["phi_psi_js_divergence"] = phi_psi_js_divergence(angles[0], angles[1])
    return result
