"""A real materials model through the torch engine's TorchSim path: SevenNet-0 replicas on
periodic copper, batched, against the ASE engine with sevenn's own calculator (the `mlip`
marker; needs the materials extra)."""

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

needs_materials = pytest.mark.skipif(
    importlib.util.find_spec("sevenn") is None or importlib.util.find_spec("torch_sim") is None,
    reason="pip install 'mdval[materials]'",
)


@pytest.mark.mlip
@needs_materials
def test_eight_sevennet_replicas_on_periodic_copper_match_the_ase_engine() -> None:
    """8 replicas of SevenNet-0 (float32) on the 32-atom periodic Cu cell, rattled
    differently, through the batched torch engine (vesin pairs, one collated graph) equal
    the ASE engine with sevenn's calculator (its own neighbour list, one graph each) after
    5 steps of 2 fs: the same float32 model on the same edges, summed in another order
    (≈1e-5 eV/Å in the forces), so positions agree to 1e-5 Å and momenta to 1e-3."""
    entry = resolve_potential("sevennet:7net-0")
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
    spec = PhaseSpec("production", n_steps, 2.0)
    for k, (atoms, temperature, seed) in enumerate(systems):
        start = atoms.copy()
        velocity_seed, _ = np.random.SeedSequence(seed).spawn(2)
        initialize_velocities(start, temperature, np.random.default_rng(velocity_seed))
        AseEngine(entry, "cpu").run_phase(
            start, spec, [], n_dof=degrees_of_freedom(start), rng=np.random.default_rng(0)
        )
        mine = batch.replicas[k].atoms
        assert np.abs(mine.positions - atoms.positions).max() > 1e-2  # it really moved
        assert np.abs(mine.positions - start.positions).max() < 1e-5
        assert np.abs(mine.get_momenta() - start.get_momenta()).max() < 1e-3
