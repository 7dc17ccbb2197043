"""The peer arm of ``mdval bench``: TorchSim's NVE on the same model and the same inputs.

TorchSim (``torch-sim-atomistic``, import ``torch_sim``; ``pip install 'mdval[bench]'``) is
the engine a user would pick instead of mdval's torch engine. This module has one job: run
TorchSim's velocity Verlet (``torch_sim.integrators.nve``) on a zoo/TorchScript student
wrapped as a TorchSim ``ModelInterface`` (:func:`student_model`), from exactly the state
mdval's engine starts from (positions, momenta from the same seeds, masses, timestep in ASE
units), and time it as :mod:`mdval.bench.measure` times mdval's engine. The loop is TorchSim's
own ``integrate`` loop without a trajectory reporter (TorchSim's fastest case; mdval's side
keeps its failure check and thermo records).

TorchSim keeps one dtype for state and model (its ``integrate`` builds the state in the
model's dtype), so a float32 student runs a float32 state there; mdval keeps positions and
momenta in float64 around a float32 model. Where TorchSim is not installed,
:func:`unavailable` says so and the suite skips the arm.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import torch
from ase import Atoms, units

from mdval.bench.measure import TEMPERATURE_K, TIMESTEP_FS, _from_timing, cpu_ms_per_step
from mdval.bench.records import BenchRecord
from mdval.md.engine import PhaseTiming
from mdval.md.torch_engine.batch import prepare_replicas
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.state import state_from_atoms
from mdval.metrics.timing import PeakMemory

ENGINE = "torchsim"
DIST = "torch-sim-atomistic"


def unavailable() -> str | None:
    """Why the arm cannot run here (None when TorchSim imports)."""
    try:
        importlib.import_module("torch_sim")
    except Exception as exc:  # not installed, or broken beside this torch
        return (
            f"TorchSim ({DIST}) is not importable ({type(exc).__name__}: {exc}); "
            "install it with: pip install 'mdval[bench]'"
        )
    return None


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(DIST)
    except PackageNotFoundError:
        return "unknown"


def student_model(model: ForceModel, device: str, *, frozen: bool = False) -> Any:
    """``model``'s module (the TorchScript student, in its own dtype) as a TorchSim
    ``ModelInterface``: energies (S,) and forces (N, 3) by autograd, in the model's dtype;
    the wall time of each call is kept in ``call_times_s``. The module is the one
    ``torch.jit.load`` gives (what a TorchSim user has), or with ``frozen`` the frozen copy
    mdval's engine calls (the engines' loops compared on the same graph)."""
    interface = importlib.import_module("torch_sim.models.interface")
    module = model._forward if frozen else model.module
    dtype = model.model_dtype or torch.float64

    class Student(interface.ModelInterface):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.module = module
            self._device = torch.device(device)
            self._dtype = dtype
            self._compute_stress = False
            self._compute_forces = True
            self._memory_scales_with = "n_atoms"
            self.call_times_s: list[float] = []

        def forward(self, state: Any, **_: Any) -> dict[str, torch.Tensor]:
            start = time.perf_counter()
            out = self.evaluate(state)  # timed as mdval's ForceModel: graph released inside
            self.call_times_s.append(time.perf_counter() - start)
            return out

        def evaluate(self, state: Any) -> dict[str, torch.Tensor]:
            with torch.enable_grad():
                pos = state.positions.detach().to(dtype).requires_grad_(True)
                energy = self.module(pos, state.atomic_numbers, state.system_idx, state.n_systems)
                (grad,) = torch.autograd.grad(energy.sum(), pos)
            return {"energy": energy.detach(), "forces": -grad}

    return Student()


def initial_state(ts_model: Any, atoms: Atoms, replicas: int, device: str) -> Any:
    """TorchSim's ``MDState`` of ``replicas`` copies of ``atoms`` with the momenta mdval's
    engine starts from (seeds 0 .. R-1, :func:`~mdval.md.torch_engine.batch.prepare_replicas`),
    forces and energies evaluated, in the model's dtype."""
    md = importlib.import_module("torch_sim.integrators.md")
    prepared, _, _ = prepare_replicas([(atoms, TEMPERATURE_K, seed) for seed in range(replicas)])
    ours = state_from_atoms(prepared, device=device, dtype=ts_model.dtype)
    n = ours.n_systems
    cell = torch.zeros((n, 3, 3), dtype=ts_model.dtype, device=ours.device)
    sim = importlib.import_module("torch_sim.state").SimState(
        positions=ours.positions,
        masses=ours.masses,
        cell=cell,
        pbc=False,
        atomic_numbers=ours.atomic_numbers,
        system_idx=ours.system_index,
    )
    out = ts_model(sim)
    return md.MDState(
        positions=ours.positions,
        momenta=ours.momenta,
        energy=out["energy"],
        forces=out["forces"],
        masses=ours.masses,
        cell=cell,
        pbc=False,
        system_idx=ours.system_index,
        atomic_numbers=ours.atomic_numbers,
    )


def _nve_update(ts_model: Any) -> Any:
    nve = importlib.import_module("torch_sim.integrators.nve")
    dt = torch.tensor(TIMESTEP_FS * units.fs, dtype=ts_model.dtype)
    kT = torch.tensor(units.kB * TEMPERATURE_K, dtype=ts_model.dtype)
    _, update = nve.nve(ts_model, dt=dt, kT=kT)
    return update


def run_nve(ts_model: Any, state: Any, n_steps: int) -> tuple[Any, list[float]]:
    """``n_steps`` of TorchSim's velocity Verlet from ``state``: the end state and the wall
    time of each step (s)."""
    update = _nve_update(ts_model)
    step_s: list[float] = []
    last = time.perf_counter()
    for _ in range(n_steps):
        state = update(state)
        now = time.perf_counter()
        step_s.append(now - last)
        last = now
    return state, step_s


def torchsim_engine(
    model: ForceModel,
    name: str,
    atoms: Atoms,
    *,
    replicas: int = 1,
    n: int = 100,
    warmup: int = 10,
    device: str = "cpu",
    experiment: str = "peer",
    frozen: bool = False,
) -> BenchRecord:
    """NVE with TorchSim, ``replicas`` copies in one batch, timed as ``measure.torch_engine``
    times mdval's engine (medians of steps and calls after ``warmup``)."""
    cpu0 = time.process_time()
    ts_model = student_model(model, device, frozen=frozen)
    state = initial_state(ts_model, atoms, replicas, device)  # one call: the initial forces
    with PeakMemory(device) as mem:
        t0 = time.perf_counter()
        _, step_s = run_nve(ts_model, state, warmup + n)
        wall_s = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    timing = PhaseTiming(step_s=step_s, inference_s=ts_model.call_times_s, wall_s=wall_s)
    rec = _from_timing(
        timing, name, atoms, ENGINE, replicas, device, n, warmup, mem.peak_MB, experiment
    )
    rec.extra["cpu_ms_per_step"] = cpu_ms_per_step(cpu_s, warmup + n)
    rec.extra["torchsim_version"] = version()
    rec.extra["state_dtype"] = str(ts_model.dtype).removeprefix("torch.")
    rec.extra["module"] = "frozen" if frozen else "as loaded"
    return rec


def warm_up(model: ForceModel, atoms: Atoms, calls: int, device: str, *, frozen: bool) -> None:
    """``calls`` calls of the module TorchSim will run (its first calls profile and optimise
    the graph), so that no measured round pays for them: the suite warms mdval's side too."""
    ts_model = student_model(model, device, frozen=frozen)
    state = initial_state(ts_model, atoms, 1, device)
    for _ in range(max(calls - 1, 0)):
        ts_model(state)


def max_position_difference_A(
    model: ForceModel, atoms: Atoms, *, n_steps: int = 100, device: str = "cpu"
) -> float:
    """max |Δr| (Å) between mdval's engine and TorchSim after ``n_steps`` NVE steps from an
    identical state (one replica, seed 0; TorchSim's state in the model's dtype)."""
    from mdval.md.torch_engine.integrators import ensure_forces, velocity_verlet_step

    ts_model = student_model(model, device)
    theirs, _ = run_nve(ts_model, initial_state(ts_model, atoms, 1, device), n_steps)
    prepared, _, _ = prepare_replicas([(atoms, TEMPERATURE_K, 0)])
    ours = ensure_forces(state_from_atoms(prepared, device=device), model)
    dt = TIMESTEP_FS * units.fs
    with torch.no_grad():
        for _ in range(n_steps):
            ours = velocity_verlet_step(ours, model, dt)
    model.pop_times()
    diff = ours.positions - theirs.positions.to(ours.positions.dtype)
    return float(diff.abs().max())
