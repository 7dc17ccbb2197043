"""The engine interface: integrate one phase of a run and feed observers.

Engines differ in *how* they integrate (ASE's integrators on one ``Atoms``; a torch-native
batched engine with state on the device), never in what observers see: every engine hands
the same :class:`~mdval.md.snapshot.Snapshot` to the same observers, so metrics and callers
do not know which engine ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ase import Atoms

from mdval.errors import InputError
from mdval.md.snapshot import Observer
from mdval.potentials.base import PotentialEntry


@dataclass(frozen=True)
class PhaseSpec:
    """One segment of a run. ``thermostat_K`` None means NVE (velocity Verlet)."""

    phase: str  # "equilibration" | "production"
    n_steps: int
    timestep_fs: float
    thermostat_K: float | None = None
    friction_per_ps: float = 10.0


@dataclass
class PhaseTiming:
    """Wall times of one phase, in seconds."""

    inference_s: list[float] = field(default_factory=list)  # one per potential call
    step_s: list[float] = field(default_factory=list)  # one per MD step, recording included
    wall_s: float = 0.0
    steps_done: int = 0


class Engine(Protocol):
    """Integrates phases on a prepared system (velocities set)."""

    name: str

    def run_phase(
        self,
        atoms: Atoms,
        spec: PhaseSpec,
        observers: Sequence[Observer],
        *,
        n_dof: int,
        rng: np.random.Generator,
    ) -> PhaseTiming:
        """Run ``spec.n_steps`` steps from the state in ``atoms``; leave the end state there.

        Observers are called at step 0 and every ``interval`` steps; an observer's exception
        (crash, cancel) propagates after the engine has recorded its timing so far.
        """
        ...


EngineFactory = Callable[[PotentialEntry, str], Engine]
_ENGINES: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make an engine selectable by name (``--engine NAME``)."""
    _ENGINES[name] = factory


def available_engines() -> list[str]:
    return sorted(_ENGINES)


def make_engine(name: str, entry: PotentialEntry, device: str) -> Engine:
    """Build the engine ``name`` ("auto" picks torch for torch potentials when available,
    except TorchSim models: the ASE engine records their stress)."""
    if name == "auto":
        torch_ok = entry.is_torch and not entry.torchsim
        name = "torch" if torch_ok and "torch" in _ENGINES else "ase"
    if name not in _ENGINES:
        choices = ", ".join(["auto", *available_engines()])
        raise InputError(f"engine {name!r} is not available; choose one of: {choices}")
    return _ENGINES[name](entry, device)
