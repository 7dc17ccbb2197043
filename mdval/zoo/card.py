"""Model cards (JSON + Markdown), TorchScript export and the per-call cost measurement."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mdval.zoo.model import RadialMPPotential, energy_and_forces, script

#: The structure whose per-call cost goes into the card (the plan's 15+-atom benchmark).
TIMING_SMILES = "CC(=O)N[C@@H](C)C(=O)NC"
TIMING_SEED = 42


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_torchscript(model: RadialMPPotential, path: Path) -> torch.jit.ScriptModule:
    """Script a float64 CPU copy of ``model`` and save it atomically to ``path``."""
    import copy

    m = copy.deepcopy(model).to(device="cpu", dtype=torch.float64).eval()
    scripted = script(m)
    tmp = path.with_name(path.name + ".tmp")
    scripted.save(str(tmp))
    os.replace(tmp, path)
    return scripted


def time_per_call(
    model: torch.nn.Module, *, threads: int, repeats: int = 200, warmup: int = 20
) -> float:
    """Median wall time (ms) of one energy+forces call on alanine dipeptide, float64, CPU."""
    from mdval.zoo.molecules import embed

    atoms = embed(TIMING_SMILES, seed=TIMING_SEED)
    pos = torch.tensor(atoms.positions, dtype=torch.float64)
    z = torch.tensor(atoms.numbers, dtype=torch.long)
    sys_idx = torch.zeros(len(atoms), dtype=torch.long)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for _ in range(min(warmup, repeats)):
            energy_and_forces(model, pos, z, sys_idx, 1)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            energy_and_forces(model, pos, z, sys_idx, 1)
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return 1000 * float(np.median(times))


def time_teacher_per_call(repeats: int = 50) -> float:
    """Median wall time (ms) of one GFN2-xTB energy+forces call on alanine dipeptide."""
    from tblite.ase import TBLite

    from mdval.zoo.molecules import embed

    atoms = embed(TIMING_SMILES, seed=TIMING_SEED)
    atoms.calc = TBLite(method="GFN2-xTB", verbosity=0, accuracy=1.0)
    rng = np.random.default_rng(0)
    base = atoms.positions.copy()
    times = []
    for _ in range(repeats):
        atoms.positions = base + rng.normal(0, 0.005, base.shape)
        t0 = time.perf_counter()
        atoms.get_forces()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def write_card(card: dict[str, Any], weights_dir: Path, name: str) -> None:
    """Write ``NAME.json`` and ``NAME.md`` atomically."""
    js = weights_dir / f"{name}.json"
    tmp = js.with_name(js.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, js)
    md = weights_dir / f"{name}.md"
    tmp = md.with_name(md.name + ".tmp")
    tmp.write_text(card_markdown(card))
    os.replace(tmp, md)


def _row(label: str, m: dict[str, Any]) -> str:
    return (
        f"| {label} | {m['n_frames']} | {m['energy_mae_meV_per_atom']:.2f} | "
        f"{m['force_rmse_eV_per_A']:.4f} | {m['force_mae_eV_per_A']:.4f} | "
        f"{m['force_r2']:.4f} | {', '.join(f'{x:.4f}' for x in m['force_r2_xyz'])} | "
        f"{m['force_angle_error_deg']:.2f} |"
    )


def card_markdown(card: dict[str, Any]) -> str:
    head = (
        "| set | frames | energy MAE (meV/atom) | force RMSE (eV/Å) | force MAE (eV/Å) "
        "| force R² | R² x, y, z | angle error (°) |\n|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"# zoo:{card['name']} — model card",
        "",
        f"Status: **{card['status']}**. Student of {card['teacher']} (offline teacher), "
        f"architecture `{card['architecture']}`.",
        "",
        f"- parameters: {card['n_params']:,} (target {card['target_params']:,}; "
        f"compression vs Original {card['compression_vs_original']:.1f}×)",
        f"- hyperparameters: `{json.dumps(card['hyperparameters'])}`",
        f"- weights: `{card['weights_file']}`, sha256 `{card['sha256']}`",
        f"- training: seed {card['training']['seed']}, {card['training']['epochs_done']} epochs "
        f"({card['training']['steps_done']} steps), {card['training']['wall_s'] / 60:.1f} min "
        f"on {card['training']['device']}",
        f"- recipe: {card['training'].get('recipe', '')}",
        f"- data: {card['data']['description']}",
        "- per-call cost (energy + forces, alanine dipeptide, float64, CPU): "
        + (", ".join(f"{k}: {v:.2f} ms" for k, v in card["cost_ms_per_call"].items()) or "—"),
        "",
        "## Test set (held-out trajectories of the four test molecules)",
        "",
        head + _row("all", card["test"]),
    ]
    lines += [_row(k, v) for k, v in card["test"]["per_molecule"].items()]
    lines += [
        "",
        "## Held-out molecules (never trained on)",
        "",
        head + _row("all", card["heldout"]),
    ]
    lines += [_row(k, v) for k, v in card["heldout"]["per_molecule"].items()]
    lines += [
        "",
        "Figures are produced by `mdval.zoo.evaluate.evaluate` on `mdval/zoo/data/test_set.npz`;",
        "`mdval zoo report` recomputes them.",
        "",
    ]
    return "\n".join(lines)
