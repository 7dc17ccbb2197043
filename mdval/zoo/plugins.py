"""``py:`` factories for real teachers: Orb (orb-models) and MACE, from a local checkpoint.

**They cannot run in this repository's environment**: neither ``orb-models`` nor
``mace-torch`` is installed, and their weights cannot be downloaded here. They are the
documented way to plug a real teacher (or a real student) into mdval on a deployment that
has them. The imports happen inside the factories, so importing this module never fails;
calling a factory without the package raises an ``ImportError`` that says what to install.

A deployment allows them by listing the exact spec strings in ``MDVAL_PY_FACTORY_ALLOWLIST``
(JSON list), e.g. ``["py:mdval.zoo.plugins:orb_calculator"]``, and points at the checkpoint
with an environment variable, because a spec string carries no arguments:

============================================  ===========================================
spec                                          environment
============================================  ===========================================
``py:mdval.zoo.plugins:orb_calculator``       ``MDVAL_ORB_CHECKPOINT`` (a local ``.ckpt``),
                                              ``MDVAL_ORB_MODEL`` (pretrained function
                                              name, default ``orb_v3_conservative_inf_omat``)
``py:mdval.zoo.plugins:mace_calculator``      ``MDVAL_MACE_CHECKPOINT`` (a local ``.model``),
                                              ``MDVAL_MACE_DTYPE`` (default ``float64``)
============================================  ===========================================

Each factory takes the device (``"cpu"`` or ``"cuda"``) and returns an ASE calculator.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _checkpoint(env: str) -> Path:
    value = os.environ.get(env)
    if not value:
        raise RuntimeError(f"set {env} to the path of a local checkpoint file")
    path = Path(value).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{env}={value}: no such file")
    return path


def orb_calculator(device: str = "cpu") -> Any:
    """An Orb force field (orb-models) loaded from ``MDVAL_ORB_CHECKPOINT``."""
    try:
        from orb_models.forcefield import pretrained
        from orb_models.forcefield.calculator import ORBCalculator
    except ImportError as exc:  # raised only when called
        raise ImportError("the Orb plug-in needs `pip install orb-models`") from exc
    name = os.environ.get("MDVAL_ORB_MODEL", "orb_v3_conservative_inf_omat")
    loader = getattr(pretrained, name, None)
    if loader is None:
        raise ValueError(f"orb_models.forcefield.pretrained has no model function {name!r}")
    orbff = loader(weights_path=str(_checkpoint("MDVAL_ORB_CHECKPOINT")), device=device)
    return ORBCalculator(orbff, device=device)


def mace_calculator(device: str = "cpu") -> Any:
    """A MACE model (mace-torch) loaded from ``MDVAL_MACE_CHECKPOINT``."""
    try:
        from mace.calculators import MACECalculator
    except ImportError as exc:  # raised only when called
        raise ImportError("the MACE plug-in needs `pip install mace-torch`") from exc
    return MACECalculator(
        model_paths=str(_checkpoint("MDVAL_MACE_CHECKPOINT")),
        device=device,
        default_dtype=os.environ.get("MDVAL_MACE_DTYPE", "float64"),
    )
