"""Criteria of a profile as the API gives them: thresholds for the figures' lines
(``GET /api/v1/profiles/{name}``) and the levels of shown values
(``POST /api/v1/profiles/{name}/levels``, the core's own evaluation). Nothing is judged
here.

While a run goes, its criteria are *provisional*: the API judges the running numbers
(drift so far, force RMSE of the samples so far, median inference time, production time
reached). The final table is the core's own, from ``summary.json``.
"""

from __future__ import annotations

import time
from typing import Any

from dashboard import api

#: How long a profile's thresholds are reused.
PROFILE_CACHE_S = 60.0
_cache: dict[tuple[str, str | None], tuple[float, list[dict[str, Any]] | None]] = {}


async def profile_thresholds(
    name: str | None, device: str | None, token: str | None
) -> list[dict[str, Any]] | None:
    """The profile's criteria with the thresholds that apply on ``device`` (a device or
    device name); None when the profile is unknown or cannot be read."""
    if not name:
        return None
    key = (name, device)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < PROFILE_CACHE_S:
        return hit[1]
    try:
        body = await api.get(
            f"/profiles/{name}", token=token, params={"device": device} if device else None
        )
        criteria: list[dict[str, Any]] | None = list(body["criteria"])
    except api.ApiError:
        criteria = None
    _cache[key] = (time.monotonic(), criteria)
    if len(_cache) > 64:
        _cache.pop(next(iter(_cache)))
    return criteria


async def profile_definition(name: str | None, token: str | None) -> dict[str, Any] | None:
    """The profile as registered (name, description, criteria with every device's
    thresholds), for the report's methodology; None when unknown."""
    if not name:
        return None
    try:
        body = await api.get(f"/profiles/{name}", token=token)
    except api.ApiError:
        return None
    definition = body.get("definition")
    return dict(definition) if definition else None


def thresholds_of(criteria: list[dict[str, Any]] | None, metric: str) -> tuple[Any, Any]:
    """(target, acceptable) of the criterion on ``metric``; (None, None) when there is none."""
    for c in criteria or []:
        if c["metric"] == metric:
            return c.get("target"), c.get("acceptable")
    return None, None


async def levels(
    name: str | None,
    items: list[dict[str, Any]],
    device: str | None,
    token: str | None,
    *,
    evidence: bool = True,
) -> list[list[dict[str, Any]]] | None:
    """Per metric set, the API's criterion rows (name, metric, value, unit, target,
    acceptable, comparison, level, note, description); None when the profile is unknown.
    ``evidence=False`` for aggregates (medians): the thresholds alone decide."""
    if not name or not items:
        return [[] for _ in items] if name else None
    try:
        body = await api.post(
            f"/profiles/{name}/levels",
            token=token,
            json={"device": device, "items": items, "evidence": evidence},
        )
    except api.ApiError:
        return None
    return list(body["items"])


def level_by_metric(rows: list[dict[str, Any]] | None) -> dict[str, str]:
    """metric -> level of one item's rows."""
    return {r["metric"]: r["level"] for r in rows or []}
