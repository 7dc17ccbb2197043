"""``sevennet:7net-0`` (and the other checkpoints sevenn ships), or ``sevennet:PATH.pth``: a
SevenNet model through sevenn's ASE calculator. Periodic, with stress. float32 only (the
package's precision); option ``device``. Where TorchSim is installed (the ``materials``
extra) the entry also carries TorchSim's SevenNet model, so that replicas batch on the
torch engine (``--engine torch``, ``mdval bench``)."""

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

    def torchsim(device: str) -> Any:
        """TorchSim's SevenNet model on a model of its own (TorchSim switches the model to
        batch mode, which the ASE calculator's copy must not see)."""
        with loading(FAMILY, f"the checkpoint {path} for TorchSim"):
            from sevenn.util import load_checkpoint

            from mdval.potentials.families.sevennet_torchsim import SevenNetTorchSim

            model = load_checkpoint(str(path)).build_model()
            return SevenNetTorchSim(model, device=torch_device(device, pinned))

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
        **torchsim_extra(torchsim),
    )


def torchsim_extra(torchsim: Any) -> dict[str, Any]:
    """``{"torchsim": make}`` where TorchSim is installed (the engine's batched path)."""
    return {"torchsim": torchsim} if has_module("torch_sim") else {}


def has_module(name: str) -> bool:
    """``name`` can be imported (without importing it)."""
    from importlib.util import find_spec

    return find_spec(name) is not None


def model_device(model: Any) -> str:
    return str(next(model.parameters()).device)
