"""Judging a run against its control (METRICS.md, "Control runs and verdicts").

* A control is *valid* when it passes the profile's protocol criteria — stability, energy
  conservation, duration — on its own (absolute) metrics. Speed and force criteria do not
  count: a slow teacher does not invalidate a timestep, and the control has no reference.
* A run whose control is invalid gets the verdict ``protocol invalid``: counted neither for
  nor against the model, reported with the control's evidence.
* A run that expected a control and has none, or whose control is undecided (its own drift
  not resolved, say), is ``inconclusive`` unless a crash or a force failure (evidence that
  needs no control) decides ``fail``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mdval.controls.evidence import ControlEvidence
from mdval.criteria import CriterionResult, Profile, evaluate, verdict

#: The categories of criteria that judge the protocol when applied to a control.
PROTOCOL_CATEGORIES = frozenset({"stability", "energy", "duration"})
#: The categories whose inconclusive level leaves a control undecided.
UNDECIDING_CATEGORIES = frozenset({"stability", "energy"})
#: The categories whose failure needs no control to be evidence against a model.
CONTROL_FREE_CATEGORIES = frozenset({"stability", "force"})
#: A control's metrics copied into the run's summary, for the evidence.
CONTROL_METRICS = (
    "drift_percent",
    "drift_resolved",
    "max_deviation_percent",
    "fluctuation_ratio",
    "temperature_mean_K",
    "stable_duration_ps",
    "crashed",
)

PROTOCOL_INVALID = "protocol invalid"


def control_validity(
    control_summary: Mapping[str, Any], profile: Profile, *, device: str
) -> tuple[bool | None, list[str]]:
    """Whether the control passes the protocol criteria, and the evidence either way.

    None: undecided — a stability or energy criterion of the control is itself
    inconclusive (a drift not resolved from noise, say), so the control shows neither that
    the protocol is sound nor that it is not. (An inconclusive duration is not counted: a
    short control shows what a short run can; the run's own duration criterion says the rest.)
    """
    status = control_summary.get("status")
    if status not in ("completed", "crashed"):
        return False, [f"the control run ended {status!r}, not completed"]
    metrics = control_summary.get("metrics") or {}
    criteria = evaluate(metrics, profile, device=device)
    failed = [c for c in criteria if c.category in PROTOCOL_CATEGORIES and c.level == "fail"]
    lines = [_line(c) for c in failed]
    if status == "crashed":
        lines.insert(0, f"the control crashed: {control_summary.get('failure_reason')}")
    if lines:
        return False, lines
    undecided = [
        c for c in criteria if c.category in UNDECIDING_CATEGORIES and c.level == "inconclusive"
    ]
    if undecided:
        return None, [f"control inconclusive on {c.name}: {c.note}" for c in undecided]
    passed = [c.name for c in criteria if c.category in PROTOCOL_CATEGORIES and c.passed]
    return True, [f"the control passes {', '.join(passed) or 'no protocol criterion'}"]


def judge(
    criteria: Sequence[CriterionResult],
    *,
    control: ControlEvidence | None,
    control_expected: bool,
    profile: Profile,
    device: str,
    own_summary: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The verdict of a run given its criteria (already judged relative to ``control``) and
    the ``control`` block of its summary.

    ``own_summary`` stands in for the control's summary when the control is the run itself
    (the reference judged against itself).
    """
    absolute = verdict(criteria)
    if control is None:
        if not control_expected:
            return absolute, {"expected": False}
        decisive = any(
            c.level == "fail" and c.category in CONTROL_FREE_CATEGORIES for c in criteria
        )
        block: dict[str, Any] = {
            "expected": True,
            "valid": None,
            "evidence": ["no control run: energy criteria cannot tell the model from the protocol"],
        }
        return ("fail" if decisive else "inconclusive"), block
    summary = own_summary if control.is_self and own_summary is not None else control.summary
    valid, evidence = control_validity(summary, profile, device=device)
    metrics = summary.get("metrics") or {}
    decisive = any(c.level == "fail" and c.category in CONTROL_FREE_CATEGORIES for c in criteria)
    block = {
        "expected": True,
        "valid": valid,
        "key": control.key,
        "is_self": control.is_self,
        "location": control.location,
        "status": summary.get("status"),
        "time_to_failure_ps": summary.get("time_to_failure_ps"),
        "evidence": evidence,
        "metrics": {k: metrics.get(k) for k in CONTROL_METRICS},
    }
    if valid is None:
        return ("fail" if decisive else "inconclusive"), block
    return (absolute if valid else PROTOCOL_INVALID), block


def _line(c: CriterionResult) -> str:
    value = c.value if not isinstance(c.value, float) else f"{c.value:.4g}"
    unit = f" {c.unit}" if c.unit else ""
    return (
        f"control fails {c.name}: {c.metric} = {value}{unit} "
        f"(acceptable {c.comparison} {c.acceptable}{unit})"
    )
