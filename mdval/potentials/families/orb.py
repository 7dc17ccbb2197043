"""``orb:PATH.ckpt?arch=...``: a local Orb checkpoint through orb-models' ASE calculator.

Orb's loaders download their weights from a hub; this adapter passes a local file instead
(``weights_path``), so a deployment that has the file runs Orb offline. Options: ``arch``
(the orb-models architecture the checkpoint belongs to), ``precision`` and ``device``.
Neither orb-models nor any Orb weights are available on mdval's CI machine: this adapter is
documented and its spec is validated there, but it has not been run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import ORB
from mdval.potentials.families.loading import (
    checkpoint,
    count_parameters,
    family_entry_of,
    loading,
    require,
    torch_device,
)
from mdval.potentials.families.spec import FamilySpec

INFO = ORB
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options


@lru_cache(maxsize=4)
def _model(path: Path, arch: str, precision: str, device: str) -> Any:
    pretrained = require("orb_models.forcefield.pretrained", family=FAMILY, dist=DIST, extra=EXTRA)
    with loading(FAMILY, f"the checkpoint {path}"):
        loader = pretrained.ORB_PRETRAINED_MODELS[arch]
        return loader(weights_path=str(path), device=device, precision=precision)


def entry(spec: FamilySpec) -> PotentialEntry:
    require("orb_models.forcefield.pretrained", family=FAMILY, dist=DIST, extra=EXTRA)
    path = checkpoint(spec.target, family=FAMILY, shipped={}, suffixes=(".ckpt", ".pt"))
    arch, precision, pinned = spec.option("arch"), spec.option("precision"), spec.option("device")

    def make(device: str) -> Calculator:
        from orb_models.forcefield.calculator import ORBCalculator

        resolved = torch_device(device, pinned)
        calc: Calculator = ORBCalculator(_model(path, arch, precision, resolved), device=resolved)
        return calc

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"Orb {arch}",
        weights=[path],
        factory=make,
        elements=None,
        n_params=count_parameters(_model(path, arch, precision, "cpu")),
        dtype=precision,
    )
