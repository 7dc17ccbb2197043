"""The general engine: ASE's integrators around any ASE calculator."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from ase import Atoms, units
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.md import MolecularDynamics
from ase.md.verlet import VelocityVerlet

from mdval.errors import RunStopped, SimulationCrashed
from mdval.md.engine import PhaseSpec, PhaseTiming, register_engine
from mdval.md.observers import ClockStride, is_cancel_watch
from mdval.md.snapshot import Observer, Snapshot
from mdval.md.timed_calculator import PotentialCallError, TimedCalculator
from mdval.metrics.energy import temperature_K
from mdval.potentials.base import PotentialEntry

_EV_PER_A3_TO_GPA = 1.0 / units.GPa


class AseEngine:
    """Velocity Verlet (NVE) and Langevin (NVT) from ``ase.md`` on one system."""

    name = "ase"

    def __init__(self, entry: PotentialEntry, device: str) -> None:
        self.entry = entry
        self.device = device
        self._calc: TimedCalculator | None = None

    def _calculator(self, atoms: Atoms) -> TimedCalculator:
        if self._calc is None:
            inner = self.entry.make_calculator(self.device)
            self._calc = TimedCalculator(inner, want_stress=bool(any(atoms.pbc)))
        return self._calc

    def run_phase(
        self,
        atoms: Atoms,
        spec: PhaseSpec,
        observers: Sequence[Observer],
        *,
        n_dof: int,
        rng: np.random.Generator,
    ) -> PhaseTiming:
        calc = self._calculator(atoms)
        atoms.calc = calc
        calc.pop_times()
        dt = spec.timestep_fs * units.fs
        dyn: MolecularDynamics
        if spec.thermostat_K is None:
            dyn = VelocityVerlet(atoms, timestep=dt)
        else:
            atoms.set_constraint(FixCom())  # the thermostat noise must not move the COM
            dyn = Langevin(
                atoms,
                timestep=dt,
                temperature_K=spec.thermostat_K,
                friction=spec.friction_per_ps / (1000.0 * units.fs),
                fixcm=False,
                rng=rng,
            )
        timing = PhaseTiming()
        dispatch = _Dispatcher(atoms, dyn, spec, observers, calc, n_dof, timing)
        dyn.attach(dispatch, interval=1)
        t0 = time.perf_counter()
        try:
            dyn.run(spec.n_steps)
        except PotentialCallError as exc:
            # The call that failed was computing the forces of the next step.
            failed = dyn.nsteps + 1 if dispatch.started else 0
            crash = SimulationCrashed(
                f"the potential raised {exc}", failed * spec.timestep_fs / 1000.0, failed
            )
            crash.timing = timing
            raise crash from exc
        except RunStopped as stop:
            stop.timing = timing
            raise
        finally:
            timing.wall_s = time.perf_counter() - t0
            timing.inference_s = calc.pop_times()
            timing.steps_done = dyn.nsteps
            atoms.set_constraint()
        return timing


class _Dispatcher:
    """Called by ASE after every step: times the step, builds one snapshot for due observers."""

    def __init__(
        self,
        atoms: Atoms,
        dyn: MolecularDynamics,
        spec: PhaseSpec,
        observers: Sequence[Observer],
        calc: TimedCalculator,
        n_dof: int,
        timing: PhaseTiming,
    ) -> None:
        self.atoms, self.dyn, self.spec = atoms, dyn, spec
        self.calc, self.n_dof, self.timing = calc, n_dof, timing
        self.observers = [o for o in observers if not is_cancel_watch(o)]
        self.watches = [o for o in observers if is_cancel_watch(o)]
        self.clock = ClockStride()
        self._last: float | None = None
        self.started = False  # True once the initial forces exist (step 0 dispatched)

    def __call__(self) -> None:
        self.started = True
        now = time.perf_counter()
        if self._last is not None:
            self.timing.step_s.append(now - self._last)
        step = self.dyn.nsteps
        due = [o for o in self.observers if step % o.interval == 0]
        if due:
            snap = self._snapshot(step)
            for observer in due:
                observer(snap)
        self._last = now
        if self.watches and (clock := self.clock.now()) is not None:
            for watch in self.watches:
                watch.check(self.spec.phase, step, clock)  # type: ignore[attr-defined]

    def _snapshot(self, step: int) -> Snapshot:
        atoms, calc = self.atoms, self.calc
        ekin = float(atoms.get_kinetic_energy())
        stress = calc.results.get("stress")
        return Snapshot(
            phase=self.spec.phase,
            step=step,
            time_ps=step * self.spec.timestep_fs / 1000.0,
            numbers=atoms.numbers.copy(),
            positions_A=atoms.get_positions(),
            velocities_A_per_fs=atoms.get_velocities() * units.fs,
            forces_eV_per_A=np.array(calc.results["forces"], dtype=float),
            epot_eV=float(calc.results["energy"]),
            ekin_eV=ekin,
            temperature_K=float(temperature_K(ekin, self.n_dof)),
            # the call that produced these forces, also when it was made in the previous
            # phase (a phase's first record reuses the forces its predecessor left)
            inference_ms=1000.0 * calc.last_call_s if calc.last_call_s is not None else 0.0,
            stress_eV_per_A3=None if stress is None else np.array(stress, dtype=float),
            cell_A=np.array(atoms.cell) if any(atoms.pbc) else None,
            pbc=(bool(atoms.pbc[0]), bool(atoms.pbc[1]), bool(atoms.pbc[2])),
        )


register_engine("ase", AseEngine)
