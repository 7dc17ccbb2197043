"""The loop: integrate a batch for one phase, hand snapshots to each replica's observers.

The runner drives; observers only listen. Records leave the device only at steps where some
observer is due: one host copy of the batch, then one :class:`~mdval.md.snapshot.Snapshot`
per replica, the same objects the ASE engine builds. An observer marked ``exact_step`` (the
failure check, interval 1) is called at every step where another observer is due rather than
at every step; when it raises, the replica is replayed alone from its last good step, one
step at a time, so the crash is still reported at its exact step — at a cost paid only when a
replica breaks. A :class:`~mdval.md.observers.CancelWatch` in a replica's list is no observer:
the loop asks it between steps, about every :data:`~mdval.md.observers.CANCEL_POLL_S` of wall
time (a step counter, and the clock every few steps: no host copy), and a cancel stops that
replica only. A replica whose observer raises :class:`SimulationCrashed` or :class:`RunCancelled`
(or whose potential call fails) stops; it is taken out of the batch and the others go on.

Records are handed to the observers in groups (up to :data:`RECORDS_PER_GROUP` of them,
never more than :data:`MAX_DEFER_STEPS` steps late): a state is kept as it is taken (tensors
are never changed in place, so keeping one costs nothing) and the group is copied and
observed together. Right after a model call the host's caches are cold and one record cost
~350-450 µs against ~60 µs when records follow one another (docs/performance.md); the
observers see the same snapshots in the same order. A replica that crashed keeps stepping
until its group is observed and is then stopped at its crash step with the crash frame; the
group is observed before any replica is stopped for another reason (a failed model call, a
cancel), so a crash is never reported as what followed it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from ase import units

from mdval.errors import RunCancelled, SimulationCrashed
from mdval.md.engine import PhaseTiming
from mdval.md.observers import ClockStride, is_cancel_watch
from mdval.md.snapshot import Observer, Snapshot
from mdval.md.torch_engine.integrators import StepFn, get_integrator
from mdval.md.torch_engine.model import ForceModel, ModelCallError
from mdval.md.torch_engine.state import HostFrame, MDState, to_host
from mdval.metrics.energy import temperature_K as kinetic_temperature_K

#: Most records observed together (see the module's docstring).
RECORDS_PER_GROUP = 10
#: Most steps a record waits to be observed: with a record interval above a tenth of this,
#: groups are smaller (one record from this interval on).
MAX_DEFER_STEPS = 100


@dataclass
class Thermostat:
    """Langevin parameters of a batch: per-system target and noise stream.

    ``generators[s]`` draws the noise of system ``s`` (``standard_normal((n_s, 3))`` per
    step), so a replica sees the same noise alone or in any batch.
    """

    temperature_K: list[float]
    friction_per_ps: float
    generators: list[np.random.Generator]

    def select(self, systems: Sequence[int]) -> Thermostat:
        return Thermostat(
            [self.temperature_K[s] for s in systems],
            self.friction_per_ps,
            [self.generators[s] for s in systems],
        )

    def params(self, state: MDState) -> dict[str, object]:
        """Keyword arguments of ``langevin_baoab_step`` for this step (draws the noise)."""
        noise = np.concatenate(
            [g.standard_normal((n, 3)) for g, n in zip(self.generators, state.counts, strict=True)]
        )
        return {
            "temperature_K": torch.as_tensor(
                self.temperature_K, dtype=state.dtype, device=state.device
            ),
            "friction": self.friction_per_ps / (1000.0 * units.fs),
            "noise": torch.as_tensor(noise, dtype=state.dtype, device=state.device),
        }


@dataclass
class ReplicaStop:
    """Why and where a replica stopped early."""

    error: SimulationCrashed | RunCancelled
    step: int
    positions: np.ndarray  # (n, 3) Å at the stop
    momenta: np.ndarray  # (n, 3) amu·Å/t

    @property
    def status(self) -> str:
        return "crashed" if isinstance(self.error, SimulationCrashed) else "cancelled"


@dataclass
class PhaseOutcome:
    """The end of a phase: the surviving batch and the replicas that stopped."""

    state: MDState | None  # survivors, in the order of ``alive``; None if none survived
    alive: list[int]  # replica ids of the systems of ``state``
    stopped: dict[int, ReplicaStop] = field(default_factory=dict)
    timing: PhaseTiming = field(default_factory=PhaseTiming)


def run_phase(
    state: MDState,
    model: ForceModel,
    *,
    n_steps: int,
    timestep_fs: float,
    phase: str,
    observers: Sequence[Sequence[Observer]],
    n_dof: Sequence[int],
    thermostat: Thermostat | None = None,
    replica_ids: Sequence[int] | None = None,
) -> PhaseOutcome:
    """Integrate ``n_steps`` steps: NVE velocity Verlet, or Langevin BAOAB with ``thermostat``.

    ``observers[s]`` and ``n_dof[s]`` belong to system ``s`` of ``state``; observers are
    called at step 0 and every ``interval`` steps. ``replica_ids`` names the systems in the
    outcome (default 0 .. S-1). Exceptions other than a crash or a cancel propagate.
    """
    runner = _Runner(state, model, timestep_fs, phase, observers, n_dof, thermostat, replica_ids)
    return runner.run(n_steps)


class _Runner:
    def __init__(
        self,
        state: MDState,
        model: ForceModel,
        timestep_fs: float,
        phase: str,
        observers: Sequence[Sequence[Observer]],
        n_dof: Sequence[int],
        thermostat: Thermostat | None,
        replica_ids: Sequence[int] | None,
    ) -> None:
        if len(observers) != state.n_systems or len(n_dof) != state.n_systems:
            raise ValueError("one observer list and one n_dof per system")
        self.state: MDState | None = state
        self.model = model
        self.timestep_fs = timestep_fs
        self.dt = timestep_fs * units.fs
        self.phase = phase
        self.observers = [[o for o in obs if not is_cancel_watch(o)] for obs in observers]
        self.watches: list[list[Any]] = [
            [o for o in obs if is_cancel_watch(o)] for obs in observers
        ]
        self.clock = ClockStride()
        self.n_dof = list(n_dof)
        self.thermostat = thermostat
        self.ids = list(range(state.n_systems)) if replica_ids is None else list(replica_ids)
        self.init, self.step_fn = get_integrator("nve" if thermostat is None else "nvt_langevin")
        numbers = state.atomic_numbers.cpu().numpy()
        offsets = state.offsets()
        self.numbers = [numbers[offsets[s] : offsets[s + 1]].copy() for s in range(len(self.ids))]
        self.cells = _host_cells(state)
        regular = {o.interval for obs in self.observers for o in obs if not _exact(o)}
        self.intervals = sorted(regular or {o.interval for obs in self.observers for o in obs})
        self.outcome = PhaseOutcome(state=None, alive=[])
        self.last_call_ms = float("nan")
        self._good: dict[int, _GoodStep] = {}  # replica id -> its last step that passed
        self._pending: list[_Record] = []  # records taken, not yet observed
        shortest = min(self.intervals, default=MAX_DEFER_STEPS)
        self._group = max(1, min(RECORDS_PER_GROUP, MAX_DEFER_STEPS // max(shortest, 1)))

    # --- the loop -------------------------------------------------------------------------
    def run(self, n_steps: int) -> PhaseOutcome:
        timing = self.outcome.timing
        t0 = time.perf_counter()
        last: float | None = None
        try:
            with torch.no_grad():
                self._advance(0, self.init)
                for step in range(n_steps + 1):
                    if step > 0:
                        self._advance(step, self.step_fn)
                    if self.state is not None and (clock := self.clock.now()) is not None:
                        self._poll_cancel(step, clock)
                        if self.state is None:
                            timing.steps_done = step
                    if self.state is None:
                        break
                    now = time.perf_counter()
                    if last is not None:
                        timing.step_s.append(now - last)
                    timing.steps_done = step
                    # The last step too: exact-step observers see the state a phase ends in
                    # (the NVT -> NVE hand-over reads its energy from the failure check).
                    if step == n_steps or any(step % i == 0 for i in self.intervals):
                        self._dispatch(step, last=step == n_steps)
                    last = now
                    if self.state is None:
                        break
        finally:
            timing.wall_s = time.perf_counter() - t0
            timing.inference_s = self.model.pop_times()
        self.outcome.state = self.state
        self.outcome.alive = self.ids if self.state is not None else []
        return self.outcome

    def _advance(self, step: int, fn: StepFn) -> None:
        """Replace the state by ``fn``'s result; isolate replicas whose model call fails."""
        state = self.state
        assert state is not None
        params = {} if self.thermostat is None or step == 0 else self.thermostat.params(state)
        error = self._try(fn, state, params)
        if error is None:
            return
        if self._pending:  # the records before this step first: a crash there came first
            kept = self._flush()
            if len(kept) < state.n_systems:
                if self.state is None:
                    return
                params = _select_params(params, state, kept)
                state = self.state
                error = self._try(fn, state, params)
                if error is None:
                    return
        if state.n_systems == 1:
            self._stop_model_failure([0], step, error, state)
            self.state = None
            return
        # Some system broke the batched call: try each alone, drop those that fail, redo.
        failed: dict[int, ModelCallError] = {}
        for s in range(state.n_systems):
            sub_params = _select_params(params, state, [s])
            try:
                fn(state.select([s]), self.model, self.dt, **sub_params)
            except ModelCallError as alone:
                failed[s] = alone
        if not failed:  # the batch fails but no member alone does: a model bug, not a crash
            raise RuntimeError("the batched model call failed while every system alone works")
        for s, error in failed.items():
            self._stop_model_failure([s], step, error, state)
        keep = [s for s in range(state.n_systems) if s not in failed]
        self._keep(keep, state)
        if self.state is not None:
            self.state = fn(self.state, self.model, self.dt, **_select_params(params, state, keep))
            self._note_call()

    def _try(self, fn: StepFn, state: MDState, params: dict[str, object]) -> ModelCallError | None:
        """One step of the whole batch; the model's failure, or None (the state replaced)."""
        try:
            self.state = fn(state, self.model, self.dt, **params)
        except ModelCallError as exc:
            return exc
        self._note_call()
        return None

    def _note_call(self) -> None:
        times = self.model.call_times_s
        if times:
            self.last_call_ms = 1000.0 * times[-1]
        elif (previous := getattr(self.model, "last_call_s", None)) is not None:
            self.last_call_ms = 1000.0 * previous  # forces from the previous phase's call

    def _poll_cancel(self, step: int, now: float) -> None:
        """Ask each replica's cancel watches; stop the replicas cancelled (one host copy,
        only when some replica stops)."""
        state = self.state
        assert state is not None
        by_id: dict[int, RunCancelled] = {}
        for s, watches in enumerate(self.watches):
            try:
                for watch in watches:
                    watch.check(self.phase, step, now)
            except RunCancelled as exc:
                by_id[self.ids[s]] = exc
        if not by_id:
            return
        self._flush()  # the records before the cancel are observed first
        state = self.state
        cancelled = {self.ids.index(i): exc for i, exc in by_id.items() if i in self.ids}
        if state is None or not cancelled:
            return
        frame = to_host(state)
        for s, error in cancelled.items():
            self._stop(s, step, error, frame)
        self._keep([s for s in range(state.n_systems) if s not in cancelled], state)

    # --- observers ------------------------------------------------------------------------
    def _dispatch(self, step: int, *, last: bool = False) -> None:
        """Take a record of this step; observe the group when it is full or the phase ends."""
        state = self.state
        assert state is not None
        noise = None
        if self.thermostat is not None:  # where a replay from this step would draw from
            noise = [g.bit_generator.state for g in self.thermostat.generators]
        self._pending.append(_Record(step, state, noise, self.last_call_ms))
        if last or len(self._pending) >= self._group:
            self._flush()

    def _flush(self) -> list[int]:
        """Observe the records taken, in order; stop the replicas that crashed or were
        cancelled (at their record's step). Returns the systems of the batch that go on."""
        pending, self._pending = self._pending, []
        state = self.state
        if state is None:
            return []
        stopped: set[int] = set()
        for record in pending:
            frame = to_host(record.state)
            for s in range(state.n_systems):
                if s in stopped:
                    continue
                due = [o for o in self.observers[s] if _exact(o) or record.step % o.interval == 0]
                if not due:
                    continue
                snap = self._snapshot(frame, s, record.step, call_ms=record.call_ms)
                try:
                    for observer in due:
                        observer(snap)
                except SimulationCrashed as exc:
                    refined = self._refine(s, record.step, exc)
                    if refined is None:
                        self._stop(s, record.step, exc, frame)
                    else:
                        self._stop(s, refined[0].step, refined[0], refined[1], row=0)
                    stopped.add(s)
                except RunCancelled as exc:
                    self._stop(s, record.step, exc, frame)
                    stopped.add(s)
                else:
                    self._remember(s, record)
        keep = [s for s in range(state.n_systems) if s not in stopped]
        if stopped:
            self._keep(keep, state)
        return keep

    def _remember(self, s: int, record: _Record) -> None:
        """System ``s`` passed its checks at ``record``'s step: where a replay would start."""
        self._good[self.ids[s]] = _GoodStep(
            step=record.step,
            state=record.state,
            row=s,
            rng_state=None if record.noise is None else record.noise[s],
        )

    def _refine(
        self, s: int, step: int, crash: SimulationCrashed
    ) -> tuple[SimulationCrashed, HostFrame] | None:
        """Replay system ``s`` alone from its last good step, checking every step; the first
        failure and the frame it happened in (None when the crash was already exact)."""
        good = self._good.get(self.ids[s])
        exact = [o for o in self.observers[s] if _exact(o)]
        if good is None or step - good.step <= 1 or not exact:
            return None
        replay = good.state.select([good.row])
        thermostat = None
        if self.thermostat is not None and good.rng_state is not None:
            generator = np.random.default_rng()
            generator.bit_generator.state = good.rng_state
            thermostat = Thermostat(
                [self.thermostat.temperature_K[s]], self.thermostat.friction_per_ps, [generator]
            )
        n_calls = len(self.model.call_times_s)
        try:
            for t in range(good.step + 1, step):
                params = {} if thermostat is None else thermostat.params(replay)
                try:
                    replay = self.step_fn(replay, self.model, self.dt, **params)
                except ModelCallError as exc:
                    time_ps = t * self.timestep_fs / 1000.0
                    return SimulationCrashed(f"the potential raised {exc}", time_ps, t), to_host(
                        replay
                    )
                frame = to_host(replay)
                snap = self._snapshot(
                    frame, 0, t, numbers=self.numbers[s], n_dof=self.n_dof[s], system=s
                )
                try:
                    for observer in exact:
                        observer(snap)
                except SimulationCrashed as earlier:
                    return earlier, frame
        finally:
            del self.model.call_times_s[n_calls:]  # the replay is not the run's timing
        return None

    def _snapshot(
        self,
        frame: HostFrame,
        s: int,
        step: int,
        *,
        numbers: np.ndarray | None = None,
        n_dof: int | None = None,
        system: int | None = None,
        call_ms: float | None = None,
    ) -> Snapshot:
        """Row ``s`` of ``frame``; ``numbers``, ``n_dof`` and the cell are those of system
        ``system`` (default ``s``) of the batch when a replay's frame holds it alone;
        ``call_ms`` the time of the call that gave the frame's forces (default: the newest)."""
        rows = frame.rows(s)
        p = frame.momenta[rows]
        m = frame.masses[rows]
        velocities = p / m[:, None]
        ekin = float(0.5 * np.vdot(p, velocities))  # as ase.Atoms.get_kinetic_energy
        assert frame.forces is not None and frame.energies is not None
        return Snapshot(
            phase=self.phase,
            step=step,
            time_ps=step * self.timestep_fs / 1000.0,
            numbers=(self.numbers[s] if numbers is None else numbers).copy(),
            positions_A=frame.positions[rows].copy(),
            velocities_A_per_fs=velocities * units.fs,
            forces_eV_per_A=frame.forces[rows].copy(),
            epot_eV=float(frame.energies[s]),
            ekin_eV=ekin,
            temperature_K=float(
                kinetic_temperature_K(ekin, self.n_dof[s] if n_dof is None else n_dof)
            ),
            inference_ms=self.last_call_ms if call_ms is None else call_ms,
            **self.cells[s if system is None else system],
        )

    # --- stopping replicas ----------------------------------------------------------------
    def _stop(
        self,
        s: int,
        step: int,
        error: SimulationCrashed | RunCancelled,
        frame: HostFrame,
        *,
        row: int | None = None,
    ) -> None:
        rows = frame.rows(s if row is None else row)
        self.outcome.stopped[self.ids[s]] = ReplicaStop(
            error, step, frame.positions[rows].copy(), frame.momenta[rows].copy()
        )

    def _stop_model_failure(
        self, systems: list[int], step: int, exc: ModelCallError, state: MDState
    ) -> None:
        frame = to_host(state)
        for s in systems:
            crash = SimulationCrashed(
                f"the potential raised {exc}", step * self.timestep_fs / 1000.0, step
            )
            crash.__cause__ = exc
            self._stop(s, step, crash, frame)

    def _keep(self, keep: list[int], state: MDState) -> None:
        """Continue with the systems ``keep`` of ``state`` only."""
        if not keep:
            self.state = None
            self.ids = []
            return
        self.state = state.select(keep)
        self.ids = [self.ids[s] for s in keep]
        self.observers = [self.observers[s] for s in keep]
        self.watches = [self.watches[s] for s in keep]
        self.n_dof = [self.n_dof[s] for s in keep]
        self.numbers = [self.numbers[s] for s in keep]
        self.cells = [self.cells[s] for s in keep]
        if self.thermostat is not None:
            self.thermostat = self.thermostat.select(keep)


@dataclass(frozen=True)
class _Record:
    """A record taken and not yet observed: its step, the batch state then, each system's
    thermostat noise generator's state (None in NVE) and the wall time of the model call
    that gave its forces (ms)."""

    step: int
    state: MDState
    noise: list[Mapping[str, Any]] | None
    call_ms: float


@dataclass(frozen=True)
class _GoodStep:
    """The last step at which a replica passed its checks: the batch state then (tensors are
    never changed in place, so keeping it costs nothing), the replica's row in it and its
    thermostat noise generator's state."""

    step: int
    state: MDState
    row: int
    rng_state: Mapping[str, Any] | None


def _host_cells(state: MDState) -> list[dict[str, Any]]:
    """Each system's ``cell_A`` and ``pbc`` for its snapshots (as the ASE engine gives them:
    no cell for a non-periodic system), copied to the host once per phase."""
    if state.cell is None or state.pbc is None:
        return [{} for _ in range(state.n_systems)]
    cells, pbcs = state.cell.cpu().numpy().astype(np.float64), state.pbc.cpu().numpy()
    return [
        {"cell_A": cell if pbc.any() else None, "pbc": tuple(bool(p) for p in pbc)}
        for cell, pbc in zip(cells, pbcs, strict=True)
    ]


def _exact(observer: Observer) -> bool:
    """An observer that must see every step (the failure check)."""
    return bool(getattr(observer, "exact_step", False))


def _select_params(
    params: dict[str, object], state: MDState, systems: list[int]
) -> dict[str, object]:
    """The step parameters of ``systems`` only (per-system and per-atom tensors sliced)."""
    if not params:
        return params
    offsets = state.offsets()
    rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in systems])
    out = dict(params)
    temperature = params["temperature_K"]
    noise = params["noise"]
    assert isinstance(temperature, torch.Tensor) and isinstance(noise, torch.Tensor)
    out["temperature_K"] = temperature[torch.as_tensor(systems, device=temperature.device)]
    out["noise"] = noise[torch.as_tensor(rows, device=noise.device)]
    return out
