"""The ASE calculator of a model on the pair contract (``mdval/potentials/base.py``) for
periodic systems: ASE's own neighbour list (``ase.neighborlist.neighbor_list``, minimum
image and periodic images) feeds ``energies_from_pairs``. It is the ASE engine's side of
the periodic torch engine (which searches neighbours with vesin), so the two engines check
each other with independent neighbour searches."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import all_changes
from ase.neighborlist import neighbor_list

from mdval.potentials.torchscript import TorchScriptCalculator


class PairCalculator(TorchScriptCalculator):
    """:class:`TorchScriptCalculator` that also runs periodic systems, for a model with
    ``energies_from_pairs`` and ``cutoff_A`` (a zoo student scripted before the pair
    contract is rebuilt from its weights)."""

    implemented_properties = ["energy", "free_energy", "forces"]  # noqa: RUF012 - ASE API

    def __init__(self, model: Any, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        from mdval.md.torch_engine.neighbours import has_pair_contract

        if not has_pair_contract(self.module):
            from mdval.zoo.model import with_pair_contract

            self.module = with_pair_contract(self.module)
        self.cutoff_A = float(getattr(self.module, "cutoff_A"))  # noqa: B009

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        if atoms is not None:
            self._sync_atoms(atoms)
        atoms = self.atoms
        if atoms is None or not atoms.pbc.any():
            super().calculate(atoms, properties, system_changes)
            return
        z, system_index = self._static_inputs(atoms.numbers)
        start = time.perf_counter()
        i, j, shifts = neighbor_list("ijS", atoms, self.cutoff_A)
        shift_A = shifts.astype(np.float64) @ atoms.cell.array

        def tensor(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            return torch.as_tensor(a, dtype=dtype, device=self.device)

        with torch.enable_grad():
            positions = tensor(atoms.positions, self.dtype).requires_grad_(True)
            from_pairs = getattr(self._forward, "energies_from_pairs")  # noqa: B009
            energies = from_pairs(
                positions,
                z,
                system_index,
                1,
                tensor(i, torch.int64),
                tensor(j, torch.int64),
                tensor(shift_A, self.dtype),
            )
            (grad,) = torch.autograd.grad(energies[0], positions)
        energy = energies.item()
        self.last_inference_s = time.perf_counter() - start
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = -grad.to(device="cpu", dtype=torch.float64).numpy()
