"""Speed is judged per replica (issue 14, item 3): a run batched with others meets the same
threshold as alone — its batch's evaluation time over the batch size."""

from __future__ import annotations

from typing import Any

import pytest

from mdval.criteria import evaluate, parse_profile, verdict
from tests.mdval.criteria.test_criteria_evaluation import good_metrics


def _speed(metrics: dict[str, Any], device: str) -> Any:
    return next(r for r in evaluate(metrics, "m6", device=device) if r.name == "inference_time")


def test_a_batch_step_is_judged_per_replica() -> None:
    # alone at 60 ms per evaluation on a GPU: fail (acceptable < 50)
    alone = _speed(good_metrics(inference_ms_per_step=60.0), "cuda")
    assert (alone.level, alone.value) == ("fail", 60.0)
    # one replica of 8 whose batch step took 60 ms: 7.5 ms each, at target (< 10)
    batched = _speed(good_metrics(inference_ms_per_step=60.0, batch_size=8), "cuda")
    assert batched.level == "target" and batched.value == pytest.approx(7.5)
    assert batched.note is not None and "per replica" in batched.note
    results = evaluate(good_metrics(inference_ms_per_step=60.0, batch_size=8), "m6", device="gpu")
    assert verdict(results) == "pass"
    # a batch of one is the run alone
    one = _speed(good_metrics(inference_ms_per_step=60.0, batch_size=1), "cuda")
    assert (one.level, one.value, one.note) == ("fail", 60.0, None)


def test_per_only_names_the_batch_size() -> None:
    with pytest.raises(ValueError, match="per"):
        parse_profile(
            {
                "name": "p",
                "criteria": [
                    {
                        **{"name": "x", "metric": "inference_ms_per_step", "comparison": "lt"},
                        **{"target": 1.0, "acceptable": 2.0, "per": "n_atoms"},
                    }
                ],
            },
            source="test",
        )
