"""CHGNet as a TorchSim ``ModelInterface``, so that CHGNet replicas batch on the torch
engine (``mdval/md/torch_engine/torchsim_models.py``). chgnet 0.4 ships no TorchSim model,
and TorchSim 0.3.0 has none for it.

One job: turn a TorchSim state into CHGNet's crystal graphs (one per system, built by the
model's own ``graph_converter`` from a pymatgen ``Structure``, exactly as chgnet's ASE
calculator builds its one) and run them through ``CHGNet.forward`` as one batch. CHGNet
predicts energy per atom; it is multiplied back by the atoms of each system, as the
calculator does. Periodic cells only (CHGNet is a crystal model).
"""

from __future__ import annotations

from typing import Any

import torch

from mdval.potentials.families.torchsim_base import FamilyTorchSim


class CHGNetTorchSim(FamilyTorchSim):
    """A loaded ``chgnet.model.CHGNet`` as a TorchSim model; float32, energies (S,) in eV
    and forces (N, 3) in eV/Å."""

    def __init__(self, model: Any, device: str = "cpu") -> None:
        super().__init__(device)
        self.model = model.to(self._device).eval()

    def forward(self, state: Any, **_: Any) -> dict[str, torch.Tensor]:
        from pymatgen.core import Lattice, Structure

        if not state.pbc:
            raise ValueError("CHGNet runs periodic cells only")
        counts = torch.bincount(state.system_idx).tolist()
        positions = state.positions.detach().cpu().double().numpy()
        numbers = state.atomic_numbers.cpu().tolist()
        cells = state.cell.transpose(1, 2).detach().cpu().double().numpy()  # rows
        graphs = []
        start = 0
        for s, n in enumerate(counts):
            structure = Structure(
                Lattice(cells[s]),
                numbers[start : start + n],
                positions[start : start + n],
                coords_are_cartesian=True,
            )
            graphs.append(self.model.graph_converter(structure).to(self._device))
            start += n
        out = self.model.forward(graphs, task="ef")
        energies = torch.stack([e.reshape(()) for e in out["e"]]).detach()
        if self.model.is_intensive:
            energies = energies * torch.as_tensor(
                counts, dtype=energies.dtype, device=energies.device
            )
        forces = torch.cat([f for f in out["f"]]).detach()
        return {"energy": energies, "forces": forces}
