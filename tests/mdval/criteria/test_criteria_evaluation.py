"""Each m6 criterion's level boundaries, device rows, missing values and the verdict."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from mdval.criteria import CriterionResult, device_class, evaluate, verdict
from mdval.errors import InputError


def good_metrics(**changes: Any) -> dict[str, Any]:
    """Metrics at target on every m6 criterion, with ``changes`` applied."""
    metrics: dict[str, Any] = {
        "crashed": False,
        "drift_percent": 0.1,
        "force_rmse_eV_per_A": 0.05,
        "inference_ms_per_step": 1.0,
        "stable_duration_ps": 10.0,
    }
    metrics.update(changes)
    return metrics


def level_of(metric: str, value: Any, device: str = "cuda") -> str:
    results = evaluate(good_metrics(**{metric: value}), "m6", device=device)
    (result,) = [r for r in results if r.metric == metric]
    return result.level


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.0, "target"),
        (0.999, "target"),
        (1.0, "acceptable"),
        (4.999, "acceptable"),
        (5.0, "fail"),
        (5.001, "fail"),
        (-0.5, "target"),
        (-7.0, "fail"),
    ],
)
def test_drift_boundaries(value: float, level: str) -> None:
    # drift is compared by magnitude (the profile sets absolute: true)
    assert level_of("drift_percent", value) == level


@pytest.mark.parametrize(
    ("value", "level"),
    [(0.199, "target"), (0.2, "acceptable"), (0.299, "acceptable"), (0.3, "fail"), (0.301, "fail")],
)
def test_force_rmse_boundaries(value: float, level: str) -> None:
    assert level_of("force_rmse_eV_per_A", value) == level


@pytest.mark.parametrize(
    ("value", "level"),
    [(9.99, "target"), (10.0, "acceptable"), (49.99, "acceptable"), (50.0, "fail")],
)
def test_gpu_inference_boundaries(value: float, level: str) -> None:
    assert level_of("inference_ms_per_step", value, device="cuda") == level


@pytest.mark.parametrize(
    ("value", "level"),
    [(20.0, "target"), (99.99, "target"), (100.0, "fail"), (100.01, "fail")],
)
def test_cpu_inference_boundaries(value: float, level: str) -> None:
    assert level_of("inference_ms_per_step", value, device="cpu") == level


def test_same_speed_differs_between_cpu_and_gpu() -> None:
    assert level_of("inference_ms_per_step", 60.0, device="cpu") == "target"
    assert level_of("inference_ms_per_step", 60.0, device="cuda") == "fail"
    results = evaluate(good_metrics(inference_ms_per_step=20.0), "m6", device="cpu")
    speed = next(r for r in results if r.metric == "inference_ms_per_step")
    assert (speed.target, speed.acceptable, speed.device) == (100.0, 100.0, "cpu")


@pytest.mark.parametrize(
    ("device", "expected"),
    [("cpu", "cpu"), ("CPU", "cpu"), ("cuda", "gpu"), ("cuda:1", "gpu"), ("gpu", "gpu")],
)
def test_device_names(device: str, expected: str) -> None:
    assert device_class(device) == expected


@pytest.mark.parametrize("device", ["auto", "mps", ""])
def test_unresolved_device_is_an_input_error(device: str) -> None:
    with pytest.raises(InputError, match="device"):
        evaluate(good_metrics(), "m6", device=device)


@pytest.mark.parametrize(
    ("stable_ps", "level"),
    [
        (50.0, "target"),
        (10.0, "target"),
        (9.99, "acceptable"),
        (5.0, "acceptable"),
        (4.99, "fail"),
        (1.0, "fail"),
        (0.0, "fail"),
    ],
)
def test_stable_duration_compares_the_time_reached(stable_ps: float, level: str) -> None:
    assert level_of("stable_duration_ps", stable_ps) == level


def test_stable_duration_tolerates_round_off() -> None:
    reached = sum([0.0005] * 10_000)  # 10 000 steps of 0.5 fs, accumulated
    assert reached != 5.0
    assert level_of("stable_duration_ps", reached) == "acceptable"


def test_all_at_target_passes() -> None:
    results = evaluate(good_metrics(), "m6", device="cuda")
    assert [r.level for r in results] == ["target"] * 5
    assert verdict(results) == "pass"


def test_results_follow_profile_order() -> None:
    names = [r.name for r in evaluate(good_metrics(), "m6", device="cpu")]
    assert names == ["no_crash", "energy_drift", "force_rmse", "inference_time", "stable_duration"]


def test_crash_fails_the_run() -> None:
    results = evaluate(good_metrics(crashed=True), "m6", device="cuda")
    crash = next(r for r in results if r.name == "no_crash")
    assert crash.level == "fail"
    assert verdict(results) == "fail"


@pytest.mark.parametrize(("raw", "level"), [(0, "target"), (1, "fail"), (np.bool_(True), "fail")])
def test_crashed_flag_accepts_0_1_and_numpy_bools(raw: Any, level: str) -> None:
    assert level_of("crashed", raw) == level


def test_acceptable_level_still_passes() -> None:
    results = evaluate(good_metrics(drift_percent=3.0), "m6", device="cuda")
    assert verdict(results) == "pass"


def test_one_failed_criterion_fails_the_run() -> None:
    results = evaluate(good_metrics(force_rmse_eV_per_A=0.5), "m6", device="cuda")
    assert verdict(results) == "fail"


@pytest.mark.parametrize(
    "metrics",
    [
        good_metrics(force_rmse_eV_per_A=None),
        {k: v for k, v in good_metrics().items() if k != "force_rmse_eV_per_A"},
    ],
)
def test_missing_force_rmse_is_not_evaluated_and_still_passes(metrics: dict[str, Any]) -> None:
    results = evaluate(metrics, "m6", device="cuda")
    force = next(r for r in results if r.metric == "force_rmse_eV_per_A")
    assert force.level == "not_evaluated"
    assert force.value is None and force.note
    assert force.to_dict()["level"] == "not_evaluated"
    assert verdict(results) == "pass"


@pytest.mark.parametrize("metric", ["crashed", "stable_duration_ps"])
def test_required_metric_missing_is_an_input_error(metric: str) -> None:
    metrics = good_metrics(**{metric: None})
    with pytest.raises(InputError, match=metric):
        evaluate(metrics, "m6", device="cuda")


def test_non_finite_value_fails_and_serialises_as_null() -> None:
    results = evaluate(good_metrics(drift_percent=math.nan), "m6", device="cuda")
    drift = next(r for r in results if r.metric == "drift_percent")
    assert drift.level == "fail"
    assert "nan" in (drift.note or "")
    assert drift.to_dict()["value"] is None
    assert verdict(results) == "fail"


def test_wrong_type_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"drift_percent.*a number"):
        evaluate(good_metrics(drift_percent="small"), "m6", device="cuda")
    with pytest.raises(InputError, match=r"crashed.*true/false"):
        evaluate(good_metrics(crashed=0.5), "m6", device="cuda")


def test_numpy_values_become_python_numbers() -> None:
    results = evaluate(good_metrics(drift_percent=np.float32(0.5)), "m6", device="cuda")
    drift = next(r for r in results if r.metric == "drift_percent")
    assert type(drift.value) is float


def test_results_are_json_and_round_trip() -> None:
    results = evaluate(good_metrics(force_rmse_eV_per_A=None), "m6", device="cuda")
    dicts = [r.to_dict() for r in results]
    text = json.dumps(dicts, allow_nan=False)
    assert {
        "name",
        "metric",
        "value",
        "target",
        "acceptable",
        "level",
        "unit",
        "comparison",
    } <= set(dicts[0])
    back = [CriterionResult.from_dict(d) for d in json.loads(text)]
    assert back == results


def test_from_dict_rejects_an_unknown_level() -> None:
    data = evaluate(good_metrics(), "m6", device="cuda")[0].to_dict()
    data["level"] = "great"
    with pytest.raises(InputError, match="level"):
        CriterionResult.from_dict(data)


def test_not_evaluated_neither_passes_nor_fails() -> None:
    result = evaluate(good_metrics(force_rmse_eV_per_A=None), "m6", device="cuda")[2]
    assert result.level == "not_evaluated"
    assert not result.passed and not result.evaluated
    assert verdict([result]) == "pass"
