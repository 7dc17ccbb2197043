"""``py:module:factory``: an ASE calculator built by Python code on the server's allowlist.

This is how third-party models (Orb, MACE, ...) are plugged into a deployment. Importing a
module runs its code, so only exact spec strings listed in the setting
``MDVAL_PY_FACTORY_ALLOWLIST`` (a JSON list, e.g. ``'["py:mypkg.models:make_calc"]'``) are
accepted. The factory is called with no arguments, or with ``device=`` when it declares a
``device`` parameter. Optional factory attributes: ``supported_elements`` (symbols or
atomic numbers) and ``periodic_ok`` (bool, default True).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ase.calculators.calculator import BaseCalculator, Calculator
from ase.data import chemical_symbols

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.classical import descriptor_sha256
from mdval.settings import get_settings

PY_PREFIX = "py:"


def _split(spec: str) -> tuple[str, str]:
    parts = spec[len(PY_PREFIX) :].split(":")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise PotentialError(
            f"bad spec {spec!r}: expected py:<module>:<factory>, e.g. py:mypkg.models:make_calc"
        )
    return parts[0].strip(), parts[1].strip()


def _load_factory(module_name: str, attr: str, spec: str) -> Callable[..., Any]:
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PotentialError(f"{spec}: cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise PotentialError(f"{spec}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise PotentialError(f"{spec}: {attr!r} is not callable")
    return obj


@lru_cache(maxsize=64)
def _version_of(module_name: str) -> str:
    top = module_name.split(".")[0]
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    for dist in packages_distributions().get(top, []):
        try:
            return f"{dist}={version(dist)}"
        except PackageNotFoundError:
            continue
    module = importlib.import_module(top)
    return f"{top}={getattr(module, '__version__', 'unknown')}"


def _supported(factory: Any, spec: str) -> frozenset[str] | None:
    raw = getattr(factory, "supported_elements", None)
    if raw is None:
        return None
    out = set()
    for item in raw:
        if isinstance(item, int) and 1 <= item <= 118:
            out.add(chemical_symbols[item])
        elif isinstance(item, str) and item in chemical_symbols[1:]:
            out.add(item)
        else:
            raise PotentialError(f"{spec}: supported_elements holds {item!r}, not an element")
    return frozenset(out)


def _wants_device(factory: Callable[..., Any]) -> bool:
    try:
        return "device" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def py_entry(spec: str) -> PotentialEntry:
    """The entry of an allow-listed ``py:module:factory`` spec (imports the module)."""
    module_name, attr = _split(spec)
    allowlist = get_settings().py_factory_allowlist
    if spec not in allowlist:
        raise PotentialError(
            f"{spec!r} is not on the py-factory allowlist; a server operator must list the "
            "exact spec in the setting MDVAL_PY_FACTORY_ALLOWLIST (a JSON list of strings, "
            f"e.g. MDVAL_PY_FACTORY_ALLOWLIST='[\"{spec}\"]')"
        )
    factory = _load_factory(module_name, attr, spec)
    wants_device = _wants_device(factory)

    def make(device: str) -> Calculator:
        calc = factory(device=device) if wants_device else factory()
        if not isinstance(calc, BaseCalculator) and not hasattr(calc, "get_forces"):
            raise PotentialError(
                f"{spec}: the factory returned {type(calc).__name__}, not an ASE calculator"
            )
        return calc

    return PotentialEntry(
        spec=spec,
        name=f"{module_name}:{attr}",
        kind="py",
        sha256=descriptor_sha256("py", spec, _version_of(module_name)),
        supported_elements=_supported(factory, spec),
        factory=make,
        periodic_ok=bool(getattr(factory, "periodic_ok", True)),
    )
