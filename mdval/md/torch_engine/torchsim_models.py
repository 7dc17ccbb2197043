"""TorchSim models on the torch engine: a TorchSim ``ModelInterface`` (torch-sim-atomistic
0.3) next to mdval's own TorchScript contract, so that published models that ship one
(SevenNet through ``torch_sim.models.sevennet``) batch replicas, periodic cells included.

A ``ModelInterface`` takes a ``torch_sim.SimState`` (positions, masses, cell as column
vectors, one pbc flag for the batch, atomic numbers, system index) and returns ``energy``
(S,) and ``forces`` (N, 3) it computed itself, with its own neighbour list. The engine's
state becomes such a SimState at every call (the engine's float64 positions cast to the
model's dtype); energies and forces come back in the engine's dtype. The forces the model
gives are handed to :class:`~mdval.md.torch_engine.model.ForceModel`'s autograd through an
energy whose gradient *is* them (:class:`GivenForces`), so no second backward pass is
taken and the call is timed, checked and isolated like every other model's.

A family declares its TorchSim model as ``entry.extra["torchsim"]``, a ``device ->
ModelInterface``; :func:`force_model` picks it before the entry's other contracts.
"""

from __future__ import annotations

from typing import Any

import torch

from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.neighbours import GeometryModule, PeriodicForceModel
from mdval.potentials.base import PotentialEntry


class GivenForces(torch.autograd.Function):
    """``energies`` as a function of ``positions`` whose gradient is ``-forces``."""

    @staticmethod
    def forward(
        ctx: Any,
        positions: torch.Tensor,
        energies: torch.Tensor,
        forces: torch.Tensor,
        system_index: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(forces, system_index)
        return energies.clone()

    @staticmethod
    def backward(ctx: Any, grad_energies: torch.Tensor) -> tuple[Any, ...]:
        forces, system_index = ctx.saved_tensors
        return -forces * grad_energies[system_index].unsqueeze(1), None, None, None


class TorchSimModule(GeometryModule):
    """A TorchSim ``ModelInterface`` behind mdval's batched signature."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        import torch_sim

        cell, pbc, _counts = self.cells()
        periodic = bool(pbc.all())
        if bool(pbc.any()) and not periodic:
            raise ValueError(
                "a TorchSim model takes one pbc for the whole batch (all directions of every "
                f"system periodic, or none); got pbc={pbc.tolist()}"
            )
        dtype = self.model.dtype
        state = torch_sim.SimState(
            positions=positions.detach().to(dtype),
            masses=torch.ones(positions.shape[0], dtype=dtype, device=positions.device),
            cell=cell.transpose(1, 2).to(dtype),  # TorchSim keeps cell vectors as columns
            pbc=periodic,
            atomic_numbers=atomic_numbers,
            system_idx=system_index,
        )
        out = self.model(state)
        energies = out["energy"].detach().reshape(n_systems).to(positions.dtype)
        forces = out["forces"].detach().to(positions.dtype)
        given: torch.Tensor = GivenForces.apply(positions, energies, forces, system_index)
        return given


def torchsim_force_model(model: Any, *, time_calls: bool = True) -> ForceModel:
    """The engine's model for a TorchSim ``ModelInterface`` (periodic or not)."""
    return PeriodicForceModel(TorchSimModule(model), time_calls=time_calls)


def force_model(
    entry: PotentialEntry,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    *,
    time_calls: bool = True,
) -> ForceModel:
    """The torch engine's model of ``entry``: its TorchSim model where it declares one
    (``extra["torchsim"]``), else :meth:`ForceModel.from_entry` (TorchScript, or a family's
    adapter onto mdval's contract)."""
    make = entry.extra.get("torchsim")
    if callable(make):
        return torchsim_force_model(make(device), time_calls=time_calls)
    return ForceModel.from_entry(entry, device, dtype, time_calls=time_calls)
