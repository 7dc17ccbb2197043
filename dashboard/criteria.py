"""Criteria levels from a profile definition (the registered ``profiles`` rows).

While a run goes, its criteria are *provisional*: evaluated on the running numbers (drift
so far, force RMSE of the samples so far, median inference time, production time reached).
The final table is the core's own, from ``summary.json``.
"""

from __future__ import annotations

import time
from typing import Any

from dashboard.api import app_state
from dashboard.format import level_of

#: How long a profile read from the database is reused.
PROFILE_CACHE_S = 60.0
_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}


def profile_definition(name: str) -> dict[str, Any] | None:
    """The profile's definition (criteria with thresholds) from the app's database; None
    when the dashboard is not mounted in-process or the profile is unknown."""
    hit = _cache.get(name)
    if hit is not None and time.monotonic() - hit[0] < PROFILE_CACHE_S:
        return hit[1]
    state = app_state()
    engine = getattr(state, "engine", None)
    definition = None
    if engine is not None:
        from sqlalchemy.orm import Session

        from app.db.models import Profile

        with Session(engine) as session:
            row = session.get(Profile, name)
            definition = dict(row.definition) if row is not None and row.definition else None
    _cache[name] = (time.monotonic(), definition)
    return definition


def device_class(device: str | None) -> str:
    """``gpu`` or ``cpu`` from a run's device or device name."""
    text = (device or "").lower()
    return "gpu" if any(k in text for k in ("cuda", "gpu", "nvidia")) else "cpu"


def thresholds(criterion: dict[str, Any], device: str) -> tuple[Any, Any]:
    by_device = criterion.get("by_device") or {}
    if by_device:
        pick = by_device.get(device) or next(iter(by_device.values()))
        return pick.get("target"), pick.get("acceptable")
    return criterion.get("target"), criterion.get("acceptable")


def evaluate(
    definition: dict[str, Any] | None, metrics: dict[str, Any], *, device: str = "cpu"
) -> list[dict[str, Any]]:
    """One row per criterion: name, metric, value, unit, target, acceptable, comparison,
    level (``target``/``acceptable``/``fail``/``not_evaluated``), description."""
    rows = []
    for c in (definition or {}).get("criteria", []):
        value = metrics.get(c["metric"])
        if c.get("absolute") and isinstance(value, int | float) and not isinstance(value, bool):
            value = abs(value)
        target, acceptable = thresholds(c, device)
        rows.append(
            {
                "name": c["name"],
                "metric": c["metric"],
                "value": value,
                "unit": c.get("unit"),
                "target": target,
                "acceptable": acceptable,
                "comparison": c.get("comparison", "lt"),
                "level": level_of(value, target, acceptable, c.get("comparison", "lt")),
                "description": c.get("description"),
            }
        )
    return rows


def metric_level(
    definition: dict[str, Any] | None, metric: str, value: Any, *, device: str = "cpu"
) -> str | None:
    """Level of one metric value (None when the profile has no criterion on it)."""
    for c in (definition or {}).get("criteria", []):
        if c["metric"] == metric:
            if c.get("absolute") and isinstance(value, int | float):
                value = abs(value)
            target, acceptable = thresholds(c, device)
            return level_of(value, target, acceptable, c.get("comparison", "lt"))
    return None
