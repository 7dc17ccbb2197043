"""Publishing a student: TorchScript export, evaluation on the test subset, model card."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mdval.zoo import PACKAGE_DATA_DIR, WEIGHTS_DIR
from mdval.zoo.card import export_torchscript, sha256_file, time_per_call, write_card
from mdval.zoo.dataset import FrameSet
from mdval.zoo.evaluate import evaluate
from mdval.zoo.model import RadialMPPotential, count_parameters
from mdval.zoo.sizes import SIZES, build

#: The committed test subset: test trajectories of the core molecules + held-out molecules.
TEST_SET_PATH = PACKAGE_DATA_DIR / "test_set.npz"


def make_test_set(data: FrameSet, path: Path = TEST_SET_PATH) -> FrameSet:
    """Extract the ``test`` and ``heldout`` splits (a small file, committed with the package)."""
    codes = data.arrays["split"]
    from mdval.zoo.dataset import SPLITS

    subset = data.select((codes == SPLITS.index("test")) | (codes == SPLITS.index("heldout")))
    subset.save(path)
    return subset


def card_figures(model: torch.nn.Module, test_set: FrameSet) -> dict[str, Any]:
    """``{"test": ..., "heldout": ...}`` figures — the same function the report uses."""
    return {
        "test": evaluate(model, test_set.split("test")),
        "heldout": evaluate(model, test_set.split("heldout")),
    }


def _recipe(cfg: dict[str, Any], start: dict[str, Any] | None) -> str:
    if not cfg.get("init_from"):
        return (
            "phase 1: from scratch on all training molecules; selection and early stopping on "
            "the validation trajectories of all training molecules"
        )
    phase = int((start or {}).get("phase") or 1) + 1
    head = f"phase {phase}: fine-tuned from {cfg['init_from']} (phase {phase - 1})"
    focus = list(cfg.get("focus_molecules") or ())
    if not focus:
        return (
            f"{head} on all training molecules; selection and early stopping on the "
            "validation trajectories of all training molecules"
        )
    names = ", ".join(focus)
    factor = int(cfg.get("focus_factor") or 1)
    frames = (
        f"the training frames of {names} repeated {factor}x (all other training frames kept)"
        if factor > 1
        else f"all training frames (those of {names} not repeated)"
    )
    return (
        f"{head} with {frames}; selection and early stopping on the validation trajectories "
        f"of {names}; exported only where it beats its starting weights there"
    )


def _started_from(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """What a fine-tune started from: the summary of a training run (its ``state.pt`` next
    to ``best.pt``: phase 1), or the training record of a published student's card (the
    ``.json`` next to its ``.pt``), so a card carries the whole chain of phases."""
    if not cfg.get("init_from"):
        return None
    init = Path(cfg["init_from"])
    state = init.with_name("state.pt")
    if state.exists():
        progress = torch.load(state, map_location="cpu", weights_only=False)["progress"]
        return {
            "phase": 1,
            "epochs_done": progress.get("epoch"),
            "best_epoch": progress.get("best_epoch"),
            "steps_done": progress.get("step"),
            "wall_s": round(float(progress.get("wall_s", 0.0)), 1),
            "best_val": progress.get("best_val_metrics"),
        }
    card = init.with_suffix(".json")
    if not card.exists():
        return None
    earlier = json.loads(card.read_text())
    training = dict(earlier.get("training") or {})
    if training.get("started_from"):
        phase = int(training["started_from"].get("phase") or 1) + 1
    else:  # cards before "started_from" named their starting run "phase_1"
        phase = 2 if training.get("phase_1") else 1
    return {
        "phase": phase,
        "sha256": earlier.get("sha256"),
        "test_force_rmse_eV_per_A": (earlier.get("test") or {}).get("force_rmse_eV_per_A"),
        "training": earlier.get("training"),
    }


def publish(
    model: RadialMPPotential,
    name: str,
    *,
    size: str,
    status: str,
    progress: dict[str, Any],
    cfg: dict[str, Any],
    data: FrameSet,
    weights_dir: Path = WEIGHTS_DIR,
    test_set_path: Path | None = None,
    timing_repeats: int = 100,
    time_two_threads: bool = False,
) -> dict[str, Any]:
    """Export ``model`` as ``NAME.pt`` and write ``NAME.json`` / ``NAME.md`` next to it."""
    weights_dir.mkdir(parents=True, exist_ok=True)
    test_set_path = test_set_path or TEST_SET_PATH
    test_set = (
        FrameSet.load(test_set_path)
        if test_set_path.exists()
        else make_test_set(data, test_set_path)
    )
    pt = weights_dir / f"{name}.pt"
    # Staged outside the package (the tree is committed with `git add -A`): only the final
    # copy-and-rename touches weights_dir.
    staging = Path(tempfile.mkdtemp(prefix="mdval-zoo-"))
    tmp_pt = staging / f"{name}.pt"
    scripted = export_torchscript(model, tmp_pt)
    figures = card_figures(scripted, test_set)
    cost: dict[str, float] = {}
    if {1, 6, 7, 8} <= set(model.supported_atomic_numbers):  # the timing molecule's elements
        cost["1_thread"] = time_per_call(scripted, threads=1, repeats=timing_repeats)
    if cost and time_two_threads:
        cost["2_threads"] = time_per_call(scripted, threads=2, repeats=timing_repeats)
    n_params = count_parameters(model)
    start = _started_from(cfg)
    spec = SIZES[size]
    elements = model.supported_atomic_numbers
    meta = data.meta
    splits = data.arrays["split"]
    from mdval.zoo.dataset import SPLITS

    card: dict[str, Any] = {
        "name": name,
        "status": status,
        "architecture": "RadialMPPotential (invariant radial message passing, per-element MLPs)",
        "teacher": meta.get("teacher", "GFN2-xTB"),
        "n_params": n_params,
        "target_params": spec.target_params,
        "compression_vs_original": count_parameters(build("original", elements)) / n_params,
        "hyperparameters": model.hyperparameters(),
        "supported_atomic_numbers": model.supported_atomic_numbers,
        "cutoff_A": model.cutoff_A,
        "weights_file": pt.name,
        "sha256": sha256_file(tmp_pt),
        "cost_ms_per_call": cost,
        "cost_context": {
            "structure": "alanine dipeptide (22 atoms), float64, CPU, median",
            "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "note": "checkpoint cards are timed while training shares the CPU; "
            "`mdval zoo report --retime` re-measures on an idle machine",
        },
        "training": {
            "seed": cfg.get("seed"),
            "config": cfg,
            "epochs_done": progress.get("epoch"),
            "epochs_total": progress.get("epochs_total"),
            "best_epoch": progress.get("best_epoch"),
            "steps_done": progress.get("step"),
            "wall_s": round(float(progress.get("wall_s", 0.0)), 1),
            "device": cfg.get("device"),
            "best_val": progress.get("best_val_metrics"),
            "recipe": _recipe(cfg, start),
            "started_from": start,
        },
        "data": {
            "description": (
                f"{len(meta.get('molecules', []))} H/C/N/O molecules, GFN2-xTB Langevin MD "
                "100-600 K + displaced/stretched frames; split by trajectory; "
                f"{sum(m['role'] == 'heldout' for m in meta.get('molecules', []))} molecules "
                "held out"
            ),
            "frames": {s: int(np.sum(splits == k)) for k, s in enumerate(SPLITS)},
            "teacher_config": meta.get("config"),
            "test_set_file": "mdval/zoo/data/test_set.npz",
            "test_set_sha256": sha256_file(test_set_path),
        },
        "test": figures["test"],
        "heldout": figures["heldout"],
    }
    shutil.copyfile(tmp_pt, weights_dir / f"{name}.pt.tmp")
    os.replace(weights_dir / f"{name}.pt.tmp", pt)
    shutil.rmtree(staging, ignore_errors=True)
    write_card(card, weights_dir, name)
    return card
