"""The five recommendation rules, each triggered by a constructed set of runs, in order;
``inconclusive`` (rule 0) when nothing failed but the evidence cannot decide; runs whose
control failed (protocol invalid) left out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mdval.criteria import RECOMMENDATION_LEVELS, RunOutcome, evaluate, recommend
from mdval.errors import InputError


def run(
    *,
    drift: float | None = 0.2,
    force: float | None = 0.1,
    inference: float = 5.0,
    duration: float = 10.0,
    requested: float | None = None,
    crashed: bool = False,
    r2: float | None = 0.99,
    energy: float | None = 1.0,
    device: str = "cuda",
    n_frames: int = 20,
    drift_resolved: bool | None = True,
    fluctuation: float | None = 0.01,
    max_deviation: float | None = 0.5,
    control: dict[str, Any] | None = None,
    protocol_invalid: bool = False,
) -> RunOutcome:
    """One run evaluated on m6 (defaults: every criterion at target, 10 ps stable).

    ``requested`` is the production time the run was to reach (``duration_cap_ps``):
    ``duration`` for a completed run, 10 ps for a crashed one unless given. The evidence the
    criteria need is there by default (20 reference frames, none skipped, drift resolved).
    ``control``: the control's metrics, for the criteria judged relative to it.
    """
    if requested is None:
        requested = max(duration, 10.0) if crashed else duration
    metrics: dict[str, Any] = {
        "crashed": crashed,
        "drift_percent": drift,
        "drift_resolved": drift_resolved,
        "fluctuation_ratio": fluctuation,
        "max_deviation_percent": max_deviation,
        "force_rmse_eV_per_A": force,
        "n_reference_frames": n_frames,
        "reference_skipped_fraction": 0.0,
        "inference_ms_per_step": inference,
        "stable_duration_ps": duration,
        "duration_cap_ps": requested,
    }
    return RunOutcome(
        crashed=crashed,
        criteria=evaluate(metrics, "m6", device=device, control_metrics=control),
        duration_ps=duration,
        force_r2=r2,
        energy_rmse_meV_per_atom=energy,
        protocol_invalid=protocol_invalid,
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


def test_rule_3_pre_equilibration_when_the_energy_excess_beyond_acceptable() -> None:
    # A fluctuation ratio 0.15 above the control's 0.02: an excess of 0.13 ≥ 0.1.
    control = {"fluctuation_ratio": 0.02, "max_deviation_percent": 2.0}
    rec = recommend([run(fluctuation=0.15, control=control), run(duration=50.0)])
    assert (rec.level, rec.rule) == ("pre-equilibration only", 3)
    assert "energy_fluctuation misses acceptable on 1/2 runs" in rec.evidence[0]
    # The same run beside a control that fluctuates as much: the excess is the protocol's.
    control = {"fluctuation_ratio": 0.12, "max_deviation_percent": 2.0}
    rec = recommend([run(fluctuation=0.15, control=control), run(duration=50.0)])
    assert (rec.level, rec.rule) == ("production", 1)


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


def _summary(status: str, verdict: str | None = None, **metrics: Any) -> dict[str, Any]:
    base = {
        "crashed": status == "crashed",
        "drift_percent": 0.2,
        "drift_resolved": True,
        "fluctuation_ratio": 0.01,
        "max_deviation_percent": 0.5,
        "force_rmse_eV_per_A": 0.1,
        "n_reference_frames": 20,
        "reference_skipped_fraction": 0.0,
        "inference_ms_per_step": 5.0,
        "force_r2": 0.9,
        "energy_rmse_meV_per_atom": 2.0,
        "duration_cap_ps": 10.0,
    }
    base.update(metrics)
    criteria_metrics = {**base, "stable_duration_ps": base.get("stable_duration_ps", 5.0)}
    return {
        "status": status,
        "verdict": verdict,
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
    assert len(outcome.criteria) == 7


def test_outcome_from_crashed_summary_uses_time_to_failure_or_stable_duration() -> None:
    assert RunOutcome.from_summary(_summary("crashed")).duration_ps == 1.5
    stable = RunOutcome.from_summary(_summary("crashed", stable_duration_ps=1.2))
    assert stable.crashed and stable.duration_ps == 1.2


def test_failed_run_has_no_outcome() -> None:
    with pytest.raises(InputError, match="status 'failed'"):
        RunOutcome.from_summary(_summary("failed"))


def test_outcome_from_summary_reads_protocol_invalid() -> None:
    assert not RunOutcome.from_summary(_summary("completed", verdict="pass")).protocol_invalid
    assert not RunOutcome.from_summary(_summary("completed", verdict="fail")).protocol_invalid
    outcome = RunOutcome.from_summary(_summary("crashed", verdict="protocol invalid"))
    assert outcome.protocol_invalid and outcome.crashed


def test_inconclusive_is_the_first_recommendation_level() -> None:
    assert RECOMMENDATION_LEVELS[0] == "inconclusive"
    assert RECOMMENDATION_LEVELS[1:] == (
        "production",
        "production with caveats",
        "pre-equilibration only",
        "energy screening only",
        "not recommended",
    )


# --- inconclusive (rule 0) ----------------------------------------------------------------


@pytest.mark.parametrize("duration", [0.5, 1.0, 2.0, 4.9])
def test_a_short_clean_run_is_inconclusive_never_not_recommended(duration: float) -> None:
    rec = recommend([run(duration=duration)])
    assert rec.level != "not recommended"
    assert (rec.level, rec.rule) == ("inconclusive", 0)
    assert rec.evidence[0].startswith("inconclusive — ")
    assert "stable_duration inconclusive on 1/1 runs" in rec.evidence[0]
    assert "≥ 5 ps" in rec.evidence[0]


def test_several_short_clean_runs_are_inconclusive() -> None:
    rec = recommend([run(duration=1.0), run(duration=1.0), run(duration=2.0)])
    assert (rec.level, rec.rule) == ("inconclusive", 0)
    assert "no crash and no failed criterion in 3 runs" in rec.evidence[0]
    assert "stable_duration inconclusive on 3/3 runs" in rec.evidence[0]


def test_a_2_ps_run_with_a_failed_force_error_is_pre_equilibration_only() -> None:
    # The complaint: duration alone used to outrank accuracy. A force failure is
    # evidence that suffices; the short duration does not hide it.
    rec = recommend([run(duration=2.0, force=0.55)])
    assert (rec.level, rec.rule) == ("pre-equilibration only", 3)
    assert "force_rmse misses acceptable on 1/1 runs (worst 0.55 eV/Å" in rec.evidence[0]


def test_a_2_ps_run_with_everything_else_at_target_is_inconclusive() -> None:
    rec = recommend([run(duration=2.0)])
    assert (rec.level, rec.rule) == ("inconclusive", 0)
    assert rec.evidence[0].startswith("inconclusive — ")
    assert "≥ 5 ps" in rec.evidence[0]


def test_too_few_reference_frames_is_inconclusive_and_says_what_is_needed() -> None:
    rec = recommend([run(force=0.01, n_frames=2, duration=50.0)])
    assert (rec.level, rec.rule) == ("inconclusive", 0)
    assert "force_rmse inconclusive on 1/1 runs" in rec.evidence[0]
    assert "at least 5 reference frames" in rec.evidence[0]


def test_an_unresolved_drift_is_inconclusive_a_resolved_one_decides() -> None:
    unresolved = recommend([run(drift=7.0, drift_resolved=False)])
    assert (unresolved.level, unresolved.rule) == ("inconclusive", 0)
    assert "drift resolved from noise" in unresolved.evidence[0]
    resolved = recommend([run(drift=7.0, drift_resolved=True)])
    assert (resolved.level, resolved.rule) == ("pre-equilibration only", 3)


def test_a_crash_outranks_missing_evidence() -> None:
    runs = [run(duration=1.0), run(crashed=True, duration=0.4, energy=4.0)]
    rec = recommend(runs)
    assert (rec.level, rec.rule) == ("energy screening only", 4)
    assert "1/2 runs crashed" in rec.evidence[0]
    rec = recommend([run(duration=1.0), run(crashed=True, duration=0.4, energy=50.0)])
    assert (rec.level, rec.rule) == ("not recommended", 5)


def test_a_failed_criterion_on_one_run_outranks_an_inconclusive_one_on_another() -> None:
    rec = recommend([run(duration=1.0), run(drift=9.0)])
    assert (rec.level, rec.rule) == ("pre-equilibration only", 3)


def test_inconclusive_keeps_the_not_evaluated_notes() -> None:
    rec = recommend([run(duration=1.0, force=None)])
    assert rec.rule == 0
    assert "force_rmse not evaluated on 1/1 runs" in rec.evidence


# --- protocol-invalid runs -----------------------------------------------------------------


def test_protocol_invalid_runs_are_excluded_and_noted() -> None:
    # The crashed run's control failed too: it counts neither for nor against the model.
    bad_cell = run(crashed=True, duration=0.3, energy=80.0, r2=0.1, protocol_invalid=True)
    rec = recommend([bad_cell, run(), run(duration=50.0)])
    assert (rec.level, rec.rule) == ("production", 1)
    assert "2/2 runs at target" in rec.evidence[0]
    assert "1 protocol-invalid run(s) excluded: their control failed" in rec.evidence
    # Without the flag the same run decides.
    assert recommend([run(crashed=True, duration=0.3, energy=80.0, r2=0.1)]).rule == 5


def test_all_runs_protocol_invalid_is_inconclusive() -> None:
    runs = [run(protocol_invalid=True), run(crashed=True, duration=0.5, protocol_invalid=True)]
    rec = recommend(runs)
    assert (rec.level, rec.rule) == ("inconclusive", 0)
    assert rec.evidence[0].startswith("inconclusive — needs a valid protocol")
    assert "all 2 run(s)" in rec.evidence[0]
    assert "2 protocol-invalid run(s) excluded: their control failed" in rec.evidence


def test_protocol_invalid_runs_from_summaries() -> None:
    summaries = [
        _summary("crashed", verdict="protocol invalid", stable_duration_ps=0.2),
        _summary("completed", verdict="pass"),
    ]
    rec = recommend([RunOutcome.from_summary(s) for s in summaries])
    assert rec.rule == 2  # the 5 ps run alone: acceptable, not a long run
    assert any("1 protocol-invalid run(s) excluded" in line for line in rec.evidence)
