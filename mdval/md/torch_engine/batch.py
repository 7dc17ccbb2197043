"""Many replicas in one batch: ``run_batch`` for the benchmark, sweeps and workers.

Each replica is a structure, a temperature and a seed, prepared exactly as
:func:`mdval.md.protocol.run_validation` prepares a run (velocities from the first child of
``SeedSequence(seed)``, thermostat noise from the second), so replica ``k`` of a batch
follows the same trajectory as a single run with the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from ase import Atoms

from mdval.errors import InputError, SimulationCrashed
from mdval.md.engine import PhaseTiming
from mdval.md.handover import handover_scale
from mdval.md.listener import RunListener, ThermoRecord
from mdval.md.observers import CancelWatch, FailureDetector, ThermoRecorder
from mdval.md.snapshot import Observer
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.neighbours import periodic_model
from mdval.md.torch_engine.runner import PhaseOutcome, Thermostat, run_phase
from mdval.md.torch_engine.state import MDState, state_from_atoms, to_host
from mdval.md.torch_engine.torchsim_models import force_model
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.potentials.base import PotentialEntry

#: A replica: (structure, temperature in K, seed).
ReplicaSpec = tuple[Atoms, float, int]


@dataclass
class ReplicaResult:
    """What one replica did. ``atoms`` holds its final positions and momenta."""

    index: int
    status: str  # "completed" | "crashed" | "cancelled"
    reason: str | None
    phase: str | None  # where it stopped early; None when completed
    steps_done: int  # steps of the phase where it stopped (all steps when completed)
    time_to_failure_ps: float | None  # from the start of the run, equilibration included
    records: list[ThermoRecord]
    atoms: Atoms
    stopped_at_ps: float | None = None  # crash or cancel time from the start of the run


@dataclass
class BatchResult:
    replicas: list[ReplicaResult]
    timings: dict[str, PhaseTiming] = field(default_factory=dict)  # per phase
    n_atoms: int = 0  # all replicas together

    @property
    def n_crashed(self) -> int:
        return sum(r.status == "crashed" for r in self.replicas)


def load_model(
    potential: PotentialEntry | str | Path | torch.nn.Module | ForceModel,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    *,
    time_calls: bool = True,
) -> ForceModel:
    """A :class:`ForceModel` from an entry, a spec (``zoo:tiny``, ``model.pt``,
    ``sevennet:7net-0``) or a module."""
    if isinstance(potential, ForceModel):
        return potential
    if isinstance(potential, torch.nn.Module):
        module = potential.to(device=device, dtype=dtype).eval()
        model = ForceModel(module, time_calls=time_calls)
        return model
    if isinstance(potential, str | Path):
        from mdval.potentials.registry import resolve_potential

        potential = resolve_potential(str(potential))
    return force_model(potential, device, dtype, time_calls=time_calls)


def prepare_replicas(
    systems: Sequence[ReplicaSpec], *, thermostatted: bool = False
) -> tuple[list[Atoms], list[int], list[np.random.Generator]]:
    """Copies with seeded velocities, their N_dof, and their thermostat generators.

    ``thermostatted``: the run has a Langevin equilibration, so N_dof is 3N − 3 throughout
    (as in :func:`~mdval.md.protocol.run_validation`).
    """
    prepared: list[Atoms] = []
    n_dof: list[int] = []
    generators: list[np.random.Generator] = []
    for atoms, temperature, seed in systems:
        copy = atoms.copy()
        copy.calc = None
        velocity_seed, thermostat_seed = np.random.SeedSequence(seed).spawn(2)
        initialize_velocities(
            copy, temperature, np.random.default_rng(velocity_seed), thermostatted=thermostatted
        )
        prepared.append(copy)
        n_dof.append(degrees_of_freedom(copy, thermostatted=thermostatted))
        generators.append(np.random.default_rng(thermostat_seed))
    return prepared, n_dof, generators


def run_batch(
    potential: PotentialEntry | str | Path | torch.nn.Module | ForceModel,
    systems: Sequence[ReplicaSpec],
    n_steps: int,
    timestep_fs: float,
    record_every: int = 10,
    *,
    n_equilibration_steps: int = 0,
    friction_per_ps: float = 10.0,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    detect_failures: bool = True,
    observers: Sequence[Sequence[Observer]] | None = None,
    listeners: Sequence[RunListener] | None = None,
    time_calls: bool = True,
) -> BatchResult:
    """Integrate every replica of ``systems`` together and return one result per replica.

    Optional Langevin (BAOAB) equilibration of ``n_equilibration_steps`` at each replica's
    temperature, then ``n_steps`` of NVE velocity Verlet at ``timestep_fs``. Every replica
    gets a :class:`FailureDetector` (when ``detect_failures``) and a :class:`ThermoRecorder`
    every ``record_every`` steps, then its own ``observers[k]`` if given. ``listeners[k]``
    receives replica ``k``'s thermo records and progress and is asked ``should_cancel`` at
    each record and about every :data:`~mdval.md.observers.CANCEL_POLL_S` of wall time, as
    in :func:`~mdval.md.protocol.run_validation`. A replica that crashes
    (failure check, NaN, exception in the potential) or is cancelled stops; the others go
    on.
    """
    if not systems:
        raise InputError("run_batch needs at least one replica")
    if observers is not None and len(observers) != len(systems):
        raise InputError(f"{len(observers)} observer lists for {len(systems)} replicas")
    if listeners is not None and len(listeners) != len(systems):
        raise InputError(f"{len(listeners)} listeners for {len(systems)} replicas")
    model = load_model(potential, device, dtype, time_calls=time_calls)
    if any(bool(atoms.pbc.any()) for atoms, _t, _s in systems):
        model = periodic_model(model)  # InputError for a model without cells
    prepared, n_dof, generators = prepare_replicas(systems, thermostatted=n_equilibration_steps > 0)
    total = n_steps + max(n_equilibration_steps, 0)
    recorders = [
        ThermoRecorder(
            record_every,
            listeners[k] if listeners is not None else RunListener(),
            total_steps=total,
        )
        for k in range(len(systems))
    ]
    per_replica: list[list[Observer]] = []
    for k, (atoms, temperature, _seed) in enumerate(systems):
        obs: list[Observer] = []
        if detect_failures:
            obs.append(FailureDetector(atoms, temperature))
        obs.append(recorders[k])
        obs.extend(observers[k] if observers is not None else [])
        if listeners is not None:
            obs.append(CancelWatch(listeners[k]))  # each replica's own wall-clock poll
        per_replica.append(obs)

    state: MDState | None = state_from_atoms(prepared, device=device, dtype=dtype)
    ids = list(range(len(systems)))
    stops: dict[int, tuple[PhaseOutcome, str, float]] = {}  # replica -> (outcome, phase, t0)
    timings: dict[str, PhaseTiming] = {}
    elapsed_ps = 0.0
    phases = [("equilibration", n_equilibration_steps), ("production", n_steps)]
    for phase, steps in phases:
        if steps <= 0 or state is None:
            continue
        if phase == "production" and timings:
            state = _hand_over(state, ids, recorders, n_dof, [systems[k][1] for k in ids])
        thermostat = (
            Thermostat([systems[k][1] for k in ids], friction_per_ps, [generators[k] for k in ids])
            if phase == "equilibration"
            else None
        )
        outcome = run_phase(
            state,
            model,
            n_steps=steps,
            timestep_fs=timestep_fs,
            phase=phase,
            observers=[per_replica[k] for k in ids],
            n_dof=[n_dof[k] for k in ids],
            thermostat=thermostat,
            replica_ids=ids,
        )
        timings[phase] = outcome.timing
        for k in outcome.stopped:
            stops[k] = (outcome, phase, elapsed_ps)
        state, ids = outcome.state, outcome.alive
        for recorder in recorders:
            recorder.steps_before += steps
        elapsed_ps += steps * timestep_fs / 1000.0

    for obs in per_replica:
        for o in obs:
            o.close()
    return BatchResult(
        replicas=_results(prepared, recorders, stops, state, ids, n_steps, timestep_fs),
        timings=timings,
        n_atoms=sum(len(a) for a in prepared),
    )


def _hand_over(
    state: MDState,
    ids: list[int],
    recorders: list[ThermoRecorder],
    n_dof: list[int],
    temperatures_K: list[float],
) -> MDState:
    """Each replica's momenta rescaled to start NVE at its canonical mean energy, as
    :func:`mdval.md.protocol.hand_over` does for a single run."""
    if state.energies is None:
        return state
    frame = to_host(state)
    assert frame.energies is not None
    factors = np.ones(state.n_atoms)
    for s, k in enumerate(ids):
        rows = frame.rows(s)
        p, m = frame.momenta[rows], frame.masses[rows]
        factors[rows] = handover_scale(
            recorders[k].records,
            epot_eV=float(frame.energies[s]),
            ekin_eV=float(0.5 * np.sum(p * p / m[:, None])),
            n_dof=n_dof[k],
            temperature_K=temperatures_K[s],
        )
    scale = torch.as_tensor(factors, dtype=state.dtype, device=state.device)
    return replace(state, momenta=state.momenta * scale[:, None])


def _results(
    prepared: list[Atoms],
    recorders: list[ThermoRecorder],
    stops: dict[int, tuple[PhaseOutcome, str, float]],
    state: MDState | None,
    ids: list[int],
    n_steps: int,
    timestep_fs: float,
) -> list[ReplicaResult]:
    frame = to_host(state) if state is not None else None
    results = []
    for k, atoms in enumerate(prepared):
        final = atoms.copy()
        if k in stops:
            outcome, phase, before_ps = stops[k]
            stop = outcome.stopped[k]
            final.set_positions(stop.positions)
            final.set_momenta(stop.momenta)
            results.append(
                ReplicaResult(
                    index=k,
                    status=stop.status,
                    reason=stop.error.reason
                    if isinstance(stop.error, SimulationCrashed)
                    else str(stop.error),
                    phase=phase,
                    steps_done=stop.step,
                    time_to_failure_ps=round(before_ps + stop.error.time_ps, 12)
                    if isinstance(stop.error, SimulationCrashed)
                    else None,
                    records=recorders[k].records,
                    atoms=final,
                    stopped_at_ps=round(before_ps + stop.step * timestep_fs / 1000.0, 12),
                )
            )
            continue
        assert frame is not None
        rows = frame.rows(ids.index(k))
        final.set_positions(frame.positions[rows])
        final.set_momenta(frame.momenta[rows])
        results.append(
            ReplicaResult(k, "completed", None, None, n_steps, None, recorders[k].records, final)
        )
    return results
