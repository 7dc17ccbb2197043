"""A tiny TorchScript potential that obeys the contract, for tests and examples.

:class:`MorsePairPotential` is a pairwise Morse potential with a smooth cosine cutoff and
learnable per-element parameters::

    E_s = sum_i e0[t_i] + sum_{i<j in s} D_ij ((1 - exp(-alpha (r_ij - r0_ij)))**2 - 1) fc(r_ij)
    D_ij = sqrt(depth[t_i] depth[t_j]),  r0_ij = radius[t_i] + radius[t_j]
    fc(r) = (cos(pi r / cutoff) + 1) / 2 for r < cutoff, else 0

It is physically crude (every pair within the cutoff is "bonded") but smooth, conservative
and bound, which is what MD plumbing tests need. :func:`morse_energy_numpy` is an
independent NumPy implementation of the same formula.
"""

# No `from __future__ import annotations`: TorchScript must see real annotation types.
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from ase.calculators.calculator import Calculator
from torch import nn

#: Covalent-ish radii (Å) and well depths (eV) of the default elements, H C N O.
DEFAULT_ELEMENTS: dict[int, tuple[float, float]] = {
    1: (0.37, 4.5),
    6: (0.76, 3.6),
    7: (0.71, 2.5),
    8: (0.66, 2.6),
}


class MorsePairPotential(nn.Module):
    """Batched Morse pair potential obeying the mdval TorchScript contract.

    Parameters (learnable): ``radius`` (T,), ``depth`` (T,), ``e0`` (T,) and ``alpha`` (1,),
    so ``n_params = 3 T + 1`` for T elements.
    """

    supported_atomic_numbers: list[int]
    cutoff_A: float
    type_of: torch.Tensor  # buffer (119,) int64: Z -> element index, -1 if unsupported

    def __init__(
        self,
        elements: dict[int, tuple[float, float]] | None = None,
        *,
        alpha_per_A: float = 2.0,
        cutoff_A: float = 5.0,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        table = DEFAULT_ELEMENTS if elements is None else elements
        zs = sorted(table)
        self.supported_atomic_numbers = zs
        self.cutoff_A = float(cutoff_A)
        type_of = torch.full((119,), -1, dtype=torch.int64)
        for t, z in enumerate(zs):
            type_of[z] = t
        self.register_buffer("type_of", type_of)
        self.radius = nn.Parameter(torch.tensor([table[z][0] for z in zs], dtype=dtype))
        self.depth = nn.Parameter(torch.tensor([table[z][1] for z in zs], dtype=dtype))
        self.e0 = nn.Parameter(torch.tensor([-0.5 * z for z in zs], dtype=dtype))
        self.alpha = nn.Parameter(torch.tensor([alpha_per_A], dtype=dtype))

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        t = self.type_of[atomic_numbers]
        if bool((t < 0).any()):
            raise RuntimeError("MorsePairPotential: unsupported atomic number in input")
        n = positions.shape[0]
        pairs = torch.triu_indices(n, n, 1, device=positions.device)
        i = pairs[0]
        j = pairs[1]
        same = system_index[i] == system_index[j]
        i = i[same]
        j = j[same]
        r = torch.linalg.norm(positions[j] - positions[i], dim=1)
        d = torch.sqrt(self.depth[t[i]] * self.depth[t[j]])
        r0 = self.radius[t[i]] + self.radius[t[j]]
        x = torch.exp(-self.alpha * (r - r0))
        fc = torch.where(
            r < self.cutoff_A,
            0.5 * (torch.cos(r * (math.pi / self.cutoff_A)) + 1.0),
            torch.zeros_like(r),
        )
        pair_energy = d * ((1.0 - x) ** 2 - 1.0) * fc
        energies = torch.zeros(n_systems, dtype=positions.dtype, device=positions.device)
        energies = energies.index_add(0, system_index[i], pair_energy)
        return energies.index_add(0, system_index, self.e0[t])


def make_test_potential(
    elements: dict[int, tuple[float, float]] | None = None,
    *,
    alpha_per_A: float = 2.0,
    cutoff_A: float = 5.0,
    dtype: torch.dtype = torch.float64,
) -> torch.jit.ScriptModule:
    """A scripted :class:`MorsePairPotential` (``torch.jit.script``)."""
    model = MorsePairPotential(elements, alpha_per_A=alpha_per_A, cutoff_A=cutoff_A, dtype=dtype)
    with warnings.catch_warnings():  # torch >= 2.10 deprecates TorchScript; mdval uses it
        warnings.filterwarnings(
            "ignore", r".*torch\.jit\.script.* is deprecated", DeprecationWarning
        )
        return torch.jit.script(model)


def export_test_potential(
    path: str | Path,
    elements: dict[int, tuple[float, float]] | None = None,
    *,
    alpha_per_A: float = 2.0,
    cutoff_A: float = 5.0,
    dtype: torch.dtype = torch.float64,
) -> Path:
    """Script a :class:`MorsePairPotential` and save it to ``path`` (TorchScript archive)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    module = make_test_potential(elements, alpha_per_A=alpha_per_A, cutoff_A=cutoff_A, dtype=dtype)
    module.save(str(out))
    return out


def morse_energy_numpy(
    positions: np.ndarray,
    numbers: np.ndarray,
    *,
    elements: dict[int, tuple[float, float]] | None = None,
    alpha_per_A: float = 2.0,
    cutoff_A: float = 5.0,
) -> float:
    """Energy (eV) of one system under the default :class:`MorsePairPotential`, in NumPy."""
    table = DEFAULT_ELEMENTS if elements is None else elements
    radius = np.array([table[int(z)][0] for z in numbers])
    depth = np.array([table[int(z)][1] for z in numbers])
    energy = float(sum(-0.5 * int(z) for z in numbers))
    for a in range(len(numbers)):
        for b in range(a + 1, len(numbers)):
            r = float(np.linalg.norm(positions[b] - positions[a]))
            if r >= cutoff_A:
                continue
            d = math.sqrt(depth[a] * depth[b])
            x = math.exp(-alpha_per_A * (r - (radius[a] + radius[b])))
            fc = 0.5 * (math.cos(math.pi * r / cutoff_A) + 1.0)
            energy += d * ((1.0 - x) ** 2 - 1.0) * fc
    return energy


def morse_calculator(device: str = "cpu") -> Calculator:
    """An ASE calculator of the default scripted Morse potential (a ``py:`` factory example:
    ``py:mdval.potentials.testing:morse_calculator``)."""
    from mdval.potentials.torchscript import TorchScriptCalculator

    return TorchScriptCalculator(make_test_potential(), device=device)


morse_calculator.supported_elements = sorted(DEFAULT_ELEMENTS)  # type: ignore[attr-defined]
morse_calculator.periodic_ok = False  # type: ignore[attr-defined]
