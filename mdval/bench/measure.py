"""The measurements: the bare model, the torch engine and the ASE engine on one structure.

Each runs ``warmup`` + ``n`` repeats and keeps the medians of the last ``n`` (the first
TorchScript calls profile and optimise the graph and are slow). Every function returns
a :class:`BenchRecord`; timings follow METRICS.md ("Speed and memory").
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from ase import Atoms

from mdval.bench.records import BenchRecord
from mdval.errors import SimulationCrashed
from mdval.md.engine import PhaseSpec, PhaseTiming
from mdval.md.listener import RunListener
from mdval.md.observers import FailureDetector, ThermoRecorder
from mdval.md.snapshot import Observer, Snapshot
from mdval.md.torch_engine.batch import run_batch
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.state import state_from_atoms
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.metrics.timing import (
    PeakMemory,
    harness_ms_per_step,
    harness_overhead,
    mean_harness_overhead,
    median_ms,
    paired_harness_overhead,
)
from mdval.potentials.base import PotentialEntry

TIMESTEP_FS = 0.5
TEMPERATURE_K = 300.0
RECORD_EVERY = 10  # as `mdval run`'s default: thermo records (failure checks run every step)


class _NoteFailures:
    """The failure check of a run, without stopping it: a benchmark times the whole run and
    notes the first failure (a model still in training may well blow up)."""

    def __init__(self, atoms: Atoms) -> None:
        self.inner = FailureDetector(atoms, TEMPERATURE_K)
        self.interval = self.inner.interval
        self.exact_step = self.inner.exact_step  # scheduled as in a run
        self.reason: str | None = None

    def __call__(self, snap: Snapshot) -> None:
        try:
            self.inner(snap)
        except SimulationCrashed as crash:
            self.reason = self.reason or str(crash)

    def close(self) -> None:
        """Nothing to release."""


def _observers(atoms: Atoms) -> tuple[list[Observer], _NoteFailures]:
    """The observers of both engines here: failure check and thermo record, as in a run."""
    note = _NoteFailures(atoms)
    return [note, ThermoRecorder(RECORD_EVERY, RunListener())], note


def _record(
    model: str,
    atoms: Atoms,
    engine: str,
    replicas: int,
    device: str,
    inference_ms: float | None,
    step_ms: float | None,
    wall_s: float,
    n_steps: int,
    warmup: int,
    peak_MB: float | None,
    experiment: str,
    overhead: float | None = None,
) -> BenchRecord:
    """A record; ``overhead`` is its ``harness_overhead`` (None for the bare model)."""
    n_atoms = len(atoms)
    throughput = n_atoms * replicas * n_steps / wall_s if wall_s > 0 else None
    return BenchRecord(
        model=model,
        structure=str(atoms.info.get("name", atoms.get_chemical_formula())),
        n_atoms=n_atoms,
        engine=engine,
        replicas=replicas,
        device=device,
        inference_ms_per_step=inference_ms,
        step_ms=step_ms,
        harness_overhead=overhead,
        throughput_atom_steps_per_s=throughput,
        peak_memory_MB=peak_MB,
        experiment=experiment,
        n_steps=n_steps,
        warmup=warmup,
    )


def bare(
    model: ForceModel,
    name: str,
    atoms: Atoms,
    *,
    replicas: int = 1,
    n: int = 50,
    warmup: int = 5,
    device: str = "cpu",
    experiment: str = "single",
) -> BenchRecord:
    """The model alone: one batched forward + backward over ``replicas`` copies, timed."""
    state = state_from_atoms([atoms] * replicas, device=device)
    args = (state.positions, state.atomic_numbers, state.system_index, state.n_systems)
    cells = {} if state.cell is None else {"cell": state.cell, "pbc": state.pbc}
    call: Any = model  # a periodic batch: a model that takes cells (neighbours.py)
    model.pop_times()
    for _ in range(warmup):
        call(*args, **cells)
    model.pop_times()
    with PeakMemory(device) as mem:
        t0 = time.perf_counter()
        for _ in range(n):
            call(*args, **cells)
        wall = time.perf_counter() - t0
    inference = median_ms(model.pop_times())
    rec = _record(
        name, atoms, "bare", replicas, device, inference, None, wall, n, warmup, None, experiment
    )
    rec.peak_memory_MB = mem.peak_MB
    return rec


def torch_engine(
    model: ForceModel,
    name: str,
    atoms: Atoms,
    *,
    replicas: int = 1,
    n: int = 100,
    warmup: int = 10,
    device: str = "cpu",
    experiment: str = "single",
) -> BenchRecord:
    """NVE with the torch engine, ``replicas`` copies (seeds 0 .. R-1) in one batch."""
    systems = [(atoms, TEMPERATURE_K, seed) for seed in range(replicas)]
    watched = [_observers(atoms) for _ in systems]
    with PeakMemory(device) as mem:
        cpu0 = time.process_time()
        result = run_batch(
            model,
            systems,
            warmup + n,
            TIMESTEP_FS,
            RECORD_EVERY,
            device=device,
            detect_failures=False,
            observers=[obs for obs, _ in watched],
        )
        cpu_s = time.process_time() - cpu0
    timing = result.timings["production"]
    rec = _from_timing(
        timing, name, atoms, "torch", replicas, device, n, warmup, mem.peak_MB, experiment
    )
    rec.extra["cpu_ms_per_step"] = cpu_ms_per_step(cpu_s, warmup + n)
    failures = [note.reason for _, note in watched if note.reason]
    if failures:
        rec.extra["failure_noted"] = f"{len(failures)}/{replicas} replicas: {failures[0]}"
    return rec


def ase_engine(
    entry: PotentialEntry,
    name: str,
    atoms: Atoms,
    *,
    n: int = 100,
    warmup: int = 10,
    device: str = "cpu",
    experiment: str = "single",
) -> BenchRecord:
    """NVE with the ASE engine (ASE's VelocityVerlet around the model's ASE calculator), with
    the same observers the torch engine gets (failure check and thermo record)."""
    from mdval.md.ase_engine import AseEngine

    start = atoms.copy()
    initialize_velocities(start, TEMPERATURE_K, np.random.default_rng(0))
    engine = AseEngine(entry, device)
    observers, note = _observers(atoms)
    n_dof = degrees_of_freedom(start)
    rng = np.random.default_rng(0)
    # Warm-up outside the memory measurement: it builds the calculator (loads the model),
    # as the torch engine's model is loaded before its measurement.
    engine.run_phase(start, PhaseSpec("production", warmup, TIMESTEP_FS), [], n_dof=n_dof, rng=rng)
    with PeakMemory(device) as mem:
        timing = engine.run_phase(
            start, PhaseSpec("production", n, TIMESTEP_FS), observers, n_dof=n_dof, rng=rng
        )
    rec = _from_timing(
        timing, name, atoms, "ase", 1, device, n, 0, mem.peak_MB, experiment, skip_calls=0
    )
    rec.warmup = warmup
    if note.reason:
        rec.extra["failure_noted"] = f"1/1 replicas: {note.reason}"
    return rec


def cpu_ms_per_step(cpu_s: float, n_steps: int) -> float:
    """Process CPU time per step of a whole engine run (set-up, initial forces and warm-up
    included): on a shared machine it leaves out the time spent waiting for a core, which
    wall-clock step times do not."""
    return 1000.0 * cpu_s / max(n_steps, 1)


def _from_timing(
    timing: PhaseTiming,
    name: str,
    atoms: Atoms,
    engine: str,
    replicas: int,
    device: str,
    n: int,
    warmup: int,
    peak_MB: float | None,
    experiment: str,
    *,
    skip_calls: int | None = None,
) -> BenchRecord:
    """Medians over the steps after ``warmup``, and over the calls after ``skip_calls``
    (default ``warmup + 1``: the initial forces, then one call per step); the overhead pairs
    each step with its own call (:func:`mdval.metrics.timing.paired_harness_overhead`), and
    the record keeps the ratio of the two medians and the mean beside it."""
    steps = timing.step_s[warmup:]
    calls = timing.inference_s[warmup + 1 if skip_calls is None else skip_calls :]
    inference_ms, step_ms = median_ms(calls), median_ms(steps)
    rec = _record(
        name,
        atoms,
        engine,
        replicas,
        device,
        inference_ms,
        step_ms,
        float(np.sum(steps)),
        len(steps),
        warmup,
        peak_MB,
        experiment,
        overhead=paired_harness_overhead(steps, calls),
    )
    rec.extra["harness_ms_per_step"] = harness_ms_per_step(steps, calls)
    rec.extra["harness_overhead_of_medians"] = harness_overhead(step_ms, inference_ms)
    rec.extra["harness_overhead_mean"] = mean_harness_overhead(steps, calls)
    return rec


def set_threads(threads: int | None) -> int:
    """Use ``threads`` intra-op threads (None: torch's default); return the count in use."""
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
