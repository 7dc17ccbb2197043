"""Acceptance criteria: profiles (data), per-run evaluation and verdict, per-model recommendation.

>>> results = evaluate(summary["metrics"], "m6", device="cuda")
>>> verdict(results)                      # "pass" | "fail"
>>> recommend([RunOutcome.from_summary(s) for s in summaries]).level
"""

from __future__ import annotations

from mdval.criteria.evaluation import (
    LEVELS,
    CriterionResult,
    Level,
    Verdict,
    device_class,
    evaluate,
    verdict,
)
from mdval.criteria.profile import (
    Criterion,
    Profile,
    Thresholds,
    list_profiles,
    load_profile,
    parse_profile,
)
from mdval.criteria.recommendation import (
    RECOMMENDATION_LEVELS,
    Recommendation,
    RecommendationLevel,
    RunOutcome,
    recommend,
)

__all__ = [
    "LEVELS",
    "RECOMMENDATION_LEVELS",
    "Criterion",
    "CriterionResult",
    "Level",
    "Profile",
    "Recommendation",
    "RecommendationLevel",
    "RunOutcome",
    "Thresholds",
    "Verdict",
    "device_class",
    "evaluate",
    "list_profiles",
    "load_profile",
    "parse_profile",
    "recommend",
    "verdict",
]
