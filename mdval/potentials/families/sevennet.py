"""``sevennet:7net-0`` (and the other checkpoints sevenn ships), or ``sevennet:PATH.pth``: a
SevenNet model through sevenn's ASE calculator. Periodic, with stress. float32 only (the
package's precision); option ``device``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import SEVENNET
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

INFO = SEVENNET
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options

#: Shipped checkpoint names -> files under ``sevenn/pretrained_potentials`` (multi-fidelity
#: checkpoints need a modal and are not offered).
_SHIPPED = {
    "7net-0": "SevenNet_0__11Jul2024/checkpoint_sevennet_0.pth",
    "7net-0_22may2024": "SevenNet_0__22May2024/checkpoint_sevennet_0.pth",
    "7net-l3i5": "SevenNet_l3i5/checkpoint_l3i5.pth",
}


def _shipped() -> dict[str, Path]:
    sevenn = require("sevenn", family=FAMILY, dist=DIST, extra=EXTRA)
    root = package_dir(sevenn) / "pretrained_potentials"
    return {name: root / rel for name, rel in _SHIPPED.items()}


@lru_cache(maxsize=8)
def _calculator(path: Path, device: str) -> Any:
    with loading(FAMILY, f"the checkpoint {path}"):
        from sevenn.calculator import SevenNetCalculator

        return SevenNetCalculator(model=str(path), file_type="checkpoint", device=device)


def entry(spec: FamilySpec) -> PotentialEntry:
    path = checkpoint(spec.target, family=FAMILY, shipped=_shipped(), suffixes=(".pth",))
    pinned = spec.option("device")
    loaded = _calculator(path, "cpu")

    def make(device: str) -> Calculator:
        from sevenn.calculator import SevenNetCalculator

        model = _calculator(path, torch_device(device, pinned)).model
        with loading(FAMILY, f"the checkpoint {path}"):
            calc: Calculator = SevenNetCalculator(model=model, device=model_device(model))
        return calc

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"SevenNet {spec.target}",
        weights=[path],
        factory=make,
        elements=frozenset(chemical_symbols[int(z)] for z in loaded.type_map),
        n_params=count_parameters(loaded.model),
        dtype="float32",
        cutoff_A=float(loaded.cutoff),
    )


def model_device(model: Any) -> str:
    return str(next(model.parameters()).device)
