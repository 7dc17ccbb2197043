"""Shared fixtures of the zoo tests: a tiny GFN2-xTB dataset and a student trained on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from mdval.zoo.molecules import read_smiles_list
from mdval.zoo.teacher import TeacherConfig, generate
from mdval.zoo.train import TrainConfig, train

#: Water, methane (core) and 2-propanol (held out), a few frames each: seconds of GFN2-xTB.
TINY_TEACHER = TeacherConfig(
    equilibration_steps=5,
    frames_per_trajectory=3,
    stride_steps=2,
    n_displaced=2,
    n_stretched=2,
    core_extra_temperatures_K=(300.0,),
    core_extra_embedded_temperatures_K=(400.0,),
)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("zoo")
    specs = [s for s in read_smiles_list() if s.name in ("water", "methane", "2-propanol")]
    data = generate(root / "data", cfg=TINY_TEACHER, specs=specs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        state = train(
            "ultra-tiny",
            data,
            root / "run",
            cfg=TrainConfig(epochs=2, batch_size=4, timing_repeats=3),
            weights_dir=root / "weights",
            test_set_path=root / "test_set.npz",
            export_name="ultra-tiny",
        )
    finally:
        torch.set_num_threads(threads)
    return {
        "root": root,
        "data": data,
        "state": state,
        "weights": root / "weights",
        "test_set": root / "test_set.npz",
        "run": root / "run",
    }


def weights_path(run: dict[str, Any], name: str = "ultra-tiny") -> Path:
    return Path(run["weights"]) / f"{name}.pt"
