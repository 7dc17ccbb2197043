"""The torch engine on a CUDA GPU against itself on the CPU (skipped without a GPU; run by
``benchmarks/gpu_check.sh`` on a machine with one). float64 on both devices: only the order
of sums differs, so trajectories agree to round-off over a few dozen steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mdval.md.torch_engine import run_batch
from mdval.potentials.registry import resolve_potential
from mdval.structures import load_structure
from mdval.structures.make_builtin import water_box

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def _both(spec: str, systems: list, **kw: object) -> tuple[list, list]:
    entry = resolve_potential(spec)
    out = []
    for device in ("cpu", "cuda"):
        batch = run_batch(entry, systems, device=device, **kw)  # type: ignore[arg-type]
        assert [r.status for r in batch.replicas] == ["completed"] * len(systems)
        out.append(batch.replicas)
    return out[0], out[1]


def test_zoo_replicas_on_cuda_follow_the_cpu_trajectories() -> None:
    dipeptide = load_structure("alanine-dipeptide")
    systems = [(dipeptide, 300.0 + 50 * k, k) for k in range(8)]
    cpu, gpu = _both("zoo:tiny", systems, n_steps=40, timestep_fs=0.5, record_every=10)
    for a, b in zip(cpu, gpu, strict=True):
        assert np.abs(a.atoms.positions - b.atoms.positions).max() < 1e-8
        assert [r.etot_eV for r in a.records] == pytest.approx(
            [r.etot_eV for r in b.records], abs=1e-8
        )


def test_periodic_replicas_on_cuda_follow_the_cpu_trajectories() -> None:
    """The neighbour list (vesin) on the GPU: a periodic water box smaller than twice the
    cutoff, with Langevin equilibration, the hand-over and NVE."""
    box = water_box(n_side=2)
    systems = [(box, 300.0, k) for k in range(4)]
    cpu, gpu = _both(
        "zoo:ultra-tiny",
        systems,
        n_steps=20,
        timestep_fs=0.25,
        record_every=5,
        n_equilibration_steps=10,
    )
    for a, b in zip(cpu, gpu, strict=True):
        assert np.abs(a.atoms.positions - b.atoms.positions).max() < 1e-8
