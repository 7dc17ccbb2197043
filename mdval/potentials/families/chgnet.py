"""``chgnet:0.3.0`` (and the other checkpoints chgnet ships), or ``chgnet:PATH.pth.tar``: a
CHGNet model through chgnet's ASE calculator. Periodic, with stress. float32 only; option
``device``. Where TorchSim is installed (the ``materials`` extra) the entry also carries a
TorchSim model (``chgnet_torchsim.py``), so that replicas batch on the torch engine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import CHGNET
from mdval.potentials.families.loading import (
    checkpoint,
    count_parameters,
    family_entry_of,
    loading,
    package_dir,
    require,
    torch_device,
)
from mdval.potentials.families.sevennet import torchsim_extra
from mdval.potentials.families.spec import FamilySpec

INFO = CHGNET
FAMILY, DIST, EXTRA, OPTIONS = INFO.name, INFO.dist, INFO.extra, INFO.options

_SHIPPED = {
    "0.3.0": "0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar",
    "0.2.0": "0.2.0/chgnet_0.2.0_e30f77s348m32.pth.tar",
    "r2scan": "r2scan/chgnet_r2scan_transfer_learning_e15f36s161m23.pth.tar",
}
#: CHGNet's atom embedding covers Z = 1 .. 94 (the Materials Project's elements).
ELEMENTS = frozenset(chemical_symbols[1:95])


def _shipped() -> dict[str, Path]:
    chgnet = require("chgnet", family=FAMILY, dist=DIST, extra=EXTRA)
    root = package_dir(chgnet) / "pretrained"
    return {name: root / rel for name, rel in _SHIPPED.items()}


@lru_cache(maxsize=8)
def _model(path: Path, device: str) -> Any:
    with loading(FAMILY, f"the checkpoint {path}"):
        from chgnet.model import CHGNet

        return CHGNet.from_file(str(path), verbose=False).to(device).eval()


def entry(spec: FamilySpec) -> PotentialEntry:
    path = checkpoint(spec.target, family=FAMILY, shipped=_shipped(), suffixes=(".pth.tar",))
    pinned = spec.option("device")

    def make(device: str) -> Calculator:
        from chgnet.model.dynamics import CHGNetCalculator

        resolved = torch_device(device, pinned)
        with loading(FAMILY, f"the checkpoint {path}"):
            calc: Calculator = CHGNetCalculator(model=_model(path, resolved), use_device=resolved)
        return calc

    def torchsim(device: str) -> Any:
        from mdval.potentials.families.chgnet_torchsim import CHGNetTorchSim

        resolved = torch_device(device, pinned)
        with loading(FAMILY, f"the checkpoint {path} for TorchSim"):
            return CHGNetTorchSim(_model(path, resolved), device=resolved)

    return family_entry_of(
        spec,
        family=FAMILY,
        dist=DIST,
        name=f"CHGNet {spec.target}",
        weights=[path],
        factory=make,
        elements=ELEMENTS,
        n_params=count_parameters(_model(path, "cpu")),
        dtype="float32",
        molecules_ok=False,  # a crystal model: no cell, no lattice
        **torchsim_extra(torchsim),
    )
