"""Whether two runs started from identical initial conditions — the one check behind every
trajectory comparison (``mdval compare``, the service's ``/compare`` and the compare page).

A run's *start* is what fixes its first state and the dynamics up to production, whatever
the potential: the structure (by content), the seed (Maxwell–Boltzmann velocities and the
thermostat's noise), the temperature, the timestep, the equilibration time and the
thermostat's friction. The model, the reference and the output intervals are not part of
it. Pure Python: the API process calls it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: The model-independent fields that must match (friction only when both runs say it).
START_FIELDS = (
    "structure",
    "seed",
    "temperature_K",
    "timestep_fs",
    "equilibration_ps",
    "friction_per_ps",
)
#: Fields compared as numbers, to this relative tolerance (values read back from JSON).
_REL_TOL = 1e-9
_OPTIONAL = ("friction_per_ps",)


def start_of_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The start of a run from its ``summary.json`` (provenance and protocol); the
    structure by its content hash."""
    provenance = summary.get("provenance") or {}
    protocol = provenance.get("protocol") or {}
    return {
        "structure": provenance.get("structure_sha256") or provenance.get("structure_spec"),
        "seed": provenance.get("seed"),
        **{k: protocol.get(k) for k in START_FIELDS[2:]},
    }


def start_of_config(structure: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """The start of a run from its request (``RunConfig`` fields) and the identity of its
    structure (a registered structure's id or content hash)."""
    return {"structure": structure, **{k: config.get(k) for k in START_FIELDS[1:]}}


def start_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What differs between two starts, one phrase per field (``temperature_K: 300 vs
    400``); empty when they are the same start. A field missing on one side differs, except
    the friction, which older runs do not record."""
    out = []
    for key in START_FIELDS:
        x, y = a.get(key), b.get(key)
        if key in _OPTIONAL and (x is None or y is None):
            continue
        if not _same(x, y):
            out.append(f"{key}: {x!r} vs {y!r}")
    return out


def same_start(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two starts (:func:`start_of_summary`, :func:`start_of_config`) are one."""
    return not start_differences(a, b)


def _same(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return False
    numbers = (int, float)
    if isinstance(x, numbers) and isinstance(y, numbers) and not isinstance(x, bool):
        return math.isclose(float(x), float(y), rel_tol=_REL_TOL, abs_tol=0.0)
    return bool(x == y)
