"""Per-model recommendation over a suite (METRICS.md, "Recommendation").

A stability or accuracy failure always outranks missing evidence: when some run crashed or
some criterion failed, rules 3-5 decide from the failures. Otherwise, when some criterion is
``inconclusive`` (a run too short for the duration it must show, too few reference frames,
an unresolved drift), the level is ``inconclusive`` (rule 0) and its evidence says what is
needed. Otherwise rules 1-2 decide. The five rules, applied in order:

1. ``production`` -- every evaluated criterion at target on every run, no crash, and a long
   run included (a run stable for at least the profile's stable-duration target, 10 ps in m6);
2. ``production with caveats`` -- no crash, every evaluated criterion at least acceptable;
3. ``pre-equilibration only`` -- no crash, but force error or drift (criteria of category
   ``force`` or ``energy``) beyond acceptable on some run;
4. ``energy screening only`` -- crashes or force R² < 0.5, but the worst energy RMSE of the
   runs that measured it is below ``energy_screening_meV_per_atom`` (a setting, default 10);
5. ``not recommended`` -- otherwise.

Criteria that were not evaluated (e.g. no reference, so no force RMSE) count neither for nor
against a rule; the evidence lists them so that a reader sees what was not checked.
``evidence[0]`` is the sentence of the deciding rule; the lines after it say why each earlier
rule did not hold, then which criteria were not evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from mdval.criteria.evaluation import CriterionResult
from mdval.errors import InputError
from mdval.settings import get_settings

RecommendationLevel = Literal[
    "inconclusive",
    "production",
    "production with caveats",
    "pre-equilibration only",
    "energy screening only",
    "not recommended",
]
RECOMMENDATION_LEVELS: tuple[RecommendationLevel, ...] = get_args(RecommendationLevel)

#: Long-run length when no run carries a ``stable_duration_ps`` criterion (METRICS.md target).
DEFAULT_LONG_RUN_PS = 10.0
#: Rule 4: a force R² below this means the forces are not usable for dynamics.
SCREENING_MIN_FORCE_R2 = 0.5
#: Rule 3: the criteria categories that are "force error or drift".
ACCURACY_CATEGORIES = frozenset({"force", "energy"})

_STABLE_DURATION_METRIC = "stable_duration_ps"
_ROUND_OFF = 1e-9
_SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "="}


@dataclass(frozen=True)
class RunOutcome:
    """What the recommendation needs from one run.

    ``duration_ps`` is the production time reached without a crash (the requested duration
    for a completed run, the time to failure for a crashed one).
    """

    crashed: bool
    criteria: Sequence[CriterionResult]
    duration_ps: float
    force_r2: float | None = None
    energy_rmse_meV_per_atom: float | None = None
    label: str = ""
    protocol_invalid: bool = False  # its control failed: counted neither for nor against

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["criteria"] = [c.to_dict() for c in self.criteria]
        return data

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> RunOutcome:
        """From a run summary: ``status``, ``criteria``, ``metrics.stable_duration_ps`` (else
        ``time_to_failure_ps`` when crashed, ``config.duration_ps`` when completed),
        ``metrics.force_r2`` and ``metrics.energy_rmse_meV_per_atom``."""
        status = summary.get("status")
        label = str(summary.get("run_key") or summary.get("id") or "")
        if status not in ("completed", "crashed"):
            raise InputError(
                f"run {label or '(unnamed)'} has status {status!r}: only completed or crashed "
                "runs count towards a recommendation"
            )
        crashed = status == "crashed"
        metrics = summary.get("metrics") or {}
        config = summary.get("config") or {}
        duration = metrics.get(_STABLE_DURATION_METRIC)
        if duration is None:
            duration = (
                summary.get("time_to_failure_ps", metrics.get("time_to_failure_ps"))
                if crashed
                else config.get("duration_ps")
            )
        if duration is None:
            raise InputError(f"run {label or '(unnamed)'}: no stable duration in its summary")
        return cls(
            crashed=crashed,
            criteria=tuple(CriterionResult.from_dict(c) for c in summary.get("criteria") or []),
            duration_ps=float(duration),
            force_r2=_optional_float(metrics.get("force_r2")),
            energy_rmse_meV_per_atom=_optional_float(metrics.get("energy_rmse_meV_per_atom")),
            label=label,
            protocol_invalid=summary.get("verdict") == "protocol invalid",
        )


@dataclass(frozen=True)
class Recommendation:
    """The level, the number of the rule that decided it (1-5; 0 inconclusive), the evidence."""

    level: RecommendationLevel
    rule: int
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "rule": self.rule, "evidence": list(self.evidence)}


def recommend(
    runs: Sequence[RunOutcome],
    *,
    energy_screening_meV_per_atom: float | None = None,
    long_run_ps: float | None = None,
    min_force_r2: float = SCREENING_MIN_FORCE_R2,
) -> Recommendation:
    """Apply the five rules, in order, to all runs of one model.

    ``energy_screening_meV_per_atom`` defaults to the setting of that name; ``long_run_ps``
    to the target of the runs' ``stable_duration_ps`` criterion (else 10 ps).
    """
    if not runs:
        raise InputError("no runs to recommend from")
    invalid = [r for r in runs if r.protocol_invalid]
    runs = [r for r in runs if not r.protocol_invalid]
    invalid_note = (
        [f"{len(invalid)} protocol-invalid run(s) excluded: their control failed"]
        if invalid
        else []
    )
    if not runs:
        return Recommendation(
            "inconclusive",
            0,
            [
                f"inconclusive — needs a valid protocol: the control failed in all "
                f"{len(invalid)} run(s) (a shorter timestep or a lower temperature)",
                *invalid_note,
            ],
        )
    for run in runs:
        if not any(c.evaluated for c in run.criteria):
            raise InputError(f"run {run.label or '(unnamed)'} has no evaluated criteria")
    screening = (
        get_settings().energy_screening_meV_per_atom
        if energy_screening_meV_per_atom is None
        else energy_screening_meV_per_atom
    )
    long_run = _long_run_ps(runs) if long_run_ps is None else long_run_ps
    facts = _Facts(runs)
    rejected: list[str] = []
    notes = [*facts.not_evaluated_notes(), *invalid_note]

    def decide(level: RecommendationLevel, rule: int, sentence: str) -> Recommendation:
        deciding = f"rule {rule} ({level}): {sentence}"
        return Recommendation(level, rule, [deciding, *rejected, *notes])

    def reject(rule: int, reasons: list[str]) -> None:
        level = RECOMMENDATION_LEVELS[rule]
        rejected.append(f"rule {rule} ({level}) not met: {'; '.join(reasons)}")

    n = facts.n
    longest = f"longest stable run {facts.longest_stable_ps:.1f} ps"
    failed = bool(facts.crashed) or facts.count(lambda c: not _failed(c)) < n
    needs = facts.needs()
    if not failed and needs:
        sentence = "; ".join([f"no crash and no failed criterion in {n} runs", *needs])
        return Recommendation("inconclusive", 0, [f"inconclusive — {sentence}", *notes])
    # Rule 1
    n_target = facts.count(lambda c: c.level == "target")
    has_long = facts.longest_stable_ps >= long_run - _ROUND_OFF * max(1.0, long_run)
    if n_target == n and not facts.crashed and has_long:
        return decide("production", 1, f"{n}/{n} runs at target, no crash; {longest}")
    reasons = [f"{n_target}/{n} runs at target"]
    reasons += facts.misses(lambda c: c.level != "target", "target")
    reasons += facts.crash_reasons()
    if not has_long:
        reasons.append(f"{longest}, below the long run of {long_run:g} ps")
    reject(1, reasons)
    # Rule 2
    n_ok = facts.count(lambda c: c.passed)
    if n_ok == n and not facts.crashed:
        below = facts.misses(lambda c: c.level == "acceptable", "target")
        sentence = f"{n}/{n} runs at least acceptable, no crash; {longest}"
        return decide("production with caveats", 2, "; ".join([sentence, *below]))
    reject(2, [f"{n_ok}/{n} runs at least acceptable", *facts.misses(_failed, "acceptable")])
    # Rule 3
    accuracy_fails = facts.misses(
        lambda c: _failed(c) and c.category in ACCURACY_CATEGORIES, "acceptable"
    )
    if not facts.crashed and accuracy_fails:
        sentence = "; ".join([f"no crash in {n} runs", *accuracy_fails])
        return decide("pre-equilibration only", 3, sentence)
    reject(3, facts.crash_reasons() or ["force error and drift within acceptable on every run"])
    # Rule 4
    r2_values = [r.force_r2 for r in runs if r.force_r2 is not None and math.isfinite(r.force_r2)]
    low_r2 = min(r2_values) if r2_values else None
    broken = [*facts.crash_reasons()]
    if low_r2 is not None and low_r2 < min_force_r2:
        broken.append(f"lowest force R² {low_r2:.3g} < {min_force_r2:g}")
    energy = [e for r in runs if (e := r.energy_rmse_meV_per_atom) is not None and math.isfinite(e)]
    worst_energy = max(energy) if energy else None
    if worst_energy is None:
        energy_reason = "no energy RMSE measured"
    else:
        relation = "<" if worst_energy < screening else "≥"
        energy_reason = (
            f"worst energy RMSE {worst_energy:.3g} meV/atom {relation} {screening:g} meV/atom"
        )
    if broken and worst_energy is not None and worst_energy < screening:
        return decide("energy screening only", 4, "; ".join([*broken, energy_reason]))
    if broken:
        reasons = [*broken, energy_reason]
    else:
        r2_text = (
            "no force R² measured"
            if low_r2 is None
            else f"lowest force R² {low_r2:.3g} ≥ {min_force_r2:g}"
        )
        reasons = [f"no crash and {r2_text}"]
    reject(4, reasons)
    # Rule 5: cite what failed
    failures = [] if broken else facts.misses(_failed, "acceptable")
    return decide("not recommended", 5, "; ".join([*failures, *reasons]))


class _Facts:
    """Counts over the runs that the rules and their evidence share."""

    def __init__(self, runs: Sequence[RunOutcome]) -> None:
        self.runs = runs
        self.n = len(runs)
        self.crashed = [r for r in runs if r.crashed]
        self.longest_stable_ps = max((r.duration_ps for r in runs if not r.crashed), default=0.0)

    def count(self, ok: Callable[[CriterionResult], bool]) -> int:
        """Runs on which every evaluated criterion satisfies ``ok``."""
        return sum(all(ok(c) for c in r.criteria if c.evaluated) for r in self.runs)

    def crash_reasons(self) -> list[str]:
        if not self.crashed:
            return []
        return [f"{len(self.crashed)}/{self.n} runs crashed"]

    def misses(self, bad: Callable[[CriterionResult], bool], threshold: str) -> list[str]:
        """Per criterion: on how many runs ``bad`` holds, the worst value and the threshold."""
        by_name: dict[str, list[CriterionResult]] = {}
        for run in self.runs:
            for c in run.criteria:
                if c.evaluated and bad(c):
                    by_name.setdefault(c.name, []).append(c)
        lines = []
        for name, hits in by_name.items():
            worst = _worst(hits)
            if isinstance(worst.value, bool):
                lines.append(
                    f"{name} misses {threshold} on {len(hits)}/{self.n} runs "
                    f"({worst.metric} = {_fmt(worst.value, None)})"
                )
                continue
            limit = worst.target if threshold == "target" else worst.acceptable
            lines.append(
                f"{name} misses {threshold} on {len(hits)}/{self.n} runs "
                f"(worst {_fmt(worst.value, worst.unit)}, {threshold} "
                f"{_SYMBOL.get(worst.comparison, worst.comparison)} {_fmt(limit, worst.unit)})"
            )
        return lines

    def needs(self) -> list[str]:
        """Per criterion: on how many runs it was inconclusive, and what it needs."""
        by_name: dict[str, list[CriterionResult]] = {}
        for run in self.runs:
            for c in run.criteria:
                if c.level == "inconclusive":
                    by_name.setdefault(c.name, []).append(c)
        return [
            f"{name} inconclusive on {len(hits)}/{self.n} runs: {hits[0].note or 'needs more'}"
            for name, hits in by_name.items()
        ]

    def not_evaluated_notes(self) -> list[str]:
        counts: dict[str, int] = {}
        for run in self.runs:
            for c in run.criteria:
                if not c.evaluated:
                    counts[c.name] = counts.get(c.name, 0) + 1
        return [f"{name} not evaluated on {k}/{self.n} runs" for name, k in counts.items()]


def _failed(c: CriterionResult) -> bool:
    return c.level == "fail"


def _worst(hits: list[CriterionResult]) -> CriterionResult:
    """The hit furthest on the wrong side: largest for upper bounds (lt/le), smallest for
    lower bounds (gt/ge); NaN is worst of all; true/false values keep the first hit."""

    def badness(c: CriterionResult) -> float:
        value = _number(c.value)
        if value is None:
            return -math.inf
        if math.isnan(value):
            return math.inf
        return -value if c.comparison in ("gt", "ge") else value

    return max(hits, key=badness)


def _fmt(value: float | bool | None, unit: str | None) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def _long_run_ps(runs: Sequence[RunOutcome]) -> float:
    targets = [
        _number(c.target) for r in runs for c in r.criteria if c.metric == _STABLE_DURATION_METRIC
    ]
    numbers = [t for t in targets if t is not None]
    return max(numbers) if numbers else DEFAULT_LONG_RUN_PS


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
