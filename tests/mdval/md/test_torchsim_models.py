"""Real materials models through the torch engine's TorchSim path: SevenNet-0 and CHGNet
0.3.0 replicas on periodic copper, batched, against the ASE engine with each package's own
calculator (the `mlip` marker; needs the materials extra)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mdval.md.ase_engine import AseEngine
from mdval.md.engine import PhaseSpec, make_engine
from mdval.md.torch_engine import run_batch
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.potentials.registry import resolve_potential
from mdval.structures import load_structure


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


MATERIALS = "pip install 'mdval[materials]'"


@pytest.mark.mlip
@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(
            "sevennet:7net-0",
            marks=pytest.mark.skipif(not _installed("sevenn", "torch_sim"), reason=MATERIALS),
        ),
        pytest.param(
            "chgnet:0.3.0",
            marks=pytest.mark.skipif(not _installed("chgnet", "torch_sim"), reason=MATERIALS),
        ),
    ],
)
def test_eight_replicas_of_a_materials_model_on_periodic_copper_match_the_ase_engine(
    spec: str,
) -> None:
    """8 replicas (float32) on the 32-atom periodic Cu cell, rattled differently, through
    the batched torch engine (one batched call: SevenNet on vesin pairs, one collated graph;
    CHGNet on its own graphs, one batch) equal the ASE engine with the package's calculator
    (one structure per call) after 5 steps of 2 fs: the same float32 model on the same
    edges, summed in another order (≈1e-5 eV/Å in the forces, measured), so positions
    agree to 1e-5 Å and momenta to 1e-3 amu·Å/t."""
    entry = resolve_potential(spec)
    assert entry.is_torch and entry.torchsim  # the batched engine takes it, by name
    assert make_engine("auto", entry, "cpu").name == "ase"  # auto keeps stress
    systems = []
    for k in range(8):
        atoms = load_structure("cu-fcc")
        atoms.rattle(0.03, seed=k)
        systems.append((atoms, 300.0 + 50 * k, k))
    n_steps = 5
    batch = run_batch(entry, systems, n_steps=n_steps, timestep_fs=2.0, record_every=n_steps)
    assert [r.status for r in batch.replicas] == ["completed"] * 8
    phase = PhaseSpec("production", n_steps, 2.0)
    for k, (atoms, temperature, seed) in enumerate(systems):
        start = atoms.copy()
        velocity_seed, _ = np.random.SeedSequence(seed).spawn(2)
        initialize_velocities(start, temperature, np.random.default_rng(velocity_seed))
        AseEngine(entry, "cpu").run_phase(
            start, phase, [], n_dof=degrees_of_freedom(start), rng=np.random.default_rng(0)
        )
        mine = batch.replicas[k].atoms
        assert np.abs(mine.positions - atoms.positions).max() > 1e-2  # it really moved
        assert np.abs(mine.positions - start.positions).max() < 1e-5
        assert np.abs(mine.get_momenta() - start.get_momenta()).max() < 1e-3
