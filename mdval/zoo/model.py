"""The student architecture: invariant radial message passing (SchNet-like, linear filters).

Per atom i, features h_i (width F) start from an element embedding. Each of T interaction
blocks adds

    h_i += MLP( sum_j  W(rbf(r_ij)) * fcut(r_ij) ⊙ (A h_j) ) / avg_neighbours

where rbf are K Gaussians on [0, cutoff], W: K -> F is *linear* (no per-pair hidden layer,
which is what makes SchNet and PaiNN costly per pair), A: F -> F per atom, and fcut is the
cosine cutoff (value and slope zero at the cutoff, so energies are smooth). The update
MLP and the readout MLP are per element (H, C, N, O each have their own): this multiplies
parameters by the number of elements at no extra cost per call, since each atom still goes
through one MLP. The per-atom energy is e_i = scale * MLP_Z(h_i) + e_ref[Z_i], with e_ref
fitted to the training energies; a system's energy is the sum over its atoms. Everything
except the pair list is differentiable, so forces = -dE/dpositions by autograd conserve
energy.

The module obeys mdval's TorchScript contract (``mdval/potentials/base.py``):
``energies = m(positions (N, 3), atomic_numbers (N,), system_index (N,), n_systems)``.
Computation runs in the parameters' dtype (float64 for shipped weights); the result is
returned in the dtype of ``positions``.
"""

import math
from typing import Any

import torch
from torch import nn


def cosine_cutoff(r: torch.Tensor, cutoff: float) -> torch.Tensor:
    """0.5 (cos(pi r / rc) + 1) for r < rc, else 0."""
    return 0.5 * (torch.cos(r * (math.pi / cutoff)) + 1.0) * (r < cutoff).to(r.dtype)


def neighbour_pairs(
    positions: torch.Tensor, system_index: torch.Tensor, n_systems: int, cutoff: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ordered pairs (i, j), i != j, of atoms of the same system closer than ``cutoff``.

    Non-periodic. Atoms are grouped per system into a padded (S, n_max) table, so the
    distance matrix costs S * n_max^2 rather than N^2 for the whole batch (64 replicas of
    300 atoms: 5.8 M distances). The pair list is not differentiated.
    """
    device = positions.device
    n = positions.shape[0]
    counts = torch.bincount(system_index, minlength=n_systems)
    order = torch.argsort(system_index, stable=True)
    sorted_sys = system_index[order]
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n, device=device) - starts[sorted_sys]
    n_max = int(counts.max()) if n > 0 else 0
    table = torch.full((n_systems, n_max), -1, dtype=torch.long, device=device)
    table[sorted_sys, rank] = order
    valid = table >= 0
    p = positions.detach()[table.clamp(min=0)]
    dist = torch.cdist(p, p)
    mask = (dist < cutoff) & valid.unsqueeze(2) & valid.unsqueeze(1)
    mask &= ~torch.eye(n_max, dtype=torch.bool, device=device).unsqueeze(0)
    s, a, b = mask.nonzero().unbind(1)
    return table[s, a], table[s, b]


def _mlp(n_in: int, n_hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.SiLU(), nn.Linear(n_hidden, n_out))


class PerSpecies(nn.Module):
    """One MLP per species, applied to its contiguous block of rows (atoms sorted by species)."""

    def __init__(self, n_species: int, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.n_out = n_out
        self.mlps = nn.ModuleList([_mlp(n_in, n_hidden, n_out) for _ in range(n_species)])

    def forward(self, x: torch.Tensor, counts: list[int]) -> torch.Tensor:
        chunks = torch.split(x, counts)
        out: list[torch.Tensor] = []
        for k, mlp in enumerate(self.mlps):
            if counts[k] > 0:
                out.append(mlp(chunks[k]))
        if len(out) == 0:
            return x.new_zeros((0, self.n_out))
        return torch.cat(out)


class Interaction(nn.Module):
    """One message-passing block: linear radial filter, shared in-map, per-species update."""

    def __init__(self, width: int, n_rbf: int, n_species: int) -> None:
        super().__init__()
        self.filter = nn.Linear(n_rbf, width)
        self.inmap = nn.Linear(width, width, bias=False)
        self.update = PerSpecies(n_species, width, width, width)

    def forward(
        self,
        h: torch.Tensor,
        radial: torch.Tensor,
        fcut: torch.Tensor,
        i: torch.Tensor,
        j: torch.Tensor,
        counts: list[int],
        inv_avg_neighbours: float,
    ) -> torch.Tensor:
        w = self.filter(radial) * fcut.unsqueeze(1)
        x = self.inmap(h)
        m = torch.zeros_like(h).index_add_(0, i, w * x[j]) * inv_avg_neighbours
        return h + self.update(m, counts)


class RadialMPPotential(nn.Module):
    """Batched energy model for non-periodic molecules (see module docstring)."""

    supported_atomic_numbers: list[int]
    cutoff_A: float
    element_lookup: torch.Tensor
    rbf_centers: torch.Tensor
    element_energy: torch.Tensor
    energy_scale: torch.Tensor

    def __init__(
        self,
        elements: list[int],
        width: int,
        n_interactions: int = 3,
        n_rbf: int = 32,
        cutoff_A: float = 5.0,
        avg_neighbours: float = 10.0,
    ) -> None:
        super().__init__()
        self.supported_atomic_numbers = sorted(int(z) for z in elements)
        self.cutoff_A = float(cutoff_A)
        self.inv_avg_neighbours = 1.0 / float(avg_neighbours)
        self.width = int(width)
        self.n_interactions = int(n_interactions)
        self.n_rbf = int(n_rbf)
        self.n_species = len(self.supported_atomic_numbers)
        lookup = torch.full((119,), -1, dtype=torch.long)
        for k, z in enumerate(self.supported_atomic_numbers):
            lookup[z] = k
        self.register_buffer("element_lookup", lookup)
        self.register_buffer("rbf_centers", torch.linspace(0.0, cutoff_A, n_rbf))
        self.rbf_inv_width = float((n_rbf - 1) / cutoff_A)
        self.register_buffer("element_energy", torch.zeros(self.n_species))
        self.register_buffer("energy_scale", torch.ones(()))
        self.embedding = nn.Embedding(self.n_species, width)
        self.interactions = nn.ModuleList(
            [Interaction(width, n_rbf, self.n_species) for _ in range(n_interactions)]
        )
        half = max(width // 2, 1)
        self.readout = PerSpecies(self.n_species, width, half, 1)

    def set_normalisation(self, element_energy: torch.Tensor, scale: float) -> None:
        """Per-element reference energies (eV, in ``supported_atomic_numbers`` order) and the
        energy scale (eV) of the per-atom readout."""
        with torch.no_grad():
            self.get_buffer("element_energy").copy_(element_energy)
            self.get_buffer("energy_scale").fill_(scale)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "elements": self.supported_atomic_numbers,
            "width": self.width,
            "n_interactions": self.n_interactions,
            "n_rbf": self.n_rbf,
            "cutoff_A": self.cutoff_A,
            "avg_neighbours": 1.0 / self.inv_avg_neighbours,
        }

    def forward(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> torch.Tensor:
        species, order, counts = self._species_order(atomic_numbers)
        pos = positions.to(self.rbf_centers.dtype)[order]
        sys_idx = system_index[order]
        i, j = neighbour_pairs(pos, sys_idx, n_systems, self.cutoff_A)
        r = torch.linalg.vector_norm(pos[j] - pos[i], dim=1)
        return self._energies(species, counts, sys_idx, n_systems, i, j, r).to(positions.dtype)

    @torch.jit.export
    def energies_from_pairs(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
        pair_i: torch.Tensor,
        pair_j: torch.Tensor,
        pair_shift_A: torch.Tensor,
    ) -> torch.Tensor:
        """Energies from a neighbour list given by the caller (periodic systems): ordered
        pairs (i, j) with the image shift in Å, r_ij = r_j - r_i + shift; pairs beyond the
        cutoff contribute nothing. The pair contract of ``mdval/potentials/base.py``."""
        species, order, counts = self._species_order(atomic_numbers)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.shape[0], device=order.device)
        pos = positions.to(self.rbf_centers.dtype)
        vec = pos[pair_j] - pos[pair_i] + pair_shift_A.to(pos.dtype)
        r = torch.linalg.vector_norm(vec, dim=1)
        e = self._energies(
            species, counts, system_index[order], n_systems, rank[pair_i], rank[pair_j], r
        )
        return e.to(positions.dtype)

    def _species_order(
        self, atomic_numbers: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """Species (sorted), the atom order that sorts them, and atoms per species: the model
        works in species-sorted order so that per-species MLPs act on contiguous blocks."""
        species = self.element_lookup[atomic_numbers]
        if bool((species < 0).any()):
            raise RuntimeError(
                "structure has an element outside supported_atomic_numbers of this model"
            )
        order = torch.argsort(species, stable=True)
        species = species[order]
        counts: list[int] = torch.bincount(species, minlength=self.n_species).tolist()
        return species, order, counts

    def _energies(
        self,
        species: torch.Tensor,
        counts: list[int],
        sys_idx: torch.Tensor,
        n_systems: int,
        i: torch.Tensor,
        j: torch.Tensor,
        r: torch.Tensor,
    ) -> torch.Tensor:
        """Per-system energies from pair distances ``r`` between sorted atoms ``i``, ``j``."""
        radial = torch.exp(-0.5 * ((r.unsqueeze(1) - self.rbf_centers) * self.rbf_inv_width) ** 2)
        fcut = cosine_cutoff(r, self.cutoff_A)
        h = self.embedding(species)
        for block in self.interactions:
            h = block(h, radial, fcut, i, j, counts, self.inv_avg_neighbours)
        e = self.readout(h, counts).squeeze(1) * self.energy_scale
        e = e + self.element_energy[species]
        return torch.zeros(n_systems, dtype=e.dtype, device=e.device).index_add_(0, sys_idx, e)

    @classmethod
    def from_module(cls, module: nn.Module) -> "RadialMPPotential":
        """A fresh student with the hyperparameters and weights of ``module`` (a scripted
        one too: a TorchScript file saved before ``energies_from_pairs`` existed)."""
        names = ("supported_atomic_numbers", "width", "n_interactions", "n_rbf", "cutoff_A")
        hyper: dict[str, Any] = {name: getattr(module, name) for name in names}
        model = cls(
            elements=[int(z) for z in hyper["supported_atomic_numbers"]],
            width=int(hyper["width"]),
            n_interactions=int(hyper["n_interactions"]),
            n_rbf=int(hyper["n_rbf"]),
            cutoff_A=float(hyper["cutoff_A"]),
            avg_neighbours=1.0 / float(getattr(module, "inv_avg_neighbours")),  # noqa: B009
        )
        state = module.state_dict()
        model.load_state_dict(state)
        centres = state["rbf_centers"]
        return model.to(device=centres.device, dtype=centres.dtype).eval()


def with_pair_contract(module: nn.Module) -> torch.jit.ScriptModule:
    """A zoo student scripted before ``energies_from_pairs`` existed, rebuilt from its weights
    and scripted again, so that it has the pair contract and can be frozen for the hot path
    like any TorchScript model (:func:`mdval.potentials.torchscript.frozen_for_calls`)."""
    return script(RadialMPPotential.from_module(module))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def energy_and_forces(
    model: nn.Module,
    positions: torch.Tensor,
    atomic_numbers: torch.Tensor,
    system_index: torch.Tensor,
    n_systems: int,
    *,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies (S,) and forces (N, 3) = -dE/dpositions, as mdval takes them."""
    pos = positions.detach().requires_grad_(True)
    energy = model(pos, atomic_numbers, system_index, n_systems)
    (grad,) = torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)
    return energy, -grad


def script(model: nn.Module) -> torch.jit.ScriptModule:
    """``torch.jit.script`` (the upload format mdval accepts), without its deprecation notice."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(model)
