"""SevenNet as a TorchSim ``ModelInterface``, so that SevenNet replicas batch on the torch
engine (``mdval/md/torch_engine/torchsim_models.py``).

Neither shipped wrapper runs on the pinned pair: TorchSim 0.3.0's
``torch_sim.models.sevennet`` imports ``sevenn.calculator.torch_script_type``, which sevenn
0.13 no longer has, and sevenn 0.13's ``sevenn.torchsim`` needs a newer TorchSim
(``torch_sim.neighbors.torchsim_nl``). This adapter has one job: build sevenn's batched
graph (one ``AtomGraphData`` per system, collated as sevenn's own trainer does) from a
TorchSim state, with the neighbour list of the torch engine (vesin, per system), and
return sevenn's energies and forces. Edges are those of sevenn's ASE calculator: ordered
pairs (i, j) within the model's cutoff, ``edge_vec = r_j - r_i + shift``.
"""

from __future__ import annotations

from typing import Any

import torch

from mdval.potentials.families.torchsim_base import FamilyTorchSim


class SevenNetTorchSim(FamilyTorchSim):
    """A SevenNet ``AtomGraphSequential`` (its own copy: the model is switched to batch
    mode) as a TorchSim model; float32, energies (S,) in eV and forces (N, 3) in eV/Å."""

    def __init__(self, model: Any, device: str = "cpu") -> None:
        super().__init__(device)
        model.set_is_batch_data(True)
        self.model = model.to(device=self._device, dtype=self._dtype).eval()
        self.cutoff_A = float(model.cutoff)

    def forward(self, state: Any, **_: Any) -> dict[str, torch.Tensor]:
        import sevenn._keys as key
        from sevenn.atom_graph_data import AtomGraphData
        from torch_geometric.loader.dataloader import Collater

        from mdval.md.torch_engine.neighbours import pair_list

        positions = state.positions
        counts = torch.bincount(state.system_idx).tolist()
        cells = state.cell.transpose(1, 2)  # rows = cell vectors, as ASE keeps them
        pbc = torch.full((len(counts), 3), bool(state.pbc), device=positions.device)
        pair_i, pair_j, shift = pair_list(positions, cells, pbc, counts, self.cutoff_A)
        graphs = []
        start = 0
        for s, n in enumerate(counts):
            mine = (pair_i >= start) & (pair_i < start + n)
            i, j = pair_i[mine], pair_j[mine]
            numbers = state.atomic_numbers[start : start + n]
            graph = {
                key.NODE_FEATURE: numbers,
                key.ATOMIC_NUMBERS: numbers.to(torch.int64),
                key.POS: positions[start : start + n],
                key.EDGE_IDX: torch.stack([i - start, j - start]),
                key.EDGE_VEC: positions[j] - positions[i] + shift[mine],
                key.CELL_VOLUME: torch.abs(torch.det(cells[s])),
                key.NUM_ATOMS: torch.tensor(n, device=positions.device),
                key.INFO: {},
            }
            graphs.append(AtomGraphData(**graph))
            start += n
        batch = Collater([], follow_batch=None, exclude_keys=None)(graphs).to(self._device)
        output = self.model(batch)
        return {
            "energy": output[key.PRED_TOTAL_ENERGY].detach(),
            "forces": output[key.PRED_FORCE].detach(),
        }
