"""``mace:PATH.model``: a local MACE model file through mace-torch's ASE calculator
(MACE-OFF, MACE-MP or a model of your own). Options: ``dtype`` (``float64`` default, as
MACE recommends for MD, or ``float32``) and ``device``. No MACE weights ship in a package,
so this family runs only where the file and ``mace-torch`` are present."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import MACE
from mdval.potentials.families.loading import (
    checkpoint,
    count_parameters,
    family_entry_of,
    loading,
    require,
    torch_device,
)
from mdval.potentials.families.spec import FamilySpec

INFO = MACE
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options


@lru_cache(maxsize=8)
def _calculator(path: Path, dtype: str, device: str) -> Any:
    require("mace.calculators", family=FAMILY, dist=DIST, extra=EXTRA)
    with loading(FAMILY, f"the model file {path}"):
        from mace.calculators import MACECalculator

        return MACECalculator(model_paths=str(path), device=device, default_dtype=dtype)


def entry(spec: FamilySpec) -> PotentialEntry:
    require("mace.calculators", family=FAMILY, dist=DIST, extra=EXTRA)
    path = checkpoint(spec.target, family=FAMILY, shipped={}, suffixes=(".model", ".pt"))
    dtype, pinned = spec.option("dtype"), spec.option("device")
    loaded = _calculator(path, dtype, "cpu")
    model = loaded.models[0]

    def make(device: str) -> Calculator:
        calc: Calculator = _calculator(path, dtype, torch_device(device, pinned))
        return calc

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"MACE {path.stem} ({dtype})",
        weights=[path],
        factory=make,
        elements=frozenset(chemical_symbols[int(z)] for z in model.atomic_numbers),
        n_params=count_parameters(model),
        dtype=dtype,
        cutoff_A=float(model.r_max),
    )
