"""The mdval protocol: prepare, equilibrate (NVT, optional), produce (NVE), summarise.

``run_validation`` is the one entry point used by the CLI, the workers and the tests.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms

from mdval.controls.evidence import ControlEvidence
from mdval.errors import RunCancelled, RunStopped, SimulationCrashed
from mdval.md import ase_engine as _ase_engine  # noqa: F401  (registers the "ase" engine)
from mdval.md import torch_engine as _torch_engine  # noqa: F401  (registers "torch")
from mdval.md.config import RunConfig
from mdval.md.engine import PhaseSpec, PhaseTiming, make_engine
from mdval.md.handover import handover_scale
from mdval.md.listener import ForceErrorSample, RunListener, ThermoRecord
from mdval.md.observers import (
    CancelWatch,
    FailureDetector,
    FrameSampler,
    ReferenceEvaluator,
    ThermoRecorder,
    TrajectoryWriter,
)
from mdval.md.outputs import write_outputs
from mdval.md.prepare import PreparedRun, prepare
from mdval.md.snapshot import Observer
from mdval.md.summary import BatchShare, Outcome, build_summary
from mdval.md.velocities import degrees_of_freedom, initialize_velocities
from mdval.metrics.timing import PeakMemory

__all__ = ["PreparedRun", "RunResult", "prepare", "run_validation"]

#: Longest interval between the velocity frames of the VDOS (fs): O–H stretches near 110 THz
#: need a sampling frequency above 220 THz, i.e. an interval under ~4.5 fs.
VDOS_SAMPLE_FS = 2.0
#: Memory bound of the fine frame sample: atoms × frames (2e6: 96 MB of positions and
#: velocities; 4096 frames, 8 ps at 2 fs, for alanine dipeptide).
SAMPLE_ATOM_FRAMES = 2_000_000


@dataclass
class RunResult:
    """What a run produced. ``summary`` is the content of ``summary.json``."""

    status: str  # completed | crashed | cancelled
    summary: dict[str, Any]
    thermo: list[ThermoRecord] = field(default_factory=list)
    force_errors: list[ForceErrorSample] = field(default_factory=list)
    out_dir: Path | None = None
    frames: dict[str, np.ndarray] = field(default_factory=dict)  # FrameSampler.arrays()


def run_validation(
    config: RunConfig,
    *,
    out_dir: Path | None = None,
    listener: RunListener | None = None,
    prepared: PreparedRun | None = None,
    control: ControlEvidence | Literal["auto"] | None = None,
) -> RunResult:
    """Run one validation; write ``summary.json``, ``thermo.csv``, ``trajectory.extxyz``.

    Bad input raises :class:`mdval.errors.InputError` before any step. A model failure is a
    result (status ``crashed``); a cooperative cancel ends ``cancelled``.

    ``control``: the run's control (the reference under the same protocol), against which
    the verdict is judged (:mod:`mdval.controls`). ``"auto"`` finds it in the cache or runs
    it first (a run of the reference against itself is its own control); None judges the
    run on its own, as without a reference.
    """
    run = prepared or prepare(config)
    if control == "auto":
        from mdval.controls.cache import resolve_control  # it runs the protocol itself

        control = resolve_control(run)
    listener = listener or RunListener()
    started = datetime.now(UTC)
    atoms = run.atoms.copy()
    thermostatted = config.n_equilibration_steps > 0
    n_dof = degrees_of_freedom(atoms, thermostatted=thermostatted)
    velocity_seed, thermostat_seed = np.random.SeedSequence(config.seed).spawn(2)
    initialize_velocities(
        atoms,
        config.temperature_K,
        np.random.default_rng(velocity_seed),
        thermostatted=thermostatted,
    )
    thermostat_rng = np.random.default_rng(thermostat_seed)

    phases = _phases(config)
    total_steps = sum(p.n_steps for p in phases)
    announce_start(listener, atoms, total_steps, run.device)
    engine = make_engine(config.engine, run.model, run.device)
    detector = FailureDetector(atoms, config.temperature_K)
    recorder = ThermoRecorder(config.record_every, listener, total_steps=total_steps)
    evaluator, writer = run_observers(run, listener, out_dir)
    sampler = frame_sampler(config, len(atoms))
    observers: list[Observer] = [detector, recorder, sampler]
    observers += [o for o in (evaluator, writer) if o is not None]
    observers.append(CancelWatch(listener))

    outcome = Outcome(status="completed")
    timings: dict[str, PhaseTiming] = {}
    memory = PeakMemory()
    elapsed_ps = 0.0  # simulated time of the phases before the current one
    with memory:
        for spec in phases:
            if spec.phase == "production" and timings:
                hand_over(
                    atoms, detector.last_epot_eV, recorder.records, n_dof, config.temperature_K
                )
            try:
                timings[spec.phase] = engine.run_phase(
                    atoms, spec, observers, n_dof=n_dof, rng=thermostat_rng
                )
            except SimulationCrashed as crash:
                t = round(elapsed_ps + crash.time_ps, 12)
                outcome = Outcome("crashed", crash.reason, t, spec.phase)
                _keep_timing(timings, spec.phase, crash)
            except RunCancelled as exc:
                reached = elapsed_ps + _steps_reached(exc, recorder) * spec.timestep_fs / 1000.0
                outcome = Outcome("cancelled", str(exc), round(reached, 12), spec.phase)
                _keep_timing(timings, spec.phase, exc)
            if outcome.status != "completed":
                break
            elapsed_ps += spec.n_steps * spec.timestep_fs / 1000.0
            recorder.steps_before += spec.n_steps
    for observer in observers:
        observer.close()

    return finish_run(
        run,
        outcome,
        recorder.records,
        evaluator,
        writer,
        timings,
        n_dof=n_dof,
        peak_memory_MB=memory.peak_MB,
        started=started,
        engine_name=engine.name,
        out_dir=out_dir,
        listener=listener,
        sampler=sampler,
        control=control,
    )


def frame_sampler(config: RunConfig, n_atoms: int) -> FrameSampler:
    """The in-memory frames of a run for its equilibrium observables: structures every
    ``frame_every`` steps, positions and velocities every ≤ 2 fs (VDOS, and distributions
    with many frames), at most :data:`SAMPLE_ATOM_FRAMES` atoms × frames of them."""
    return FrameSampler(
        structure_every=config.frame_every,
        velocity_every=max(1, int(VDOS_SAMPLE_FS // config.timestep_fs)),
        timestep_fs=config.timestep_fs,
        max_velocity_frames=max(64, min(4096, SAMPLE_ATOM_FRAMES // max(1, n_atoms))),
    )


def hand_over(
    atoms: Atoms,
    epot_eV: float | None,
    records: list[ThermoRecord],
    n_dof: int,
    temperature_K: float,
) -> None:
    """Rescale the momenta of the equilibrated ``atoms`` (potential energy ``epot_eV``) to
    start NVE at the canonical mean energy (:mod:`mdval.md.handover`)."""
    if epot_eV is None:
        return
    factor = handover_scale(
        records,
        epot_eV=epot_eV,
        ekin_eV=float(atoms.get_kinetic_energy()),
        n_dof=n_dof,
        temperature_K=temperature_K,
    )
    atoms.set_momenta(atoms.get_momenta() * factor)


def _keep_timing(timings: dict[str, PhaseTiming], phase: str, stop: RunStopped) -> None:
    if isinstance(stop.timing, PhaseTiming):
        timings[phase] = stop.timing


def _steps_reached(stop: RunStopped, recorder: ThermoRecorder) -> int:
    """Steps of the current phase done when a run stopped (the last record's step)."""
    if isinstance(stop.timing, PhaseTiming) and stop.timing.steps_done:
        return stop.timing.steps_done
    return recorder.records[-1].step if recorder.records else 0


def announce_start(listener: RunListener, atoms: Atoms, total_steps: int, device: str) -> None:
    """Tell the listener what is about to run (before the first step)."""
    listener.on_start(
        {
            "n_atoms": len(atoms),
            "formula": atoms.get_chemical_formula(),
            "total_steps": total_steps,
            "device": device,
        }
    )


def run_observers(
    run: PreparedRun, listener: RunListener, out_dir: Path | None
) -> tuple[ReferenceEvaluator | None, TrajectoryWriter | None]:
    """The optional observers of a run: reference evaluator and trajectory writer."""
    config = run.config
    evaluator = None
    if run.reference is not None:
        evaluator = ReferenceEvaluator(
            config.reference_every, run.reference.make_calculator(run.device), listener
        )
    writer = None
    if out_dir is not None:
        writer = TrajectoryWriter(config.frame_every, Path(out_dir) / "trajectory.extxyz")
    return evaluator, writer


def finish_run(
    run: PreparedRun,
    outcome: Outcome,
    records: list[ThermoRecord],
    evaluator: ReferenceEvaluator | None,
    writer: TrajectoryWriter | None,
    timings: dict[str, PhaseTiming],
    *,
    n_dof: int,
    peak_memory_MB: float | None,
    started: datetime,
    engine_name: str,
    out_dir: Path | None,
    listener: RunListener,
    batch: BatchShare | None = None,
    sampler: FrameSampler | None = None,
    control: ControlEvidence | None = None,
) -> RunResult:
    """Summarise a run, write its outputs, tell the listener; the result."""
    frames = sampler.arrays() if sampler is not None else {}
    summary = build_summary(
        config=run.config,
        run=run,
        outcome=outcome,
        records=records,
        evaluator=evaluator,
        timings=timings,
        n_dof=n_dof,
        peak_memory_MB=peak_memory_MB,
        started=started,
        host=socket.gethostname(),
        n_frames=writer.n_frames if writer else 0,
        engine_name=engine_name,
        batch=batch,
        frames=frames,
        control=control,
    )
    if out_dir is not None:
        write_outputs(Path(out_dir), summary, records)
    listener.on_end(summary)
    return RunResult(
        status=outcome.status,
        summary=summary,
        thermo=records,
        force_errors=evaluator.samples if evaluator else [],
        out_dir=Path(out_dir) if out_dir is not None else None,
        frames=frames,
    )


def _phases(config: RunConfig) -> list[PhaseSpec]:
    phases = []
    if config.n_equilibration_steps > 0:
        phases.append(
            PhaseSpec(
                "equilibration",
                config.n_equilibration_steps,
                config.timestep_fs,
                thermostat_K=config.temperature_K,
                friction_per_ps=config.friction_per_ps,
            )
        )
    phases.append(PhaseSpec("production", config.n_production_steps, config.timestep_fs))
    return phases
