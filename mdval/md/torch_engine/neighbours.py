"""Periodic systems on the torch engine: a neighbour list per system (vesin), and the model
that takes it.

The neighbour search is vesin's (``vesin-torch``, a maintained cell-list library that works
on the device and in TorchScript): cost O(N) per system, minimum image and any number of
periodic images included, per-direction pbc. The engine carries each system's cell and pbc
in :class:`~mdval.md.torch_engine.state.MDState`; :func:`pair_list` turns them into ordered
pairs (i, j), i != j, with the shift of j's image in Å, so that ``r_ij = r_j - r_i + shift``.

A model on the *pair contract* (``mdval/potentials/base.py``) has a method
``energies_from_pairs(positions, atomic_numbers, system_index, n_systems, pair_i, pair_j,
pair_shift_A)`` and an attribute ``cutoff_A``; the zoo's students have it (and a student
scripted before it existed is rebuilt from its weights, see :func:`periodic_model`). The
pair list is not differentiated: forces are ``-dE/dpositions`` at a fixed cell.
"""

from __future__ import annotations

import torch

from mdval.errors import InputError
from mdval.md.torch_engine.model import ForceModel
from mdval.potentials.torchscript import frozen_for_calls


def _vesin() -> type:
    try:
        from vesin_torch import NeighborList
    except ImportError as exc:  # pragma: no cover - a base dependency
        raise InputError(
            "periodic systems on the torch engine need vesin-torch: pip install vesin-torch"
        ) from exc
    nl: type = NeighborList
    return nl


def pair_list(
    positions: torch.Tensor,
    cell: torch.Tensor,
    pbc: torch.Tensor,
    counts: list[int] | tuple[int, ...],
    cutoff_A: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ordered pairs closer than ``cutoff_A`` of every system of a batch.

    ``positions`` (N, 3) Å, systems contiguous with ``counts`` atoms; ``cell`` (S, 3, 3)
    rows are the cell vectors in Å; ``pbc`` (S, 3) bool. Returns ``pair_i``, ``pair_j``
    (E,) int64 indices into the batch and ``pair_shift_A`` (E, 3) in the dtype of
    ``positions``. A non-periodic system (pbc all False) may have a zero cell.
    """
    search = _vesin()(cutoff=float(cutoff_A), full_list=True)
    points = positions.detach()
    box = cell.to(points.dtype)
    out_i, out_j, out_shift = [], [], []
    start = 0
    for s, n in enumerate(counts):
        i, j, shifts = search.compute(
            points[start : start + n], box[s], pbc[s], quantities="ijS", copy=True
        )
        out_i.append(i + start)
        out_j.append(j + start)
        out_shift.append(shifts.to(points.dtype) @ box[s])
        start += n
    return torch.cat(out_i), torch.cat(out_j), torch.cat(out_shift)


class GeometryModule(torch.nn.Module):
    """A module with mdval's batched signature that also needs the cells:
    :class:`PeriodicForceModel` sets ``geometry`` = (cell (S, 3, 3), pbc (S, 3), atoms per
    system) around each call."""

    def __init__(self) -> None:
        super().__init__()
        self.geometry: tuple[torch.Tensor, torch.Tensor, tuple[int, ...]] | None = None

    def cells(self) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
        if self.geometry is None:
            raise RuntimeError(f"{type(self).__name__} called without cells")
        return self.geometry


class PairModule(GeometryModule):
    """A pair-contract model behind mdval's batched signature. The neighbour list is built
    inside the call, so that it is part of the model's timed cost (as in the ASE
    calculator)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.cutoff_A = float(getattr(inner, "cutoff_A"))  # noqa: B009 - a Module attribute
        self.inner = frozen_for_calls(inner, ("energies_from_pairs",))

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        cell, pbc, counts = self.cells()
        i, j, shift = pair_list(positions, cell, pbc, counts, self.cutoff_A)
        from_pairs = getattr(self.inner, "energies_from_pairs")  # noqa: B009 - a Module method
        energies: torch.Tensor = from_pairs(
            positions, atomic_numbers, system_index, n_systems, i, j, shift
        )
        return energies


class PeriodicForceModel(ForceModel):
    """A :class:`ForceModel` that also takes each system's ``cell`` and ``pbc`` (the keywords
    the integrators pass for a periodic batch) and hands them to its
    :class:`GeometryModule` (a :class:`PairModule`, or a TorchSim model's wrapper)."""

    module: GeometryModule
    periodic = True  # takes the ``cell``/``pbc`` keywords

    def __call__(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
        *,
        cell: torch.Tensor | None = None,
        pbc: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if cell is None or pbc is None:  # a non-periodic batch: no images
            cell = positions.new_zeros((n_systems, 3, 3))
            pbc = torch.zeros((n_systems, 3), dtype=torch.bool, device=positions.device)
        counts = tuple(torch.bincount(system_index, minlength=n_systems).tolist())
        self.module.geometry = (cell, pbc, counts)
        try:
            return super().__call__(positions, atomic_numbers, system_index, n_systems)
        finally:
            self.module.geometry = None


def has_pair_contract(module: torch.nn.Module) -> bool:
    return hasattr(module, "energies_from_pairs") and hasattr(module, "cutoff_A")


def _zoo_student(module: torch.nn.Module) -> bool:
    """A zoo student scripted before the pair contract existed (same architecture)."""
    names = ("inv_avg_neighbours", "rbf_centers", "element_lookup", "n_interactions")
    return all(hasattr(module, name) for name in names)


def periodic_model(model: ForceModel) -> ForceModel:
    """``model`` able to run periodic systems: itself when it already takes cells, else a
    :class:`PeriodicForceModel` around its pair contract. InputError when it has none."""
    if getattr(model, "periodic", False):
        return model
    module = model.module
    if not has_pair_contract(module):
        if not _zoo_student(module):
            raise InputError(
                "this model runs non-periodic systems only: the torch engine needs a model "
                "with energies_from_pairs (the pair contract, mdval/potentials/base.py) or a "
                "TorchSim model for periodic cells; use --engine ase"
            )
        from mdval.zoo.model import with_pair_contract

        module = with_pair_contract(module)
    wrapped = PeriodicForceModel(PairModule(module), time_calls=model.time_calls)
    for name in ("model_dtype", "_sync"):
        if hasattr(model, name):
            setattr(wrapped, name, getattr(model, name))
    return wrapped
