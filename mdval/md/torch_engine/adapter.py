"""The torch engine behind the single-system :class:`~mdval.md.engine.Engine` interface.

``run_validation`` hands it one ``Atoms`` per phase; it runs the batched runner with one
replica and writes the end state back. Forces are kept between phases when the positions
have not moved (as ASE's calculator cache does), so both engines make the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from ase import Atoms

from mdval.md.engine import PhaseSpec, PhaseTiming
from mdval.md.snapshot import Observer
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.neighbours import periodic_model
from mdval.md.torch_engine.runner import Thermostat, run_phase
from mdval.md.torch_engine.state import MDState, state_from_atoms
from mdval.md.torch_engine.torchsim_models import force_model
from mdval.potentials.base import PotentialEntry


class TorchEngine:
    """Velocity Verlet (NVE) and Langevin BAOAB (NVT) in torch, float64, state on ``device``;
    a periodic system's cell and pbc go to the model (:mod:`.neighbours`)."""

    name = "torch"

    def __init__(
        self, entry: PotentialEntry, device: str, dtype: torch.dtype = torch.float64
    ) -> None:
        self.entry = entry
        self.device = device
        self.dtype = dtype
        self.model: ForceModel = force_model(entry, device, dtype)  # InputError if not torch
        self._cached: tuple[np.ndarray, np.ndarray, MDState] | None = None

    def _initial_state(self, atoms: Atoms) -> MDState:
        state = state_from_atoms([atoms], device=self.device, dtype=self.dtype)
        if self._cached is not None:
            positions, numbers, old = self._cached
            if np.array_equal(numbers, atoms.numbers) and positions.tobytes() == (
                atoms.positions.tobytes()
            ):
                return replace(state, forces=old.forces, energies=old.energies)
        return state

    def run_phase(
        self,
        atoms: Atoms,
        spec: PhaseSpec,
        observers: Sequence[Observer],
        *,
        n_dof: int,
        rng: np.random.Generator,
    ) -> PhaseTiming:
        if any(atoms.pbc):
            self.model = periodic_model(self.model)  # InputError for a model without cells
        state = self._initial_state(atoms)
        thermostat = (
            None
            if spec.thermostat_K is None
            else Thermostat([spec.thermostat_K], spec.friction_per_ps, [rng])
        )
        outcome = run_phase(
            state,
            self.model,
            n_steps=spec.n_steps,
            timestep_fs=spec.timestep_fs,
            phase=spec.phase,
            observers=[observers],
            n_dof=[n_dof],
            thermostat=thermostat,
        )
        if outcome.state is not None:
            final = outcome.state
            positions = final.positions.detach().cpu().numpy().astype(np.float64)
            atoms.set_positions(positions)
            atoms.set_momenta(final.momenta.detach().cpu().numpy().astype(np.float64))
            self._cached = (atoms.positions.copy(), atoms.numbers.copy(), final)
            return outcome.timing
        stop = outcome.stopped[0]
        atoms.set_positions(stop.positions)
        atoms.set_momenta(stop.momenta)
        self._cached = None
        stop.error.timing = outcome.timing
        raise stop.error
