"""Criteria levels of a registered profile, for values the service shows (a running run's
numbers so far, a leaderboard row, a report's medians).

The levels are :func:`mdval.criteria.evaluate`'s (the verdict's own rules: thresholds by
device, ``absolute``, evidence -> ``inconclusive``), on a profile definition as registered
(``profiles.definition``). Values shown while a run goes are partial, so a ``required``
metric that is not there yet is ``not_evaluated`` here instead of an error. Aggregates that
are not one run's (a leaderboard median) are judged on the thresholds alone
(``evidence=False``: no ``evidence``/``capped_by`` rule can turn them inconclusive).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdval.criteria.evaluation import evaluate
from mdval.criteria.profile import Profile, parse_profile

_GPU_WORDS = ("cuda", "gpu", "nvidia")


def device_class_of(device: str | None) -> str:
    """``gpu`` or ``cpu`` from a run's device or device name (``NVIDIA H100``, ``cuda:0``,
    ``Intel(R) Xeon(R)``)."""
    text = (device or "").lower()
    return "gpu" if any(word in text for word in _GPU_WORDS) else "cpu"


def partial_profile(
    definition: Mapping[str, Any], *, name: str = "profile", evidence: bool = True
) -> Profile:
    """The profile of a registered definition with no criterion ``required`` (and, with
    ``evidence=False``, no evidence rules)."""
    profile = parse_profile(dict(definition), source=name)
    update: dict[str, Any] = {"required": False}
    if not evidence:
        update |= {"evidence": [], "capped_by": None}
    criteria = [c.model_copy(update=update) for c in profile.criteria]
    return profile.model_copy(update={"criteria": criteria})


def thresholds(definition: Mapping[str, Any], device: str | None) -> list[dict[str, Any]]:
    """Each criterion with the thresholds that apply on ``device``: name, metric, unit,
    comparison, target, acceptable, description."""
    profile = partial_profile(definition)
    dev = device_class_of(device)
    out = []
    for c in profile.criteria:
        row = c.thresholds(dev)  # type: ignore[arg-type]
        out.append(
            {
                "name": c.name,
                "metric": c.metric,
                "unit": c.unit,
                "comparison": c.comparison,
                "target": row.target if row else None,
                "acceptable": row.acceptable if row else None,
                "description": c.description or None,
            }
        )
    return out


def levels(
    definition: Mapping[str, Any],
    metrics: Mapping[str, Any],
    device: str | None,
    *,
    evidence: bool = True,
) -> list[dict[str, Any]]:
    """One row per criterion: the core's result (name, metric, value, unit, target,
    acceptable, comparison, level, note, ...) with the criterion's description."""
    profile = partial_profile(definition, evidence=evidence)
    described = {c.name: c.description or None for c in profile.criteria}
    results = evaluate(metrics, profile, device=device_class_of(device))
    return [{**r.to_dict(), "description": described.get(r.name)} for r in results]
