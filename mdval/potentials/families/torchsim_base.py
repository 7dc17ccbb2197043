"""What the families' TorchSim models share: a float32 model on one device that computes
energies and forces (no stress), its memory growing with atoms × density."""

from __future__ import annotations

import torch
from torch_sim.models.interface import ModelInterface


class FamilyTorchSim(ModelInterface):
    """Base of ``sevennet_torchsim.SevenNetTorchSim`` and ``chgnet_torchsim.CHGNetTorchSim``."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self._device = torch.device(device)
        self._dtype = torch.float32
        self._compute_forces = True
        self._compute_stress = False
        self._memory_scales_with = "n_atoms_x_density"
