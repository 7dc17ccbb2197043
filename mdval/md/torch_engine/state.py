"""The state of a batch of systems: flat atom tensors and a per-atom system index.

Units are ASE's, so that the torch engine reproduces ASE's velocity Verlet bit for bit:
positions in Å, momenta in amu·Å/t (t = ASE time unit, ``ase.units.fs`` ≈ 0.0982 t per fs),
masses in amu, forces in eV/Å, energies in eV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from ase import Atoms


@dataclass(frozen=True)
class MDState:
    """Many systems in one batch; the atoms of system ``s`` are contiguous.

    ===============  ==========  =============================================
    field            shape       meaning
    ===============  ==========  =============================================
    positions        (N, 3)      Å
    momenta          (N, 3)      amu·Å/t (ASE units)
    masses           (N,)        amu
    atomic_numbers   (N,) int64  Z
    system_index     (N,) int64  system of each atom, 0 .. n_systems-1, sorted
    forces           (N, 3)      eV/Å at ``positions`` (None before the first call)
    energies         (S,)        potential energy of each system in eV (or None)
    counts           S ints      atoms per system, on the host (for slicing records)
    cell             (S, 3, 3)   cell vectors of each system in Å, rows (or None)
    pbc              (S, 3) bool periodic directions of each system (or None)
    ===============  ==========  =============================================

    ``cell`` and ``pbc`` are set when some system of the batch is periodic (see
    :mod:`~mdval.md.torch_engine.neighbours`); the cell is fixed during a run.
    """

    positions: torch.Tensor
    momenta: torch.Tensor
    masses: torch.Tensor
    atomic_numbers: torch.Tensor
    system_index: torch.Tensor
    counts: tuple[int, ...]
    forces: torch.Tensor | None = None
    energies: torch.Tensor | None = None
    cell: torch.Tensor | None = None
    pbc: torch.Tensor | None = None

    @property
    def periodic(self) -> bool:
        return self.pbc is not None and bool(self.pbc.any())

    @property
    def n_systems(self) -> int:
        return len(self.counts)

    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def device(self) -> torch.device:
        return self.positions.device

    @property
    def dtype(self) -> torch.dtype:
        return self.positions.dtype

    def moved(
        self,
        positions: torch.Tensor,
        momenta: torch.Tensor,
        forces: torch.Tensor,
        energies: torch.Tensor,
    ) -> MDState:
        """This batch at new positions and momenta, with the forces and energies there: the
        state an integrator step returns. Built by copying the instance dictionary, not by
        ``dataclasses.replace``, whose field-by-field path cost 13-23 us a step right after a
        model call against 5-11 us for this (zoo:ultra-tiny, docs/performance.md)."""
        new = object.__new__(MDState)
        fields = vars(new)
        fields.update(vars(self))
        fields.update(positions=positions, momenta=momenta, forces=forces, energies=energies)
        return new

    def offsets(self) -> np.ndarray:
        """(S + 1,) start of each system's rows, then N (read-only; computed once per
        batch: the states :meth:`moved` makes share it)."""
        return self._static(
            "_offsets", lambda: np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        )

    def host_masses(self) -> np.ndarray:
        """(N,) masses in amu on the host, float64 (read-only; copied once per batch)."""
        return self._static("_host_masses", lambda: _host(self.masses))

    def _static(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """A host array of what a step never changes (counts, masses), kept in the instance
        dictionary, which :meth:`moved` copies and ``dataclasses.replace`` does not."""
        fields = vars(self)
        value = fields.get(name)
        if value is None:
            value = make()
            value.setflags(write=False)
            fields[name] = value
        return value

    def select(self, systems: Sequence[int]) -> MDState:
        """A new state holding only ``systems`` (indices into this one), in that order."""
        offsets = self.offsets()
        rows = np.concatenate(
            [np.arange(offsets[s], offsets[s + 1]) for s in systems] or [np.zeros(0, np.int64)]
        )
        index = torch.as_tensor(rows, dtype=torch.int64, device=self.device)
        counts = tuple(self.counts[s] for s in systems)
        new_index = torch.repeat_interleave(
            torch.arange(len(counts), device=self.device),
            torch.as_tensor(counts, dtype=torch.int64, device=self.device),
        )
        keep = torch.as_tensor(list(systems), dtype=torch.int64, device=self.device)
        return replace(
            self,
            positions=self.positions[index],
            momenta=self.momenta[index],
            masses=self.masses[index],
            atomic_numbers=self.atomic_numbers[index],
            system_index=new_index,
            counts=counts,
            forces=None if self.forces is None else self.forces[index],
            energies=None if self.energies is None else self.energies[keep],
            cell=None if self.cell is None else self.cell[keep],
            pbc=None if self.pbc is None else self.pbc[keep],
        )


def state_from_atoms(
    systems: Sequence[Atoms],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> MDState:
    """One batch of ``systems`` (their positions, momenta and masses as ASE holds them;
    their cells and pbc when any of them is periodic)."""
    if not systems:
        raise ValueError("a batch needs at least one system")
    counts = tuple(len(a) for a in systems)
    if min(counts) < 1:
        raise ValueError("every system needs at least one atom")
    dev = torch.device(device)
    periodic = any(bool(a.pbc.any()) for a in systems)

    def cat(arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.as_tensor(np.concatenate(arrays), dtype=dtype, device=dev)

    return MDState(
        positions=cat([a.get_positions() for a in systems]),
        momenta=cat([a.get_momenta() for a in systems]),
        masses=cat([a.get_masses() for a in systems]),
        atomic_numbers=torch.as_tensor(
            np.concatenate([a.numbers for a in systems]), dtype=torch.int64, device=dev
        ),
        system_index=torch.repeat_interleave(
            torch.arange(len(counts), device=dev),
            torch.as_tensor(counts, dtype=torch.int64, device=dev),
        ),
        counts=counts,
        cell=cat([a.cell.array[None] for a in systems]) if periodic else None,
        pbc=torch.as_tensor(np.stack([a.pbc for a in systems]), device=dev) if periodic else None,
    )


@dataclass(frozen=True)
class HostFrame:
    """A state copied to the host (NumPy float64), for observers and results."""

    positions: np.ndarray  # (N, 3) Å
    momenta: np.ndarray  # (N, 3) amu·Å/t
    masses: np.ndarray  # (N,) amu
    forces: np.ndarray | None  # (N, 3) eV/Å
    energies: np.ndarray | None  # (S,) eV
    offsets: np.ndarray  # (S + 1,)

    def rows(self, s: int) -> slice:
        return slice(int(self.offsets[s]), int(self.offsets[s + 1]))


def _host(t: torch.Tensor) -> np.ndarray:
    """``t`` as a float64 NumPy array on the host: a view of a CPU float64 tensor (states
    are never changed in place), else one transfer."""
    if t.is_cpu and t.dtype is torch.float64 and not t.requires_grad:
        return t.numpy()
    return t.detach().to("cpu", torch.float64).numpy()


def to_host(state: MDState) -> HostFrame:
    """Copy what observers need to the host: one transfer per tensor that a step changes
    (masses and offsets once per batch)."""
    return HostFrame(
        positions=_host(state.positions),
        momenta=_host(state.momenta),
        masses=state.host_masses(),
        forces=None if state.forces is None else _host(state.forces),
        energies=None if state.energies is None else _host(state.energies),
        offsets=state.offsets(),
    )
