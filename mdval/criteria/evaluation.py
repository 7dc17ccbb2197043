"""Compare a run's metrics with a profile: one :class:`CriterionResult` per criterion.

Levels: ``target`` (meets the target threshold), ``acceptable`` (misses the target, meets the
acceptable threshold), ``fail``, and ``not_evaluated`` (the metric has no value, e.g. no
reference potential was given so there is no force RMSE; visible in reports, but it neither
passes nor fails a run). A non-finite value (NaN, inf) fails every comparison.

``le``/``ge``/``eq`` comparisons on numbers allow a relative round-off of 1e-9, so that
10 000 steps of 0.5 fs count as the 5 ps they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from mdval.criteria.profile import Comparison, Criterion, DeviceClass, Profile, load_profile
from mdval.errors import InputError

Level = Literal["target", "acceptable", "fail", "not_evaluated"]
Verdict = Literal["pass", "fail"]
LEVELS: tuple[Level, ...] = get_args(Level)
PASSING_LEVELS: frozenset[Level] = frozenset({"target", "acceptable"})

_ROUND_OFF = 1e-9
_GPU_NAMES = ("cuda", "gpu")


@dataclass(frozen=True)
class CriterionResult:
    """The outcome of one criterion on one run; ``value`` is in ``unit``."""

    name: str
    metric: str
    value: float | bool | None
    target: float | bool | None
    acceptable: float | bool | None
    level: Level
    unit: str | None
    comparison: str
    category: str = "other"
    device: str | None = None  # "cpu" / "gpu" for device-dependent criteria
    note: str | None = None

    @property
    def evaluated(self) -> bool:
        return self.level != "not_evaluated"

    @property
    def passed(self) -> bool:
        """At least acceptable (not-evaluated criteria are not passed, but do not fail)."""
        return self.level in PASSING_LEVELS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; non-finite numbers become None (``note`` says what the value was)."""
        data = asdict(self)
        for key in ("value", "target", "acceptable"):
            value = data[key]
            if isinstance(value, float) and not math.isfinite(value):
                data[key] = None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CriterionResult:
        """Inverse of :meth:`to_dict` (for results read back from a run summary)."""
        try:
            level = data["level"]
            if level not in LEVELS:
                raise InputError(f"criterion result level {level!r} is not one of {LEVELS}")
            return cls(
                name=str(data["name"]),
                metric=str(data["metric"]),
                value=data.get("value"),
                target=data.get("target"),
                acceptable=data.get("acceptable"),
                level=level,
                unit=data.get("unit"),
                comparison=str(data["comparison"]),
                category=str(data.get("category", "other")),
                device=data.get("device"),
                note=data.get("note"),
            )
        except KeyError as exc:
            raise InputError(f"criterion result lacks the field {exc.args[0]!r}") from exc


def device_class(device: str) -> DeviceClass:
    """``"cpu"`` -> cpu; ``"cuda"``, ``"cuda:1"``, ``"gpu"`` -> gpu. Resolve "auto" first."""
    name = device.strip().lower()
    if name == "cpu":
        return "cpu"
    if name.split(":")[0] in _GPU_NAMES:
        return "gpu"
    raise InputError(
        f"device {device!r} is not a device the run used: give 'cpu' or 'cuda' (or 'gpu')"
    )


def evaluate(
    metrics: Mapping[str, Any], profile: Profile | str | Path, *, device: str
) -> list[CriterionResult]:
    """Evaluate every criterion of ``profile`` on a run's ``metrics``, in profile order.

    ``metrics`` maps metric names (as in METRICS.md, plus ``crashed`` and
    ``stable_duration_ps``) to values; None or absent means "not measured". ``device`` is the
    device the run actually used and picks the rows of device-dependent criteria.
    """
    prof = load_profile(profile)
    dev = device_class(device)
    return [_evaluate_one(c, metrics.get(c.metric), dev, prof.name) for c in prof.criteria]


def verdict(results: Iterable[CriterionResult]) -> Verdict:
    """``pass`` when every evaluated criterion is at least acceptable, else ``fail``."""
    return "fail" if any(r.level == "fail" for r in results) else "pass"


def _evaluate_one(
    criterion: Criterion, raw: Any, device: DeviceClass, profile_name: str
) -> CriterionResult:
    thresholds = criterion.thresholds(device)

    def result(
        level: Level, value: float | bool | None = None, note: str | None = None
    ) -> CriterionResult:
        return CriterionResult(
            name=criterion.name,
            metric=criterion.metric,
            value=value,
            target=thresholds.target if thresholds else None,
            acceptable=thresholds.acceptable if thresholds else None,
            level=level,
            unit=criterion.unit,
            comparison=criterion.comparison,
            category=criterion.category,
            device=device if criterion.device_dependent else None,
            note=note,
        )

    if raw is None:
        if criterion.required:
            raise InputError(
                f"metric {criterion.metric!r} is required by criterion {criterion.name!r} "
                f"of profile {profile_name!r} but the run has no value for it"
            )
        return result("not_evaluated", note=f"no value for {criterion.metric!r}")
    value = _coerce(raw, criterion)
    if thresholds is None:
        return result("not_evaluated", value, note=f"the profile has no threshold for {device}")
    note = None
    if isinstance(value, float):
        if criterion.absolute:
            value = abs(value)
        if not math.isfinite(value):
            note = f"value is {value}, not a finite number"
    if _meets(value, thresholds.target, criterion.comparison):
        level: Level = "target"
    elif _meets(value, thresholds.acceptable, criterion.comparison):
        level = "acceptable"
    else:
        level = "fail"
    return result(level, value, note)


def _coerce(raw: Any, criterion: Criterion) -> float | bool:
    is_bool = isinstance(raw, bool | np.bool_)
    is_number = not is_bool and isinstance(raw, int | float | np.integer | np.floating)
    if criterion.boolean:
        if is_bool or (is_number and raw in (0, 1)):
            return bool(raw)
        expected = "true/false"
    else:
        if is_number:
            return float(raw)
        expected = "a number"
    raise InputError(
        f"metric {criterion.metric!r} (criterion {criterion.name!r}) must be {expected}, "
        f"got {raw!r}"
    )


def _meets(value: float | bool, threshold: float | bool, comparison: Comparison) -> bool:
    if isinstance(threshold, bool) or isinstance(value, bool):
        # Profile validation allows true/false thresholds only with "eq".
        return isinstance(value, bool) and isinstance(threshold, bool) and value == threshold
    tol = _ROUND_OFF * max(1.0, abs(threshold))
    if comparison == "lt":
        return value < threshold
    if comparison == "le":
        return value <= threshold + tol
    if comparison == "gt":
        return value > threshold
    if comparison == "ge":
        return value >= threshold - tol
    return abs(value - threshold) <= tol
