"""The five recommendation rules, each triggered by a constructed set of runs, in order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mdval.criteria import RunOutcome, evaluate, recommend
from mdval.errors import InputError


def run(
    *,
    drift: float | None = 0.2,
    force: float | None = 0.1,
    inference: float = 5.0,
    duration: float = 10.0,
    crashed: bool = False,
    r2: float | None = 0.99,
    energy: float | None = 1.0,
    device: str = "cuda",
) -> RunOutcome:
    """One run evaluated on m6 (defaults: every criterion at target, 10 ps stable)."""
    metrics: dict[str, Any] = {
        "crashed": crashed,
        "drift_percent": drift,
        "force_rmse_eV_per_A": force,
        "inference_ms_per_step": inference,
        "stable_duration_ps": duration,
    }
    return RunOutcome(
        crashed=crashed,
        criteria=evaluate(metrics, "m6", device=device),
        duration_ps=duration,
        force_r2=r2,
        energy_rmse_meV_per_atom=energy,
    )


def test_rule_1_production_cites_counts_and_longest_run() -> None:
    runs = [run(), run(), run(duration=50.0)]
    rec = recommend(runs)
    assert (rec.level, rec.rule) == ("production", 1)
    assert "3/3 runs at target" in rec.evidence[0]
    assert "longest stable run 50.0 ps" in rec.evidence[0]


def test_a_set_meeting_rules_1_and_2_gets_rule_1() -> None:
    runs = [run(), run(duration=50.0)]
    # every criterion is at least acceptable too, so rule 2 also holds ...
    assert all(c.passed for r in runs for c in r.criteria)
    # ... but rule 1 comes first
    assert recommend(runs).rule == 1


def test_rule_1_needs_the_long_run() -> None:
    runs = [run(duration=10.0), run(duration=10.0)]
    rec = recommend(runs, long_run_ps=20.0)
    assert (rec.level, rec.rule) == ("production with caveats", 2)
    assert any("below the long run of 20 ps" in line for line in rec.evidence)


def test_long_run_defaults_to_the_stable_duration_target() -> None:
    # 5 ps runs are "acceptable" on stable duration (target 10 ps): never production.
    rec = recommend([run(duration=5.0)] * 3)
    assert rec.rule == 2
    assert any("below the long run of 10 ps" in line for line in rec.evidence)


def test_rule_2_production_with_caveats() -> None:
    rec = recommend([run(), run(drift=2.5), run(duration=50.0)])
    assert (rec.level, rec.rule) == ("production with caveats", 2)
    assert "3/3 runs at least acceptable" in rec.evidence[0]
    assert "energy_drift misses target on 1/3 runs (worst 2.5 %" in rec.evidence[0]
    assert rec.evidence[1].startswith("rule 1 (production) not met: 2/3 runs at target")


def test_rule_3_pre_equilibration_when_drift_beyond_acceptable() -> None:
    rec = recommend([run(), run(drift=7.3), run(drift=6.0)])
    assert (rec.level, rec.rule) == ("pre-equilibration only", 3)
    assert "no crash in 3 runs" in rec.evidence[0]
    assert (
        "energy_drift misses acceptable on 2/3 runs (worst 7.3 %, acceptable < 5 %)"
        in (rec.evidence[0])
    )


def test_rule_3_pre_equilibration_when_force_error_beyond_acceptable() -> None:
    rec = recommend([run(force=1.9472, r2=0.38)])
    assert rec.rule == 3
    assert "force_rmse" in rec.evidence[0] and "1.947" in rec.evidence[0]


def test_rule_3_comes_before_rule_4() -> None:
    # no crash, drift beyond acceptable, R² < 0.5 and a small energy error: rule 3 wins.
    rec = recommend([run(drift=8.0, r2=0.2, energy=1.0)])
    assert rec.rule == 3


def test_rule_4_energy_screening_after_crashes() -> None:
    runs = [run(crashed=True, duration=0.4, energy=4.0), run(energy=3.0)]
    rec = recommend(runs)
    assert (rec.level, rec.rule) == ("energy screening only", 4)
    assert "1/2 runs crashed" in rec.evidence[0]
    assert "worst energy RMSE 4 meV/atom < 10 meV/atom" in rec.evidence[0]


def test_rule_4_energy_screening_on_low_force_r2_without_crash() -> None:
    # No crash, no force RMSE (not evaluated), too slow: rules 1-3 fail; R² 0.15 < 0.5.
    rec = recommend([run(force=None, inference=80.0, r2=0.15, energy=2.0)])
    assert rec.rule == 4
    assert "lowest force R² 0.15 < 0.5" in rec.evidence[0]


@pytest.mark.parametrize(("energy", "rule"), [(9.99, 4), (10.0, 5), (25.0, 5), (None, 5)])
def test_rule_4_threshold_defaults_to_the_setting(energy: float | None, rule: int) -> None:
    assert recommend([run(crashed=True, duration=1.0, energy=energy)]).rule == rule


def test_rule_4_threshold_can_be_given() -> None:
    runs = [run(crashed=True, duration=1.0, energy=15.0)]
    assert recommend(runs, energy_screening_meV_per_atom=20.0).rule == 4


def test_rule_5_not_recommended() -> None:
    rec = recommend([run(crashed=True, duration=0.2, energy=80.0, r2=0.1)])
    assert (rec.level, rec.rule) == ("not recommended", 5)
    assert any("worst energy RMSE 80 meV/atom ≥ 10 meV/atom" in line for line in rec.evidence)
    assert [line[:6] for line in rec.evidence[1:5]] == ["rule 1", "rule 2", "rule 3", "rule 4"]


def test_slow_but_accurate_model_is_rule_5_as_the_rules_are_written() -> None:
    # Speed failure alone is neither "force error or drift" (3) nor crash/low R² (4).
    rec = recommend([run(inference=80.0)])
    assert rec.rule == 5
    assert any("inference_time misses acceptable" in line for line in rec.evidence)


def test_not_evaluated_criteria_are_listed_but_do_not_block() -> None:
    rec = recommend([run(force=None, duration=50.0)])
    assert rec.rule == 1
    assert "force_rmse not evaluated on 1/1 runs" in rec.evidence


def test_no_runs_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no runs"):
        recommend([])


def test_recommendation_is_json() -> None:
    rec = recommend([run(drift=3.0)])
    data = json.loads(json.dumps(rec.to_dict(), allow_nan=False))
    assert data["level"] == "production with caveats" and data["rule"] == 2
    json.dumps(run().to_dict(), allow_nan=False)


def _summary(status: str, **metrics: Any) -> dict[str, Any]:
    base = {
        "crashed": status == "crashed",
        "drift_percent": 0.2,
        "force_rmse_eV_per_A": 0.1,
        "inference_ms_per_step": 5.0,
        "force_r2": 0.9,
        "energy_rmse_meV_per_atom": 2.0,
    }
    base.update(metrics)
    criteria_metrics = {**base, "stable_duration_ps": base.get("stable_duration_ps", 5.0)}
    return {
        "status": status,
        "config": {"duration_ps": 10.0},
        "time_to_failure_ps": 1.5 if status == "crashed" else None,
        "metrics": base,
        "criteria": [c.to_dict() for c in evaluate(criteria_metrics, "m6", device="cpu")],
        "run_key": "H2O_300K_0.5fs_10ps_s0",
    }


def test_outcome_from_completed_summary() -> None:
    outcome = RunOutcome.from_summary(_summary("completed"))
    assert not outcome.crashed
    assert outcome.duration_ps == 10.0  # from config, no stable_duration_ps in metrics
    assert (outcome.force_r2, outcome.energy_rmse_meV_per_atom) == (0.9, 2.0)
    assert outcome.label == "H2O_300K_0.5fs_10ps_s0"
    assert len(outcome.criteria) == 5


def test_outcome_from_crashed_summary_uses_time_to_failure_or_stable_duration() -> None:
    assert RunOutcome.from_summary(_summary("crashed")).duration_ps == 1.5
    stable = RunOutcome.from_summary(_summary("crashed", stable_duration_ps=1.2))
    assert stable.crashed and stable.duration_ps == 1.2


def test_failed_run_has_no_outcome() -> None:
    with pytest.raises(InputError, match="status 'failed'"):
        RunOutcome.from_summary(_summary("failed"))
