"""Each m6 criterion's level boundaries, device rows, missing values, the evidence a
criterion needs before it decides (inconclusive otherwise), judgement relative to a control,
and the verdict."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from mdval.criteria import (
    LEVELS,
    CriterionResult,
    Level,
    device_class,
    evaluate,
    parse_profile,
    verdict,
)
from mdval.errors import InputError


def good_metrics(**changes: Any) -> dict[str, Any]:
    """Metrics at target on every m6 criterion, with ``changes`` applied.

    Includes the evidence m6's criteria need to decide: a 10 ps run was requested, 20
    reference frames with none skipped, a drift resolved from noise.
    """
    metrics: dict[str, Any] = {
        "crashed": False,
        "drift_percent": 0.1,
        "drift_resolved": True,
        "fluctuation_ratio": 0.01,
        "max_deviation_percent": 0.5,
        "force_rmse_eV_per_A": 0.05,
        "n_reference_frames": 20,
        "reference_skipped_fraction": 0.0,
        "inference_ms_per_step": 1.0,
        "stable_duration_ps": 10.0,
        "duration_cap_ps": 10.0,
    }
    metrics.update(changes)
    return metrics


def level_of(
    metric: str, value: Any, device: str = "cuda", control: dict[str, Any] | None = None
) -> str:
    results = evaluate(
        good_metrics(**{metric: value}), "m6", device=device, control_metrics=control
    )
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
    [
        (0.0, "target"),
        (0.0499, "target"),
        (0.05, "acceptable"),
        (0.0999, "acceptable"),
        (0.1, "fail"),
        (0.5, "fail"),
    ],
)
def test_energy_fluctuation_boundaries(value: float, level: str) -> None:
    # Without a control the value itself is judged.
    assert level_of("fluctuation_ratio", value) == level


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.0, "target"),
        (4.99, "target"),
        (5.0, "acceptable"),
        (9.99, "acceptable"),
        (10.0, "fail"),
        (25.0, "fail"),
    ],
)
def test_energy_max_deviation_boundaries(value: float, level: str) -> None:
    assert level_of("max_deviation_percent", value) == level


@pytest.mark.parametrize(
    ("metric", "own", "control", "excess", "level"),
    [
        ("fluctuation_ratio", 0.12, 0.08, 0.04, "target"),  # 0.12 fails alone, not in excess
        ("fluctuation_ratio", 0.16, 0.08, 0.08, "acceptable"),
        ("fluctuation_ratio", 0.2, 0.1, 0.1, "fail"),  # at acceptable: fails (lt)
        ("fluctuation_ratio", 0.25, 0.05, 0.2, "fail"),
        ("fluctuation_ratio", 0.03, 0.08, 0.0, "target"),  # below the control: no excess
        ("max_deviation_percent", 12.0, 8.0, 4.0, "target"),
        ("max_deviation_percent", 12.0, 6.0, 6.0, "acceptable"),
        ("max_deviation_percent", 15.0, 5.0, 10.0, "fail"),
        ("max_deviation_percent", 12.0, 1.0, 11.0, "fail"),
        ("max_deviation_percent", 3.0, 8.0, 0.0, "target"),
    ],
)
def test_m6_energy_criteria_judge_the_excess_over_the_control(
    metric: str, own: float, control: float, excess: float, level: str
) -> None:
    control_metrics = {**good_metrics(), metric: control}
    results = evaluate(
        good_metrics(**{metric: own}), "m6", device="cuda", control_metrics=control_metrics
    )
    (result,) = [r for r in results if r.metric == metric]
    assert result.value == pytest.approx(excess)
    assert result.level == level
    assert result.note is not None
    assert f"excess over the control's {control:.4g} (run: {own:.4g})" in result.note


def test_m6_criteria_without_relative_to_control_ignore_the_control() -> None:
    # A control with a larger drift, force error and inference time changes nothing.
    control_metrics = good_metrics(
        drift_percent=4.0, force_rmse_eV_per_A=0.25, inference_ms_per_step=40.0
    )
    metrics = good_metrics(drift_percent=3.0, force_rmse_eV_per_A=0.25)
    with_control = evaluate(metrics, "m6", device="cuda", control_metrics=control_metrics)
    alone = evaluate(metrics, "m6", device="cuda")
    by_name = {r.name: r for r in with_control}
    assert (by_name["energy_drift"].value, by_name["energy_drift"].level) == (3.0, "acceptable")
    assert (by_name["force_rmse"].value, by_name["force_rmse"].level) == (0.25, "acceptable")
    excess = ("energy_fluctuation", "energy_max_deviation")
    assert [r for r in with_control if r.name not in excess] == [
        r for r in alone if r.name not in excess
    ]


@pytest.mark.parametrize(
    ("name", "metric", "value"),
    [
        ("energy_fluctuation", "fluctuation_ratio", 0.2),
        ("energy_max_deviation", "max_deviation_percent", 20.0),
    ],
)
def test_m6_energy_criterion_with_a_control_lacking_the_metric_judges_the_value(
    name: str, metric: str, value: float
) -> None:
    control_metrics = {k: v for k, v in good_metrics().items() if k != metric}
    result = result_of(name, good_metrics(**{metric: value}), control=control_metrics)
    assert (result.value, result.level) == (value, "fail")
    assert result.note == "no control value: judged as it is"


@pytest.mark.parametrize("metric", ["fluctuation_ratio", "max_deviation_percent"])
def test_missing_energy_fluctuation_metrics_are_not_evaluated(metric: str) -> None:
    results = evaluate(good_metrics(**{metric: None}), "m6", device="cuda")
    (result,) = [r for r in results if r.metric == metric]
    assert result.level == "not_evaluated"
    assert verdict(results) == "pass"


def test_an_energy_excess_beyond_acceptable_fails_the_run() -> None:
    control_metrics = good_metrics(fluctuation_ratio=0.02, max_deviation_percent=1.0)
    passing = evaluate(
        good_metrics(fluctuation_ratio=0.1, max_deviation_percent=10.0),
        "m6",
        device="cuda",
        control_metrics=control_metrics,
    )
    assert verdict(passing) == "pass"  # excesses 0.08 and 9 %: acceptable
    failing = evaluate(
        good_metrics(fluctuation_ratio=0.13, max_deviation_percent=10.0),
        "m6",
        device="cuda",
        control_metrics=control_metrics,
    )
    assert verdict(failing) == "fail"  # excess 0.11 ≥ 0.1


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
    assert [r.level for r in results] == ["target"] * 7
    assert verdict(results) == "pass"


def test_results_follow_profile_order() -> None:
    names = [r.name for r in evaluate(good_metrics(), "m6", device="cpu")]
    assert names == [
        "no_crash",
        "energy_drift",
        "energy_fluctuation",
        "energy_max_deviation",
        "force_rmse",
        "inference_time",
        "stable_duration",
    ]


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
    result = result_of("force_rmse", good_metrics(force_rmse_eV_per_A=None))
    assert result.level == "not_evaluated"
    assert not result.passed and not result.evaluated
    assert verdict([result]) == "pass"


def result_of(
    name: str,
    metrics: dict[str, Any],
    device: str = "cuda",
    control: dict[str, Any] | None = None,
) -> CriterionResult:
    results = evaluate(metrics, "m6", device=device, control_metrics=control)
    return next(r for r in results if r.name == name)


def test_inconclusive_is_a_level() -> None:
    assert "inconclusive" in LEVELS


def test_verdict_fail_outranks_inconclusive_outranks_pass() -> None:
    def r(level: Level) -> CriterionResult:
        return CriterionResult(
            name=level,
            metric="m",
            value=1.0,
            target=1.0,
            acceptable=2.0,
            level=level,
            unit=None,
            comparison="lt",
        )

    assert verdict([r("target"), r("acceptable"), r("not_evaluated")]) == "pass"
    assert verdict([r("target"), r("inconclusive")]) == "inconclusive"
    assert verdict([r("inconclusive"), r("fail"), r("target")]) == "fail"
    inconclusive = r("inconclusive")
    assert inconclusive.evaluated and not inconclusive.passed


# --- stable_duration is capped by the requested duration --------------------------------


def test_a_clean_1_ps_run_cannot_show_5_ps_so_it_is_inconclusive() -> None:
    metrics = good_metrics(stable_duration_ps=1.0, duration_cap_ps=1.0)
    result = result_of("stable_duration", metrics)
    assert result.level == "inconclusive"
    assert result.value == 1.0
    assert result.note is not None and "≥ 5 ps" in result.note
    assert "duration_cap_ps = 1" in result.note
    assert verdict(evaluate(metrics, "m6", device="cuda")) == "inconclusive"


def test_a_crash_at_1_ps_of_a_requested_5_ps_fails() -> None:
    metrics = good_metrics(crashed=True, stable_duration_ps=1.0, duration_cap_ps=5.0)
    assert result_of("stable_duration", metrics).level == "fail"
    assert verdict(evaluate(metrics, "m6", device="cuda")) == "fail"


@pytest.mark.parametrize(
    ("stable_ps", "cap_ps", "level"),
    [
        (5.0, 5.0, "acceptable"),  # a clean 5 ps run shows what it must
        (7.0, 7.0, "acceptable"),
        (10.0, 10.0, "target"),
        (4.99, 4.99, "inconclusive"),
        (2.0, 4.0, "inconclusive"),  # cancelled at 4 ps: the cap is what it reached
        (2.0, 10.0, "fail"),
        (4.99, 5.0, "fail"),
    ],
)
def test_duration_cap_decides_whether_a_short_duration_fails(
    stable_ps: float, cap_ps: float, level: str
) -> None:
    metrics = good_metrics(stable_duration_ps=stable_ps, duration_cap_ps=cap_ps)
    assert result_of("stable_duration", metrics).level == level


def test_without_a_duration_cap_a_short_duration_fails() -> None:
    metrics = good_metrics(stable_duration_ps=1.0, duration_cap_ps=None)
    assert result_of("stable_duration", metrics).level == "fail"


def test_a_crash_is_a_fail_whatever_else_is_inconclusive() -> None:
    metrics = good_metrics(
        crashed=True, stable_duration_ps=0.5, duration_cap_ps=1.0, n_reference_frames=1
    )
    results = evaluate(metrics, "m6", device="cuda")
    levels = {r.name: r.level for r in results}
    assert levels["no_crash"] == "fail"
    assert levels["stable_duration"] == "inconclusive"
    assert levels["force_rmse"] == "inconclusive"
    assert verdict(results) == "fail"


# --- force_rmse needs enough reference frames ---------------------------------------------


@pytest.mark.parametrize("rmse", [0.001, 0.25, 2.0])
def test_too_few_reference_frames_make_force_rmse_inconclusive(rmse: float) -> None:
    result = result_of("force_rmse", good_metrics(force_rmse_eV_per_A=rmse, n_reference_frames=4))
    assert result.level == "inconclusive"
    assert result.value == rmse
    assert result.note is not None
    assert "at least 5 reference frames" in result.note and "n_reference_frames = 4" in result.note


def test_five_reference_frames_suffice() -> None:
    metrics = good_metrics(force_rmse_eV_per_A=0.001, n_reference_frames=5)
    assert result_of("force_rmse", metrics).level == "target"


def test_missing_reference_frame_count_is_inconclusive() -> None:
    metrics = good_metrics(n_reference_frames=None)
    result = result_of("force_rmse", metrics)
    assert result.level == "inconclusive"
    assert result.note is not None and "n_reference_frames = none" in result.note


@pytest.mark.parametrize(
    ("fraction", "level"), [(0.0, "target"), (0.2, "target"), (0.25, "inconclusive")]
)
def test_many_skipped_reference_frames_make_force_rmse_inconclusive(
    fraction: float, level: str
) -> None:
    result = result_of("force_rmse", good_metrics(reference_skipped_fraction=fraction))
    assert result.level == level
    if level == "inconclusive":
        assert result.note is not None and "reference_skipped_fraction = 0.25" in result.note


def test_both_missing_force_evidences_are_named() -> None:
    metrics = good_metrics(n_reference_frames=2, reference_skipped_fraction=0.5)
    note = result_of("force_rmse", metrics).note or ""
    assert "n_reference_frames = 2" in note and "reference_skipped_fraction = 0.5" in note


# --- energy_drift needs a resolved drift when it misses -----------------------------------


def test_unresolved_drift_over_5_percent_is_inconclusive() -> None:
    result = result_of("energy_drift", good_metrics(drift_percent=7.0, drift_resolved=False))
    assert result.level == "inconclusive"
    assert result.note is not None and "drift_resolved = false" in result.note


def test_resolved_drift_over_5_percent_fails() -> None:
    result = result_of("energy_drift", good_metrics(drift_percent=7.0, drift_resolved=True))
    assert result.level == "fail"
    assert result.note is None


def test_drift_with_unknown_resolution_that_misses_is_inconclusive() -> None:
    result = result_of("energy_drift", good_metrics(drift_percent=7.0, drift_resolved=None))
    assert result.level == "inconclusive"
    assert result.note is not None and "drift_resolved = none" in result.note


@pytest.mark.parametrize(("drift", "level"), [(0.5, "target"), (3.0, "acceptable")])
def test_unresolved_drift_within_acceptable_still_decides(drift: float, level: str) -> None:
    # drift_resolved is needed only "when: miss": a small unresolved drift is small.
    result = result_of("energy_drift", good_metrics(drift_percent=drift, drift_resolved=False))
    assert result.level == level


# --- relative_to_control: excess ----------------------------------------------------------

_RELATIVE = {
    "name": "relative",
    "criteria": [
        {
            "name": "drift",
            "metric": "drift_percent",
            "comparison": "lt",
            "target": 1.0,
            "acceptable": 5.0,
            "unit": "%",
            "category": "energy",
            "relative_to_control": "excess",
        },
        {
            "name": "force",
            "metric": "force_rmse_eV_per_A",
            "comparison": "lt",
            "target": 0.2,
            "acceptable": 0.3,
            "category": "force",
        },
    ],
}


@pytest.mark.parametrize(
    ("own", "control", "excess", "level"),
    [
        (7.0, 4.0, 3.0, "acceptable"),  # 7 % beside the control's 4 %: 3 % the model's own
        (7.0, 1.5, 5.5, "fail"),
        (7.0, -6.5, 0.5, "target"),  # magnitudes: |7| − |−6.5|
        (-7.0, 6.5, 0.5, "target"),
        (2.0, 4.0, 0.0, "target"),  # below the control: no excess, never negative
    ],
)
def test_relative_to_control_judges_the_excess(
    own: float, control: float, excess: float, level: str
) -> None:
    profile = parse_profile(_RELATIVE)
    metrics = {"drift_percent": own, "force_rmse_eV_per_A": 0.25}
    control_metrics = {"drift_percent": control, "force_rmse_eV_per_A": 0.01}
    drift, force = evaluate(metrics, profile, device="cpu", control_metrics=control_metrics)
    assert drift.value == pytest.approx(excess)
    assert drift.level == level
    assert drift.note is not None
    assert f"excess over the control's {abs(control):.4g}" in drift.note
    assert f"(run: {abs(own):.4g})" in drift.note
    # A criterion without relative_to_control ignores the control.
    assert (force.value, force.level, force.note) == (0.25, "acceptable", None)


def test_relative_to_control_without_a_control_judges_the_value() -> None:
    profile = parse_profile(_RELATIVE)
    (drift, _) = evaluate({"drift_percent": 7.0}, profile, device="cpu")
    assert (drift.value, drift.level, drift.note) == (7.0, "fail", None)


@pytest.mark.parametrize("control_value", [None, float("nan"), True])
def test_relative_to_control_without_a_usable_control_value(control_value: Any) -> None:
    profile = parse_profile(_RELATIVE)
    (drift, _) = evaluate(
        {"drift_percent": 7.0},
        profile,
        device="cpu",
        control_metrics={"drift_percent": control_value},
    )
    assert (drift.value, drift.level) == (7.0, "fail")
    assert drift.note == "no control value: judged as it is"


def test_inconclusive_results_round_trip() -> None:
    results = evaluate(good_metrics(n_reference_frames=1), "m6", device="cuda")
    back = [CriterionResult.from_dict(json.loads(json.dumps(r.to_dict()))) for r in results]
    assert back == results
    assert next(r for r in back if r.name == "force_rmse").level == "inconclusive"
