"""The observers of a run: each one small job, attached to the engine with an interval.

* :class:`ThermoRecorder` keeps the thermo records, reports progress, polls cancel.
* :class:`FailureDetector` stops the run at the first sign the model broke (METRICS.md).
* :class:`ReferenceEvaluator` evaluates the reference potential on sampled frames.
* :class:`TrajectoryWriter` appends frames to an extxyz file.
* :class:`CancelWatch` polls cancel on the wall clock, whatever the record interval; the
  engines call it between steps through a :class:`ClockStride` (not as an observer).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from mdval.errors import RunCancelled, SimulationCrashed
from mdval.md.listener import ForceErrorSample, RunListener, ThermoRecord
from mdval.md.snapshot import Snapshot
from mdval.metrics.forces import per_atom_error_norms
from mdval.metrics.stability import check_frame, crash_pairs, largest_force

_GPA_PER_EV_PER_A3 = 1.0 / units.GPa


class ThermoRecorder:
    """Turns snapshots into :class:`ThermoRecord` rows; forwards them to the listener."""

    def __init__(
        self,
        interval: int,
        listener: RunListener,
        *,
        steps_before: int = 0,
        total_steps: int = 0,
    ) -> None:
        self.interval = interval
        self.listener = listener
        self.steps_before = steps_before  # steps of earlier phases, for progress
        self.total_steps = total_steps
        self.records: list[ThermoRecord] = []

    def __call__(self, snap: Snapshot) -> None:
        stress = snap.stress_eV_per_A3
        record = ThermoRecord(
            phase=snap.phase,
            step=snap.step,
            time_ps=snap.time_ps,
            epot_eV=snap.epot_eV,
            ekin_eV=snap.ekin_eV,
            etot_eV=snap.etot_eV,
            temperature_K=snap.temperature_K,
            max_force_eV_per_A=largest_force(snap.forces_eV_per_A)[0],
            inference_ms=snap.inference_ms,
            pressure_GPa=None
            if stress is None
            else float(-np.mean(stress[:3]) * _GPA_PER_EV_PER_A3),
        )
        self.records.append(record)
        self.listener.on_thermo(record)
        self.listener.on_progress(self.steps_before + snap.step, self.total_steps)
        if self.listener.should_cancel():
            raise RunCancelled(f"cancelled at {snap.phase} step {snap.step}")

    def close(self) -> None:
        """Nothing to release."""


#: Longest wall time between two cancel polls of a running run, in seconds.
CANCEL_POLL_S = 0.5
#: Most steps between two reads of the clock (see :class:`ClockStride`).
MAX_CLOCK_STRIDE = 1024


class CancelWatch:
    """Asks the listener ``should_cancel`` (after ``poll``) every ``interval_s`` of wall time.

    A record interval of 64,221 steps left a cancel unread for minutes: the engines call
    :meth:`check` between steps, with the time a :class:`ClockStride` read, and a True
    stops the run (one replica of a batch) with :class:`RunCancelled`. It is in the
    observer list of a run but is no observer: engines take it out (``cancel_watch``).
    """

    cancel_watch = True
    interval = 1

    def __init__(self, listener: RunListener, *, interval_s: float = CANCEL_POLL_S) -> None:
        self.listener = listener
        self.interval_s = interval_s
        self.next_at = time.monotonic() + interval_s

    def check(self, phase: str, step: int, now: float) -> None:
        if now < self.next_at:
            return
        self.next_at = now + self.interval_s
        self.listener.poll()
        if self.listener.should_cancel():
            raise RunCancelled(f"cancelled at {phase} step {step}")

    def __call__(self, snap: Snapshot) -> None:
        """Not an observer: the engines call :meth:`check`."""

    def close(self) -> None:
        """Nothing to release."""


def is_cancel_watch(observer: object) -> bool:
    return bool(getattr(observer, "cancel_watch", False))


class ClockStride:
    """Reads the clock only every ``stride`` steps, the stride adapted to the step time so
    that reads come about every ``interval_s / 10``: a counter decrement per step, a
    ``time.monotonic()`` now and then (no host sync on the torch engine)."""

    def __init__(self, interval_s: float = CANCEL_POLL_S) -> None:
        self.target_s = interval_s / 10.0
        self.stride = 1
        self.countdown = 1
        self.last = time.monotonic()

    def now(self) -> float | None:
        """The time, at a step where the clock is read; None at the others."""
        self.countdown -= 1
        if self.countdown > 0:
            return None
        now = time.monotonic()
        elapsed = now - self.last
        if elapsed > 0:
            self.stride = max(1, min(MAX_CLOCK_STRIDE, int(self.stride * self.target_s / elapsed)))
        self.countdown = self.stride
        self.last = now
        return now


class FailureDetector:
    """Raises :class:`SimulationCrashed` at the first step that fails a stability check.

    Runs every step by default (``interval`` 1), so the crash time is exact to the step
    whatever the record interval. The crash time is the step's time within its phase (the
    protocol adds earlier phases). In NVE the total energy at the first production step is
    the baseline of the energy-departure check; a thermostatted phase has none.
    """

    #: The torch engine may call it only when another observer is due and replay the steps in
    #: between when it fires (mdval.md.torch_engine.runner); the result is the same.
    exact_step = True

    def __init__(self, start: Atoms, target_temperature_K: float, *, interval: int = 1) -> None:
        self.interval = interval
        self.target_temperature_K = target_temperature_K
        self.pairs, self.metallic = crash_pairs(start)
        self._start_etot: float | None = None
        self.last_epot_eV: float | None = None  # of the last step checked

    def __call__(self, snap: Snapshot) -> None:
        self.last_epot_eV = snap.epot_eV
        nve = snap.phase == "production"
        if nve and self._start_etot is None and np.isfinite(snap.etot_eV):
            self._start_etot = snap.etot_eV
        reason = check_frame(
            positions_A=snap.positions_A,
            forces_eV_per_A=snap.forces_eV_per_A,
            epot_eV=snap.epot_eV,
            temperature_K=snap.temperature_K,
            target_temperature_K=self.target_temperature_K,
            etot_eV=snap.etot_eV if nve else None,
            start_etot_eV=self._start_etot if nve else None,
            bonds=self.pairs,
            metallic=self.metallic,
            cell=snap.cell_A,
            pbc=snap.pbc,
        )
        if reason is not None:
            raise SimulationCrashed(reason, snap.time_ps, snap.step)

    def close(self) -> None:
        """Nothing to release."""


class ReferenceEvaluator:
    """Evaluates the reference on sampled production frames of the model's own trajectory.

    A reference that raises on a frame (an SCF that does not converge, say) is not a crash of
    the model: the frame is skipped and counted (``n_skipped``, the first message kept in
    ``skip_reason``), and the run goes on.
    """

    def __init__(self, interval: int, reference: Calculator, listener: RunListener) -> None:
        self.interval = interval
        self.reference = reference
        self.listener = listener
        self.model_forces: list[np.ndarray] = []
        self.reference_forces: list[np.ndarray] = []
        self.model_energies: list[float] = []
        self.reference_energies: list[float] = []
        self.samples: list[ForceErrorSample] = []
        self.n_skipped = 0
        self.skip_reason: str | None = None

    def __call__(self, snap: Snapshot) -> None:
        if snap.phase != "production":
            return
        atoms = snap.to_atoms()
        atoms.calc = self.reference
        try:
            g = np.array(atoms.get_forces(), dtype=float)
            e_ref = float(atoms.get_potential_energy())
        except Exception as exc:  # any failure of the reference code skips the frame
            self.n_skipped += 1
            if self.skip_reason is None:
                self.skip_reason = f"{type(exc).__name__}: {exc}"[:300]
            return
        if not (np.all(np.isfinite(g)) and np.isfinite(e_ref)):
            self.n_skipped += 1
            self.skip_reason = self.skip_reason or "non-finite reference energy or forces"
            return
        f = snap.forces_eV_per_A
        norms = per_atom_error_norms(f, g)
        self.model_forces.append(f)
        self.reference_forces.append(g)
        self.model_energies.append(snap.epot_eV)
        self.reference_energies.append(e_ref)
        sample = ForceErrorSample(
            step=snap.step,
            time_ps=snap.time_ps,
            per_atom_error_eV_per_A=norms,
            force_rmse_eV_per_A=float(np.sqrt(np.mean((f - g) ** 2))),
            energy_error_eV=snap.epot_eV - e_ref,
        )
        self.samples.append(sample)
        self.listener.on_force_errors(sample)

    def close(self) -> None:
        """Nothing to release."""


class TrajectoryWriter:
    """Appends production frames (positions, velocities, energy, forces) to an extxyz file."""

    def __init__(self, interval: int, path: Path) -> None:
        self.interval = interval
        self.path = path
        self.n_frames = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def __call__(self, snap: Snapshot) -> None:
        if snap.phase != "production":
            return
        atoms = snap.to_atoms()
        atoms.set_velocities(snap.velocities_A_per_fs / units.fs)
        atoms.info.update(step=snap.step, time_ps=snap.time_ps)
        atoms.calc = SinglePointCalculator(atoms, energy=snap.epot_eV, forces=snap.forces_eV_per_A)
        write(self.path, atoms, format="extxyz", append=True)
        self.n_frames += 1

    def close(self) -> None:
        """Each frame is written and closed as it comes."""


class FrameSampler:
    """Keeps production frames in memory for the equilibrium observables.

    Two samples: positions every ``structure_every`` steps (distributions of distances, bonds,
    angles, dihedrals), and positions with velocities every ``velocity_every`` steps for the
    vibrational density of states, at most ``max_velocity_frames`` of them (the VDOS needs a
    fine interval, ≤ 2 fs for O–H stretches near 110 THz, not a long one).
    """

    def __init__(
        self,
        *,
        structure_every: int,
        velocity_every: int,
        timestep_fs: float,
        max_velocity_frames: int = 4096,
    ) -> None:
        self.interval = math.gcd(structure_every, velocity_every)
        self.structure_every = structure_every
        self.velocity_every = velocity_every
        self.timestep_fs = timestep_fs
        self.max_velocity_frames = max_velocity_frames
        self.positions: list[np.ndarray] = []
        self.velocity_positions: list[np.ndarray] = []
        self.velocities: list[np.ndarray] = []
        self.numbers: np.ndarray | None = None
        self.cell: np.ndarray | None = None
        self.pbc: tuple[bool, bool, bool] = (False, False, False)

    def __call__(self, snap: Snapshot) -> None:
        if snap.phase != "production":
            return
        if self.numbers is None:
            self.numbers, self.cell, self.pbc = snap.numbers.copy(), snap.cell_A, snap.pbc
        if snap.step % self.structure_every == 0:
            self.positions.append(snap.positions_A.copy())
        if snap.step % self.velocity_every == 0 and len(self.velocities) < self.max_velocity_frames:
            self.velocity_positions.append(snap.positions_A.copy())
            self.velocities.append(snap.velocities_A_per_fs.copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """The samples as arrays (for an ``.npz`` file and :func:`samples_from_arrays`)."""
        n = 0 if self.numbers is None else len(self.numbers)
        empty = np.zeros((0, n, 3))
        return {
            "positions_A": np.array(self.positions) if self.positions else empty,
            "velocity_positions_A": np.array(self.velocity_positions)
            if self.velocity_positions
            else empty,
            "velocities_A_per_fs": np.array(self.velocities) if self.velocities else empty,
            "numbers": self.numbers if self.numbers is not None else np.zeros(0, np.int64),
            "cell_A": self.cell if self.cell is not None else np.zeros((3, 3)),
            "pbc": np.array(self.pbc, dtype=bool),
            "structure_interval_ps": np.array(self.structure_every * self.timestep_fs / 1000.0),
            "velocity_interval_ps": np.array(self.velocity_every * self.timestep_fs / 1000.0),
        }

    def close(self) -> None:
        """Frames stay in memory until the summary is built."""
