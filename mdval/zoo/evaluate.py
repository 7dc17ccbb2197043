"""Offline accuracy of a model against the teacher's labels: the model card's figures.

Definitions follow mdval's METRICS.md (force RMSE/MAE/R² over components, angle error over
atoms with |G_i| > 0.05 eV/Å); ``energy_mae_meV_per_atom`` is mean |E - E_ref| / N_atoms
without any offset removed, ``energy_rmse_meV_per_atom`` removes the mean offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mdval.zoo.dataset import FrameSet
from mdval.zoo.model import energy_and_forces

ANGLE_MIN_FORCE_EV_PER_A = 0.05


def predict(
    model: torch.nn.Module, frames: FrameSet, *, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Model energies (F,) and forces (A, 3) in float64 for every frame of ``frames``."""
    energies: list[np.ndarray] = []
    forces: list[np.ndarray] = []
    for batch in frames.batches(batch_size, dtype=torch.float64):
        e, f = energy_and_forces(
            model, batch.positions, batch.numbers, batch.system_index, batch.n_systems
        )
        energies.append(e.detach().numpy())
        forces.append(f.detach().numpy())
    return np.concatenate(energies), np.concatenate(forces)


def metrics(
    energy: np.ndarray,
    energy_ref: np.ndarray,
    forces: np.ndarray,
    forces_ref: np.ndarray,
    n_atoms: np.ndarray,
) -> dict[str, Any]:
    """The card's figures for one set of frames (energies in eV, forces in eV/Å)."""
    de = (energy - energy_ref) / n_atoms
    offset = np.mean(energy - energy_ref)
    de_centred = (energy - energy_ref - offset) / n_atoms
    diff = forces - forces_ref
    ss_res = np.sum(diff**2, axis=0)
    ss_tot = np.sum((forces_ref - forces_ref.mean(axis=0)) ** 2, axis=0)
    g_norm = np.linalg.norm(forces_ref, axis=1)
    f_norm = np.linalg.norm(forces, axis=1)
    sel = g_norm > ANGLE_MIN_FORCE_EV_PER_A
    cos = np.sum(forces[sel] * forces_ref[sel], axis=1) / np.maximum(
        f_norm[sel] * g_norm[sel], 1e-300
    )
    angles = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    all_res = float(np.sum(diff**2))
    all_tot = float(np.sum((forces_ref - forces_ref.mean()) ** 2))
    return {
        "n_frames": len(energy),
        "n_atoms_total": len(forces),
        "energy_mae_meV_per_atom": 1000 * float(np.mean(np.abs(de))),
        "energy_rmse_meV_per_atom": 1000 * float(np.sqrt(np.mean(de_centred**2))),
        "force_rmse_eV_per_A": float(np.sqrt(np.mean(diff**2))),
        "force_mae_eV_per_A": float(np.mean(np.abs(diff))),
        "force_rmse_xyz_eV_per_A": [float(x) for x in np.sqrt(np.mean(diff**2, axis=0))],
        "force_r2": 1.0 - all_res / all_tot,
        "force_r2_xyz": [float(x) for x in 1.0 - ss_res / ss_tot],
        "force_angle_error_deg": float(np.mean(angles)) if len(angles) else float("nan"),
        "force_magnitude_rel_error": float(np.mean(np.abs(f_norm[sel] - g_norm[sel]) / g_norm[sel]))
        if sel.any()
        else float("nan"),
        "reference_force_rms_eV_per_A": float(np.sqrt(np.mean(forces_ref**2))),
    }


def evaluate(model: torch.nn.Module, frames: FrameSet) -> dict[str, Any]:
    """Overall and per-molecule figures of ``model`` on ``frames``."""
    if frames.n_frames == 0:
        raise ValueError("no frames to evaluate")
    energy, forces = predict(model, frames)
    a = frames.arrays
    out = metrics(energy, a["energy"], forces, a["forces"], a["n_atoms"])
    names = frames.molecule_names()
    per_molecule: dict[str, Any] = {}
    atom_mol = np.repeat(a["molecule"], a["n_atoms"])
    for mol in np.unique(a["molecule"]):
        fm = a["molecule"] == mol
        am = atom_mol == mol
        name = names[mol] if mol < len(names) else str(mol)
        per_molecule[name] = metrics(
            energy[fm], a["energy"][fm], forces[am], a["forces"][am], a["n_atoms"][fm]
        )
    out["per_molecule"] = per_molecule
    return out
