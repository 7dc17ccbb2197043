"""The observers of a run: each one small job, attached to the engine with an interval.

* :class:`ThermoRecorder` keeps the thermo records, reports progress, polls cancel.
* :class:`FailureDetector` stops the run at the first sign the model broke (METRICS.md).
* :class:`ReferenceEvaluator` evaluates the reference potential on sampled frames.
* :class:`TrajectoryWriter` appends frames to an extxyz file.
"""

from __future__ import annotations

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
from mdval.metrics.stability import bond_pairs, check_frame

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
            max_force_eV_per_A=float(np.max(np.linalg.norm(snap.forces_eV_per_A, axis=1))),
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


class FailureDetector:
    """Raises :class:`SimulationCrashed` at the first record that fails a stability check.

    The crash time is the record's time within its phase (the protocol adds earlier phases).
    """

    def __init__(self, interval: int, start: Atoms, target_temperature_K: float) -> None:
        self.interval = interval
        self.target_temperature_K = target_temperature_K
        self.pairs = bond_pairs(start)
        self._previous_T: float | None = None

    def __call__(self, snap: Snapshot) -> None:
        reason = check_frame(
            positions_A=snap.positions_A,
            forces_eV_per_A=snap.forces_eV_per_A,
            epot_eV=snap.epot_eV,
            temperature_K=snap.temperature_K,
            previous_temperature_K=self._previous_T,
            target_temperature_K=self.target_temperature_K,
            bonds=self.pairs,
            cell=snap.cell_A,
            pbc=snap.pbc,
        )
        self._previous_T = snap.temperature_K
        if reason is not None:
            raise SimulationCrashed(reason, snap.time_ps, snap.step)

    def close(self) -> None:
        """Nothing to release."""


class ReferenceEvaluator:
    """Evaluates the reference on sampled production frames of the model's own trajectory."""

    def __init__(self, interval: int, reference: Calculator, listener: RunListener) -> None:
        self.interval = interval
        self.reference = reference
        self.listener = listener
        self.model_forces: list[np.ndarray] = []
        self.reference_forces: list[np.ndarray] = []
        self.model_energies: list[float] = []
        self.reference_energies: list[float] = []
        self.samples: list[ForceErrorSample] = []

    def __call__(self, snap: Snapshot) -> None:
        if snap.phase != "production":
            return
        atoms = snap.to_atoms()
        atoms.calc = self.reference
        g = np.array(atoms.get_forces(), dtype=float)
        e_ref = float(atoms.get_potential_energy())
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
