"""``fairchem:PATH.pt?task=omat``: a local fairchem (UMA) checkpoint through fairchem's ASE
calculator. fairchem's model names download from a hub; this adapter loads a local file.
Options: ``task`` (the UMA task head) and ``device``. Neither fairchem-core nor any UMA
weights are available on mdval's CI machine: this adapter is documented and its spec is
validated there, but it has not been run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import FAIRCHEM
from mdval.potentials.families.loading import (
    checkpoint,
    family_entry_of,
    loading,
    require,
    torch_device,
)
from mdval.potentials.families.spec import FamilySpec

INFO = FAIRCHEM
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options


@lru_cache(maxsize=4)
def _predictor(path: Path, device: str) -> Any:
    core = require("fairchem.core", family=FAMILY, dist=DIST, extra=EXTRA)
    with loading(FAMILY, f"the checkpoint {path}"):
        return core.pretrained_mlip.load_predict_unit(str(path), device=device)


def entry(spec: FamilySpec) -> PotentialEntry:
    require("fairchem.core", family=FAMILY, dist=DIST, extra=EXTRA)
    path = checkpoint(spec.target, family=FAMILY, shipped={}, suffixes=(".pt",))
    task, pinned = spec.option("task"), spec.option("device")

    def make(device: str) -> Calculator:
        from fairchem.core import FAIRChemCalculator

        calc: Calculator = FAIRChemCalculator(
            _predictor(path, torch_device(device, pinned)), task_name=task
        )
        return calc

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"fairchem {path.stem} ({task})",
        weights=[path],
        factory=make,
        elements=None,
        n_params=None,
        dtype="float32",
    )
