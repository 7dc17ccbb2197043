"""mdval — validate machine-learned interatomic potentials in molecular dynamics.

The public API is small:

* :func:`run_validation` runs one validation (:class:`RunConfig`) and returns a
  :class:`RunResult` whose ``summary`` is the content of ``summary.json``;
* :class:`RunListener` follows a run while it goes (thermo records, force errors, cancel);
* :func:`resolve_potential` and :func:`load_structure` resolve spec strings;
* :class:`InputError` is bad input (CLI exit 2, API 4xx).

This package imports nothing of the service layers (web, database, queue).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "RunConfig",
    "RunListener",
    "RunResult",
    "__version__",
    "load_structure",
    "resolve_potential",
    "run_validation",
]


def __getattr__(name: str) -> object:
    # Lazy: `import mdval` stays cheap (no torch, no ase) until a name is used.
    if name == "RunConfig":
        from mdval.md.config import RunConfig

        return RunConfig
    if name == "RunListener":
        from mdval.md.listener import RunListener

        return RunListener
    if name in ("run_validation", "RunResult"):
        from mdval.md import protocol

        return getattr(protocol, name)
    if name == "InputError":
        from mdval.errors import InputError

        return InputError
    if name == "resolve_potential":
        from mdval.potentials.registry import resolve_potential

        return resolve_potential
    if name == "load_structure":
        from mdval.structures import load_structure

        return load_structure
    raise AttributeError(f"module 'mdval' has no attribute {name!r}")
