"""Published model families as specs: ``ani:1x``, ``sevennet:7net-0``, ``chgnet:0.3.0``,
``mace:PATH``, ``orb:PATH``, ``fairchem:PATH`` — each an adapter module with one job (load
its package's model and give an ASE calculator), options after ``?``.

Families run no user code (only the named, installed package), so they need no allowlist,
unlike ``py:`` factories. A family whose package is missing says which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mdval.potentials.families.declared import DECLARED, is_family_spec, parse_spec
from mdval.potentials.families.spec import split_family

if TYPE_CHECKING:  # this package imports no ase at import time: the API imports declared.py
    from mdval.potentials.base import PotentialEntry

__all__ = ["FAMILIES", "describe_families", "family_entry", "is_family_spec"]

#: Family names; each is an adapter module ``families/<name>.py`` with ``entry(spec)``, and
#: its options are declared (torch- and ase-free) in ``declared.py``.
FAMILIES = tuple(DECLARED)


def _adapter(name: str) -> ModuleType:
    return importlib.import_module(f"mdval.potentials.families.{name}")


def family_entry(text: str) -> PotentialEntry:
    """The entry of a family spec (loads the model once per process to count parameters)."""
    family, _, _ = split_family(text)
    spec = parse_spec(text)
    entry: PotentialEntry = _adapter(family).entry(spec)
    return entry


def describe_families() -> list[dict[str, Any]]:
    """The catalogue of families: options, shipped checkpoints, extra, installed version."""
    from mdval.potentials.families.loading import package_version

    out = []
    for name in FAMILIES:
        adapter = _adapter(name)
        installed = package_version(adapter.DIST)
        out.append(
            {
                "family": name,
                "summary": DECLARED[name].summary,
                "example": DECLARED[name].example,
                "extra": adapter.EXTRA,
                "package": adapter.DIST,
                "installed": None if installed == "unknown" else installed,
                "shipped": list(DECLARED[name].shipped),
                "options": [
                    {
                        "name": o.name,
                        "choices": list(o.choices),
                        "default": o.default,
                        "help": o.help,
                    }
                    for o in adapter.OPTIONS
                ],
            }
        )
    return out
