"""Periodic cells on the torch engine: vesin's neighbour list against ASE's, and replicas of
a zoo student on a periodic water box against the ASE engine (ASE's neighbour list)."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from mdval.errors import InputError
from mdval.md.ase_engine import AseEngine
from mdval.md.engine import PhaseSpec, make_engine
from mdval.md.torch_engine import run_batch
from mdval.md.torch_engine.neighbours import pair_list
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.potentials.pair_calculator import PairCalculator
from mdval.potentials.registry import resolve_potential
from mdval.potentials.testing import export_test_potential
from mdval.structures.make_builtin import water_box


@functools.cache
def _small_water() -> Atoms:
    """8 H2O in a 6.2 Å cube: smaller than twice the students' 5 Å cutoff, so an atom sees
    several images of the same neighbour (what minimum image alone would get wrong)."""
    return water_box(n_side=2)


def _pairs(i: np.ndarray, j: np.ndarray, shifts: np.ndarray) -> set[tuple[int, ...]]:
    return {(int(a), int(b), *map(int, s)) for a, b, s in zip(i, j, shifts, strict=True)}


def test_vesin_pairs_are_ases_pairs_in_a_skewed_partly_periodic_batch() -> None:
    rng = np.random.default_rng(0)
    skewed = Atoms(
        "H" * 30,
        positions=rng.uniform(0, 6, (30, 3)),
        cell=[[6.0, 0, 0], [1.5, 5.5, 0], [0.5, 0.7, 6.5]],
        pbc=[True, True, False],
    )
    water = _small_water()
    systems = [skewed, water]
    positions = torch.as_tensor(np.concatenate([a.positions for a in systems]))
    cell = torch.as_tensor(np.stack([a.cell.array for a in systems]))
    pbc = torch.as_tensor(np.stack([a.pbc for a in systems]))
    i, j, shift_A = pair_list(positions, cell, pbc, [len(a) for a in systems], 4.0)
    start = 0
    for atoms in systems:
        ai, aj, a_shift = neighbor_list("ijS", atoms, 4.0)
        mine = ((i >= start) & (i < start + len(atoms))).numpy()
        shifts = np.linalg.solve(atoms.cell.array.T, shift_A[mine].numpy().T).T
        got = _pairs(i[mine].numpy() - start, j[mine].numpy() - start, np.rint(shifts))
        assert got == _pairs(ai, aj, a_shift) and len(got) > 10 * len(atoms)
        start += len(atoms)


def test_periodic_water_replicas_match_the_ase_engine() -> None:
    """4 replicas of zoo:ultra-tiny (float64) on the periodic 24-atom box through the batched
    engine (vesin pairs) equal the ASE engine (ASE's pairs) one by one to 1e-8 Å after 12
    steps: only the order of float64 sums differs. The single-run torch engine too."""
    entry = resolve_potential("zoo:ultra-tiny")
    assert entry.torchscript_path is not None
    path = entry.torchscript_path
    ase_side = replace(entry, factory=lambda device: PairCalculator(path, device=device))
    water = _small_water()
    systems = [(water, 250.0 + 50 * k, k) for k in range(4)]
    n_steps = 12
    spec = PhaseSpec("production", n_steps, 0.25)
    batch = run_batch(entry, systems, n_steps=n_steps, timestep_fs=0.25, record_every=n_steps)
    assert [r.status for r in batch.replicas] == ["completed"] * 4
    for k, (atoms, temperature, seed) in enumerate(systems):
        start = atoms.copy()
        velocity_seed, _ = np.random.SeedSequence(seed).spawn(2)
        initialize_velocities(start, temperature, np.random.default_rng(velocity_seed))
        engines = [AseEngine(ase_side, "cpu")] + ([make_engine("torch", entry, "cpu")] * (k == 0))
        ends = [start.copy() for _ in engines]
        for engine, end in zip(engines, ends, strict=True):
            engine.run_phase(
                end, spec, [], n_dof=degrees_of_freedom(end), rng=np.random.default_rng(0)
            )
        mine = batch.replicas[k].atoms
        assert np.abs(mine.positions - atoms.positions).max() > 1e-4  # it really moved
        for end in ends:
            assert np.abs(mine.positions - end.positions).max() < 1e-8
            assert np.abs(mine.get_momenta() - end.get_momenta()).max() < 1e-8


def test_periodic_nvt_then_nve_replicas_batch_as_they_run_alone() -> None:
    """Langevin equilibration, the hand-over and NVE with cells: a periodic box and a
    molecule (mixed pbc in one batch) follow the same trajectories together as alone."""
    entry = resolve_potential("zoo:ultra-tiny")
    water, molecule = _small_water(), _small_water()[:3].copy()
    molecule.pbc = False
    molecule.cell = None
    systems = [(water, 300.0, 1), (molecule, 300.0, 2)]
    kw = {"n_steps": 4, "timestep_fs": 0.25, "record_every": 2, "n_equilibration_steps": 4}
    together = run_batch(entry, systems, **kw)
    for k, system in enumerate(systems):
        alone = run_batch(entry, [system], **kw).replicas[0]
        mine = together.replicas[k]
        assert mine.status == alone.status == "completed"
        assert np.abs(mine.atoms.positions - alone.atoms.positions).max() < 1e-10
        assert [r.epot_eV for r in mine.records] == pytest.approx(
            [r.epot_eV for r in alone.records], abs=1e-9
        )


def test_a_model_without_cells_refuses_a_periodic_batch(tmp_path: Path) -> None:
    morse = export_test_potential(tmp_path / "morse.pt")
    with pytest.raises(InputError, match="non-periodic systems only"):
        run_batch(str(morse), [(_small_water(), 300.0, 0)], n_steps=1, timestep_fs=0.5)
