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

from ase.calculators.calculator import Calculator

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import ANI
from mdval.potentials.families.loading import (
    checkpoint,
    count_parameters,
    family_entry_of,
    loading,
    package_dir,
    require,
    torch_device,
)
from mdval.potentials.families.spec import FamilySpec

INFO = ANI
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options

#: name -> (resource folder, NeuroChem constants file, elements)
_SHIPPED = {
    "1x": ("ani-1x_8x", "rHCNO-5.2R_16-3.5A_a4-8.params", ("H", "C", "N", "O")),
    "1ccx": ("ani-1ccx_8x", "rHCNO-5.2R_16-3.5A_a4-8.params", ("H", "C", "N", "O")),
    "2x": ("ani-2x_8x", "rHCNOSFCl-5.1R_16-3.5A_a8-4.params", ("H", "C", "N", "O", "S", "F", "Cl")),
}
ENSEMBLE_SIZE = 8


def _resources() -> Path:
    torchani = require("torchani", family=FAMILY, dist=DIST, extra=EXTRA)
    return package_dir(torchani) / "resources"


@lru_cache(maxsize=8)
def _ensemble(folder: Path, consts_name: str, dtype: str, device: str) -> Any:
    import torch
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

    def batched(device: str) -> Any:
        from mdval.potentials.families.ani_batched import BatchedAni

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
