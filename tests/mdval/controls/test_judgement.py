"""Judging a run against its control: control validity, protocol invalid, a missing control."""

from __future__ import annotations

from typing import Any

import pytest

from mdval.controls import ControlEvidence
from mdval.controls.judgement import (
    CONTROL_METRICS,
    PROTOCOL_INVALID,
    control_validity,
    judge,
)
from mdval.criteria import CriterionResult, evaluate, load_profile

M6 = load_profile("m6")


def metrics(**changes: Any) -> dict[str, Any]:
    """A run's metrics at target on every m6 criterion, with the evidence they need."""
    out: dict[str, Any] = {
        "crashed": False,
        "stable_duration_ps": 10.0,
        "duration_cap_ps": 10.0,
        "drift_percent": 0.3,
        "drift_resolved": True,
        "max_deviation_percent": 0.5,
        "fluctuation_ratio": 0.01,
        "temperature_mean_K": 301.0,
        "inference_ms_per_step": 5.0,
    }
    out.update(changes)
    return out


def summary(status: str = "completed", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": status,
        "metrics": metrics(crashed=status == "crashed", **changes),
    }
    if status == "crashed":
        data["failure_reason"] = "explosion: E_tot departed 12 eV from its NVE start"
        data["time_to_failure_ps"] = data["metrics"]["stable_duration_ps"]
    return data


def control(status: str = "completed", **changes: Any) -> ControlEvidence:
    return ControlEvidence(
        summary=summary(status, **changes), key="k" * 64, location="/cache/controls/kkk"
    )


def own_criteria(
    control_metrics: dict[str, Any] | None = None, **changes: Any
) -> list[CriterionResult]:
    """The run's criteria, judged relative to ``control_metrics`` where the profile says."""
    run = metrics(force_rmse_eV_per_A=0.05, n_reference_frames=20, reference_skipped_fraction=0.0)
    run.update(changes)
    return evaluate(run, M6, device="cuda", control_metrics=control_metrics)


def _judge(
    criteria: list[CriterionResult],
    ctl: ControlEvidence | None,
    *,
    expected: bool = True,
    own_summary: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    return judge(
        criteria,
        control=ctl,
        control_expected=expected,
        profile=M6,
        device="cuda",
        own_summary=own_summary,
    )


# --- control_validity ------------------------------------------------------------------------


def test_a_sound_control_is_valid() -> None:
    valid, evidence = control_validity(summary(), M6, device="cuda")
    assert valid
    assert evidence == [
        "the control passes no_crash, energy_drift, energy_fluctuation, energy_max_deviation, "
        "stable_duration"
    ]


def test_a_control_whose_resolved_drift_fails_is_invalid() -> None:
    valid, evidence = control_validity(
        summary(drift_percent=12.0, drift_resolved=True), M6, device="cuda"
    )
    assert not valid
    assert len(evidence) == 1
    assert evidence[0].startswith("control fails energy_drift: drift_percent = 12 %")


def test_a_control_that_crashed_is_invalid() -> None:
    valid, evidence = control_validity(
        summary("crashed", stable_duration_ps=1.2), M6, device="cuda"
    )
    assert not valid
    assert evidence[0] == (
        "the control crashed: explosion: E_tot departed 12 eV from its NVE start"
    )
    assert any(line.startswith("control fails no_crash") for line in evidence)
    assert any(line.startswith("control fails stable_duration") for line in evidence)


@pytest.mark.parametrize("status", ["failed", "cancelled", None])
def test_a_control_that_did_not_finish_is_invalid(status: str | None) -> None:
    valid, evidence = control_validity({"status": status, "metrics": metrics()}, M6, device="cpu")
    assert not valid
    assert evidence == [f"the control run ended {status!r}, not completed"]


def test_a_slow_control_stays_valid() -> None:
    # Speed is not a protocol category: a slow teacher does not invalidate a timestep.
    slow = summary(inference_ms_per_step=5_000.0)
    speed = next(c for c in evaluate(slow["metrics"], M6, device="cuda") if c.category == "speed")
    assert speed.level == "fail"
    valid, evidence = control_validity(slow, M6, device="cuda")
    assert valid
    assert "inference_time" not in evidence[0]


def test_a_control_without_force_metrics_is_judged_on_the_protocol() -> None:
    # The control has no reference: its force RMSE is not evaluated, and that is fine.
    valid, _ = control_validity(summary(force_rmse_eV_per_A=None), M6, device="cuda")
    assert valid


# --- judge ------------------------------------------------------------------------------------


def test_an_invalid_control_makes_the_run_protocol_invalid_with_its_evidence() -> None:
    ctl = control(drift_percent=12.0, drift_resolved=True)
    # Whatever the run's own verdict (here a pass), its control decides.
    run_verdict, block = _judge(own_criteria(), ctl)
    assert run_verdict == PROTOCOL_INVALID == "protocol invalid"
    assert block["valid"] is False and block["expected"] is True
    assert block["evidence"][0].startswith("control fails energy_drift")
    assert block["key"] == "k" * 64 and block["location"] == "/cache/controls/kkk"
    assert block["status"] == "completed"
    assert set(block["metrics"]) == set(CONTROL_METRICS)
    assert block["metrics"]["drift_percent"] == 12.0
    # A failing run against an invalid control is not counted against the model either.
    run_verdict, _ = _judge(own_criteria(force_rmse_eV_per_A=0.9), ctl)
    assert run_verdict == PROTOCOL_INVALID


def test_a_crashed_control_makes_the_run_protocol_invalid() -> None:
    ctl = control("crashed", stable_duration_ps=0.8)
    run_verdict, block = _judge(own_criteria(crashed=True, stable_duration_ps=0.5), ctl)
    assert run_verdict == PROTOCOL_INVALID
    assert block["valid"] is False
    assert block["evidence"][0].startswith("the control crashed: explosion")
    assert block["time_to_failure_ps"] == 0.8
    assert block["metrics"]["crashed"] is True


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "pass"),
        ({"force_rmse_eV_per_A": 0.9}, "fail"),
        ({"crashed": True, "stable_duration_ps": 2.0}, "fail"),
        ({"stable_duration_ps": 1.0, "duration_cap_ps": 1.0}, "inconclusive"),
        ({"n_reference_frames": 2}, "inconclusive"),
    ],
)
def test_a_valid_control_leaves_the_runs_own_verdict(
    changes: dict[str, Any], expected: str
) -> None:
    run_verdict, block = _judge(own_criteria(**changes), control())
    assert run_verdict == expected
    assert block["valid"] is True and block["expected"] is True
    assert block["evidence"][0].startswith("the control passes")


def test_a_slow_control_leaves_the_runs_own_verdict() -> None:
    run_verdict, block = _judge(own_criteria(), control(inference_ms_per_step=5_000.0))
    assert (run_verdict, block["valid"]) == ("pass", True)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "inconclusive"),  # a pass without its control decides nothing
        ({"drift_percent": 9.0}, "inconclusive"),  # drift may be the protocol's
        ({"inference_ms_per_step": 500.0}, "inconclusive"),
        ({"crashed": True, "stable_duration_ps": 2.0}, "fail"),  # a crash needs no control
        ({"force_rmse_eV_per_A": 0.9}, "fail"),  # nor does a force error
    ],
)
def test_an_expected_but_missing_control(changes: dict[str, Any], expected: str) -> None:
    run_verdict, block = _judge(own_criteria(**changes), None)
    assert run_verdict == expected
    assert block["expected"] is True and block["valid"] is None
    assert block["evidence"] and "no control run" in block["evidence"][0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({}, "pass"), ({"drift_percent": 9.0}, "fail"), ({"n_reference_frames": 1}, "inconclusive")],
)
def test_no_control_expected_is_the_runs_own_verdict(
    changes: dict[str, Any], expected: str
) -> None:
    run_verdict, block = _judge(own_criteria(**changes), None, expected=False)
    assert run_verdict == expected
    assert block == {"expected": False}


def test_a_self_controlled_run_is_judged_on_its_own_summary() -> None:
    # The reference judged against itself: its own summary stands in for the control's.
    ctl = ControlEvidence(summary={}, key="s" * 64, is_self=True)
    good = summary()
    run_verdict, block = _judge(own_criteria(), ctl, own_summary=good)
    assert (run_verdict, block["valid"], block["is_self"]) == ("pass", True, True)
    bad = summary(drift_percent=12.0, drift_resolved=True)
    run_verdict, block = _judge(own_criteria(), ctl, own_summary=bad)
    assert (run_verdict, block["valid"]) == (PROTOCOL_INVALID, False)


def test_a_control_with_an_unresolved_large_drift_is_undecided() -> None:
    """A control whose drift misses but is not resolved shows neither a sound nor an
    unsound protocol: the run is inconclusive, unless a crash or a force failure decides."""
    ctl = control(drift_percent=40.0, drift_resolved=False)
    valid, lines = control_validity(ctl.summary, M6, device="cuda")
    assert valid is None
    assert any("energy_drift" in line for line in lines)
    args: dict[str, Any] = {"control": ctl, "control_expected": True, "profile": M6}
    verdict, block = judge(own_criteria(), device="cuda", **args)
    assert verdict == "inconclusive" and block["valid"] is None
    verdict, _ = judge(own_criteria(force_rmse_eV_per_A=0.5), device="cuda", **args)
    assert verdict == "fail"


# --- the excess criteria (energy_fluctuation, energy_max_deviation) --------------------------


def test_a_control_whose_energy_excursions_fail_is_invalid() -> None:
    # Judged on its own, the control's fluctuation and excursion are the protocol's.
    valid, evidence = control_validity(
        summary(fluctuation_ratio=0.3, max_deviation_percent=15.0), M6, device="cuda"
    )
    assert not valid
    assert [line.split(":")[0] for line in evidence] == [
        "control fails energy_fluctuation",
        "control fails energy_max_deviation",
    ]
    assert evidence[1].startswith(
        "control fails energy_max_deviation: max_deviation_percent = 15 %"
    )


def test_the_control_block_carries_the_metrics_the_excess_is_taken_over() -> None:
    ctl = control(fluctuation_ratio=0.07, max_deviation_percent=6.0)
    _, block = _judge(own_criteria(), ctl)
    assert block["valid"] is True
    assert block["metrics"]["fluctuation_ratio"] == 0.07
    assert block["metrics"]["max_deviation_percent"] == 6.0


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ({"fluctuation_ratio": 0.12, "max_deviation_percent": 12.0}, "pass"),  # excess 0.05, 6 %
        ({"fluctuation_ratio": 0.18, "max_deviation_percent": 1.0}, "fail"),  # excess 0.11
        ({"fluctuation_ratio": 0.01, "max_deviation_percent": 16.5}, "fail"),  # excess 10.5 %
    ],
)
def test_a_run_is_judged_on_its_energy_excess_over_a_valid_control(
    own: dict[str, Any], expected: str
) -> None:
    ctl = control(fluctuation_ratio=0.07, max_deviation_percent=6.0)
    # judge() takes the criteria already judged relative to the control
    run_verdict, block = _judge(own_criteria(ctl.summary["metrics"], **own), ctl)
    assert (run_verdict, block["valid"]) == (expected, True)
    # The same values judged as they are would fail on their own.
    assert any(c.level == "fail" for c in own_criteria(**own))


def test_an_energy_excess_without_its_control_is_inconclusive() -> None:
    # A large fluctuation may be the protocol's: without a control it decides nothing.
    run_verdict, _ = _judge(own_criteria(fluctuation_ratio=0.5, max_deviation_percent=30.0), None)
    assert run_verdict == "inconclusive"
