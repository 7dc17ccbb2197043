"""What an engine hands its observers at a recording step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from ase import Atoms


@dataclass(frozen=True)
class Snapshot:
    """State of one system at one step. Arrays are copies owned by the observer.

    positions_A (N, 3) Å; velocities_A_per_fs (N, 3) Å/fs; forces_eV_per_A (N, 3) eV/Å;
    stress_eV_per_A3 (6,) Voigt order, or None when the potential gives none.
    """

    phase: str  # "equilibration" | "production"
    step: int  # step index within the phase, 0 = initial state
    time_ps: float  # time within the phase
    numbers: np.ndarray
    positions_A: np.ndarray
    velocities_A_per_fs: np.ndarray
    forces_eV_per_A: np.ndarray
    epot_eV: float
    ekin_eV: float
    temperature_K: float
    inference_ms: float  # wall time of the potential call that produced these forces
    stress_eV_per_A3: np.ndarray | None = None
    cell_A: np.ndarray | None = None
    pbc: tuple[bool, bool, bool] = (False, False, False)

    @property
    def etot_eV(self) -> float:
        return self.epot_eV + self.ekin_eV

    def to_atoms(self) -> Atoms:
        """An ``ase.Atoms`` of this frame (for trajectory writing and reference evaluation)."""
        atoms = Atoms(
            numbers=self.numbers,
            positions=self.positions_A,
            cell=self.cell_A if self.cell_A is not None else np.zeros((3, 3)),
            pbc=self.pbc,
        )
        return atoms


class Observer(Protocol):
    """Called by the engine every ``interval`` steps of every phase.

    An observer may raise :class:`mdval.errors.SimulationCrashed` (stop: the model broke) or
    :class:`mdval.errors.RunCancelled` (stop: cooperative cancel). ``close`` is called once at
    the end of the run, whatever happened.
    """

    interval: int

    def __call__(self, snap: Snapshot) -> None: ...

    def close(self) -> None: ...
