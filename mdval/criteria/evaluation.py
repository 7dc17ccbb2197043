"""Compare a run's metrics with a profile: one :class:`CriterionResult` per criterion.

Levels: ``target`` (meets the target threshold), ``acceptable`` (misses the target, meets the
acceptable threshold), ``fail``, ``inconclusive`` (the evidence the criterion needs is not
there: a run shorter than the duration it must show, too few reference frames, a drift that
is not resolved from noise; the note says what is needed) and ``not_evaluated`` (the metric
has no value, e.g. no reference potential was given so there is no force RMSE; visible in
reports, but it neither passes nor fails a run). A non-finite value (NaN, inf) fails every
comparison.

The verdict of a run: ``fail`` when some criterion fails, else ``inconclusive`` when some
criterion is inconclusive, else ``pass``.

``le``/``ge``/``eq`` comparisons on numbers allow a relative round-off of 1e-9, so that
10 000 steps of 0.5 fs count as the 5 ps they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from mdval.criteria.profile import Comparison, Criterion, DeviceClass, Profile, load_profile
from mdval.errors import InputError

Level = Literal["target", "acceptable", "fail", "inconclusive", "not_evaluated"]
#: "protocol invalid" is given by the control judgement (mdval.controls), never by verdict().
Verdict = Literal["pass", "fail", "inconclusive", "protocol invalid"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
LEVELS: tuple[Level, ...] = get_args(Level)
PASSING_LEVELS: frozenset[Level] = frozenset({"target", "acceptable"})

_ROUND_OFF = 1e-9
_GPU_NAMES = ("cuda", "gpu")
_SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "="}


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
    metrics: Mapping[str, Any],
    profile: Profile | str | Path,
    *,
    device: str,
    control_metrics: Mapping[str, Any] | None = None,
) -> list[CriterionResult]:
    """Evaluate every criterion of ``profile`` on a run's ``metrics``, in profile order.

    ``metrics`` maps metric names (as in METRICS.md, plus ``crashed`` and
    ``stable_duration_ps``) to values; None or absent means "not measured". ``device`` is the
    device the run actually used and picks the rows of device-dependent criteria.
    ``control_metrics``: the metrics of the run's control, for criteria judged relative to it.
    """
    prof = load_profile(profile)
    dev = device_class(device)
    out = []
    for c in prof.criteria:
        raw, note = _judged_value(c, metrics.get(c.metric), control_metrics)
        raw, share = _per_replica(c, raw, metrics)
        note = share if note is None else (note if share is None else f"{share}; {note}")
        result = _evaluate_one(c, raw, dev, prof.name)
        if note is not None:
            result = replace(result, note=note if result.note is None else f"{result.note}; {note}")
        out.append(_with_evidence(c, result, metrics, dev))
    return out


def _judged_value(
    criterion: Criterion, raw: Any, control: Mapping[str, Any] | None
) -> tuple[Any, str | None]:
    """The value a criterion compares: the metric, or its excess over the control's."""
    if criterion.relative_to_control != "excess" or control is None or raw is None:
        return raw, None
    base = control.get(criterion.metric)
    if isinstance(base, bool) or not isinstance(base, int | float) or not math.isfinite(base):
        return raw, "no control value: judged as it is"
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return raw, None
    excess = max(0.0, abs(float(raw)) - abs(float(base)))
    return excess, f"excess over the control's {abs(float(base)):.4g} (run: {abs(float(raw)):.4g})"


def _per_replica(
    criterion: Criterion, raw: Any, metrics: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """``per: batch_size``: a batch-wide value over the run's batch size (absent or 1: as it
    is), so that a replica of a batch is judged like the same run alone."""
    if criterion.per != "batch_size" or isinstance(raw, bool) or not isinstance(raw, int | float):
        return raw, None
    size = metrics.get("batch_size")
    if isinstance(size, bool) or not isinstance(size, int | float) or size <= 1:
        return raw, None
    return float(raw) / float(size), f"per replica: {float(raw):.4g} per batch step / {size:g}"


def verdict(results: Iterable[CriterionResult]) -> Verdict:
    """``fail`` when some criterion fails; else ``inconclusive`` when some criterion cannot
    decide; else ``pass`` (every evaluated criterion at least acceptable)."""
    levels = {r.level for r in results}
    if "fail" in levels:
        return "fail"
    return "inconclusive" if "inconclusive" in levels else "pass"


def _with_evidence(
    criterion: Criterion, result: CriterionResult, metrics: Mapping[str, Any], device: DeviceClass
) -> CriterionResult:
    """``result`` turned inconclusive when the evidence ``criterion`` needs is missing."""
    if result.level == "not_evaluated":
        return result
    missed = result.level == "fail"
    needs: list[str] = []
    if missed and criterion.capped_by is not None:
        thresholds = criterion.thresholds(device)
        cap = metrics.get(criterion.capped_by)
        if (
            thresholds is not None
            and isinstance(cap, int | float)
            and not isinstance(cap, bool)
            and not _meets(float(cap), thresholds.acceptable, criterion.comparison)
        ):
            unit = f" {criterion.unit}" if criterion.unit else ""
            needs.append(
                f"needs a run that can reach {_SYMBOL[criterion.comparison]} "
                f"{thresholds.acceptable:g}{unit} ({criterion.capped_by} = {cap:g})"
            )
    for ev in criterion.evidence:
        if ev.when == "miss" and not missed:
            continue
        raw = metrics.get(ev.metric)
        ok = False
        if isinstance(raw, bool | int | float) and math.isfinite(float(raw)):
            value: float | bool = bool(raw) if isinstance(ev.value, bool) else float(raw)
            ok = _meets(value, ev.value, ev.comparison)
        if not ok:
            needs.append(f"needs {ev.needs} ({ev.metric} = {_show(raw)})")
    if not needs:
        return result
    note = "; ".join(needs) if result.note is None else "; ".join([result.note, *needs])
    return replace(result, level="inconclusive", note=note)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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
