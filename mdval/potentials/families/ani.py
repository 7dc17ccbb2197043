"""``ani:1x`` (also ``ani:2x``, ``ani:1ccx``): the ANI ensembles whose weights torchani 2.2
ships in its package (``torchani/resources/ani-*_8x``).

``torchani.models.ANI1x()`` would download the resources (its ``.info`` file is an empty
placeholder in the wheel), so the eight-network ensemble is built from the shipped
NeuroChem files with ``torchani.neurochem``. Options: ``dtype`` (``float32`` default, or
``float64``) and ``device``. Energies come back in eV through torchani's ASE calculator.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from ase.calculators.calculator import Calculator

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.loading import (
    checkpoint,
    count_parameters,
    family_entry_of,
    loading,
    package_dir,
    require,
    torch_device,
)
from mdval.potentials.families.spec import DEVICE, FamilySpec, Option

FAMILY, DIST, EXTRA = "ani", "torchani", "ani"
SUMMARY = "ANI ensembles shipped by torchani 2.2"
EXAMPLE = "ani:1x?dtype=float32"
OPTIONS = (Option("dtype", ("float32", "float64"), "precision of the networks"), DEVICE)

#: name -> (resource folder, NeuroChem constants file, elements)
_SHIPPED = {
    "1x": ("ani-1x_8x", "rHCNO-5.2R_16-3.5A_a4-8.params", ("H", "C", "N", "O")),
    "1ccx": ("ani-1ccx_8x", "rHCNO-5.2R_16-3.5A_a4-8.params", ("H", "C", "N", "O")),
    "2x": ("ani-2x_8x", "rHCNOSFCl-5.1R_16-3.5A_a8-4.params", ("H", "C", "N", "O", "S", "F", "Cl")),
}
ENSEMBLE_SIZE = 8
HARTREE_TO_EV = 27.211386024367243  # torchani.units.HARTREE_TO_EV (= ase.units.Hartree)


def _resources() -> Path:
    torchani = require("torchani", family=FAMILY, dist=DIST, extra=EXTRA)
    return package_dir(torchani) / "resources"


@lru_cache(maxsize=8)
def _ensemble(folder: Path, consts_name: str, dtype: str, device: str) -> Any:
    from torchani import neurochem
    from torchani.aev import AEVComputer
    from torchani.models import BuiltinEnsemble
    from torchani.nn import SpeciesConverter

    with loading(FAMILY, f"the ensemble in {folder}"):
        consts = neurochem.Constants(str(folder / consts_name))
        shifter, sae = neurochem.load_sae(str(folder / "sae_linfit.dat"), return_dict=True)
        networks = neurochem.load_model_ensemble(
            consts.species, str(folder / "train"), ENSEMBLE_SIZE
        )
        model = BuiltinEnsemble(
            SpeciesConverter(consts.species), AEVComputer(**consts), networks, shifter,
            consts.species_to_tensor, consts, sae, True,
        )  # fmt: skip
        return model.to(dtype=getattr(torch, dtype), device=device).eval()


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


def entry(spec: FamilySpec) -> PotentialEntry:
    target = spec.target.lower()
    if target not in _SHIPPED:
        shipped = ", ".join(f"ani:{k}" for k in _SHIPPED)
        raise PotentialError(f"ani: unknown model {spec.target!r}; torchani ships {shipped}")
    folder_name, consts_name, elements = _SHIPPED[target]
    folder = checkpoint(
        target, family=FAMILY, shipped={target: _resources() / folder_name}, suffixes=()
    )
    dtype, pinned = spec.option("dtype"), spec.option("device")
    n_params = count_parameters(_ensemble(folder, consts_name, dtype, "cpu"))

    def make(device: str) -> Calculator:
        model = _ensemble(folder, consts_name, dtype, torch_device(device, pinned))
        calc: Calculator = model.ase()
        return calc

    def batched(device: str) -> BatchedAni:
        return BatchedAni(_ensemble(folder, consts_name, dtype, torch_device(device, pinned)))

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"ANI-{target} ({dtype})",
        weights=[folder],
        factory=make,
        elements=frozenset(elements),
        n_params=n_params,
        dtype=dtype,
        batched=batched,
    )
