"""ANI on mdval's batched contract, so that replicas of an ANI model run together on the
torch engine (``mdval/md/torch_engine``)."""

from __future__ import annotations

from typing import Any

import torch

HARTREE_TO_EV = 27.211386024367243  # torchani.units.HARTREE_TO_EV (= ase.units.Hartree)


class BatchedAni(torch.nn.Module):
    """The ensemble on mdval's batched contract (``mdval/potentials/base.py``): flat atoms
    with a system index in, energies in eV out, so replicas of ANI run together on the torch
    engine. Systems are padded to the largest (species −1, as torchani pads); positions are
    cast to the ensemble's dtype and energies back to the caller's."""

    def __init__(self, ensemble: Any) -> None:
        super().__init__()
        self.ensemble = ensemble
        self.dtype = next(ensemble.parameters()).dtype
        self.supported_atomic_numbers = [1, 6, 7, 8]

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        counts = torch.bincount(system_index, minlength=n_systems)
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.arange(positions.shape[0], device=positions.device) - starts[system_index]
        width = int(counts.max())
        species = torch.full((n_systems, width), -1, dtype=torch.long, device=positions.device)
        species[system_index, slot] = atomic_numbers
        coords = positions.new_zeros((n_systems, width, 3), dtype=self.dtype)
        coords = coords.index_put((system_index, slot), positions.to(self.dtype))
        _, energies_hartree = self.ensemble((species, coords))
        energies: torch.Tensor = energies_hartree.to(positions.dtype) * HARTREE_TO_EV
        return energies
