"""Replica statistics: Student-t intervals in closed form, grouping of runs by seed, verdict
counts, a cell's survival curve and median time to failure, the largest stable timestep."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mdval.errors import InputError
from mdval.suites import aggregate, aggregate_summaries
from mdval.suites.aggregation import AGGREGATED_METRICS, largest_stable_timestep_fs

# Student's t with 2 degrees of freedom has CDF 1/2 + t / (2 sqrt(2 + t²)), so its 0.975
# quantile solves t / sqrt(2 + t²) = 0.95:  t² = 2 · 0.95² / (1 − 0.95²).
T_975_DF2 = math.sqrt(2 * 0.95**2 / (1 - 0.95**2))  # 4.3026527...


def test_t_quantile_closed_form_is_the_textbook_value() -> None:
    assert pytest.approx(4.302653, abs=1e-6) == T_975_DF2


def test_aggregate_of_1_2_3() -> None:
    out = aggregate([1.0, 2.0, 3.0])
    half = T_975_DF2 * 1.0 / math.sqrt(3)  # sample std of 1, 2, 3 is exactly 1
    assert out["n"] == 3
    assert out["mean"] == pytest.approx(2.0, abs=1e-15)
    assert out["ci95_low"] == pytest.approx(2.0 - half, rel=1e-12)
    assert out["ci95_high"] == pytest.approx(2.0 + half, rel=1e-12)


def test_aggregate_of_two_values_uses_df_1() -> None:
    # df = 1 is the Cauchy distribution: t(0.975) = tan(0.475 π)
    out = aggregate([1.0, 3.0])
    half = math.tan(0.475 * math.pi) * math.sqrt(2.0) / math.sqrt(2)
    assert out["ci95_high"] - out["mean"] == pytest.approx(half, rel=1e-12)


def test_one_value_has_no_interval() -> None:
    assert aggregate([4.2]) == {"mean": 4.2, "ci95_low": None, "ci95_high": None, "n": 1}


def test_no_values_have_no_mean() -> None:
    assert aggregate([]) == {"mean": None, "ci95_low": None, "ci95_high": None, "n": 0}


def test_identical_values_have_a_zero_width_interval() -> None:
    out = aggregate([2.5, 2.5, 2.5])
    assert out["ci95_low"] == out["ci95_high"] == 2.5


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(InputError, match="finite"):
        aggregate([1.0, math.nan])


def summary(
    *,
    structure: str = "H2O",
    seed: int = 0,
    status: str = "completed",
    drift: float | None = 1.0,
    model: str = "zoo:original",
    verdict: str | None = "pass",
    timestep: float = 0.5,
    duration: float = 5.0,
    without_control: str | None = None,
    **metrics: Any,
) -> dict[str, Any]:
    """A run summary; ``without_control``, when given, is its ``verdict_without_control``."""
    out: dict[str, Any] = {
        "status": status,
        "verdict": verdict,
        "config": {
            "model": model,
            "structure": structure,
            "reference": "gfn2-xtb",
            "temperature_K": 300.0,
            "timestep_fs": timestep,
            "duration_ps": duration,
            "seed": seed,
        },
        "metrics": {"drift_percent": drift, **metrics},
        "criteria": [],
    }
    if without_control is not None:
        out["verdict_without_control"] = without_control
    return out


def test_runs_differing_only_by_seed_are_one_group() -> None:
    summaries = [
        summary(seed=0, drift=1.0, force_r2=0.9),
        summary(structure="CH4", seed=0, drift=0.5),
        summary(seed=1, drift=2.0, force_r2=0.8),
        summary(seed=2, drift=3.0, force_r2=None),
        summary(seed=3, status="crashed", drift=90.0, verdict="fail"),
        summary(seed=4, status="failed", drift=None, verdict="fail"),
    ]
    out = aggregate_summaries(summaries)
    assert [g["key"] for g in out["groups"]] == ["H2O_300K_0.5fs_5ps", "CH4_300K_0.5fs_5ps"]
    h2o = out["groups"][0]
    assert h2o["seeds"] == [0, 1, 2, 3, 4]
    assert "seed" not in h2o["config"] and h2o["config"]["structure"] == "H2O"
    assert (h2o["n_runs"], h2o["n_completed"], h2o["n_crashed"], h2o["n_other"]) == (5, 3, 1, 1)
    assert h2o["crash_rate"] == pytest.approx(1 / 4)  # crashed / (completed + crashed)
    assert (h2o["n_pass"], h2o["n_fail"], h2o["n_inconclusive"], h2o["n_protocol_invalid"]) == (
        3,
        2,
        0,
        0,
    )
    # completed runs only: the crashed run's 90 % drift stays out of the mean
    assert h2o["metrics"]["drift_percent"] == aggregate([1.0, 2.0, 3.0])
    assert h2o["metrics"]["force_r2"]["n"] == 2  # None is skipped
    assert h2o["metrics"]["step_ms"]["n"] == 0  # never measured
    assert (out["n_runs"], out["n_completed"], out["n_crashed"], out["n_other"]) == (6, 4, 1, 1)
    assert out["crash_rate"] == pytest.approx(1 / 5)
    assert (out["n_pass"], out["n_fail"]) == (4, 2)
    json.dumps(out, allow_nan=False)


def test_include_crashed_adds_their_metrics() -> None:
    summaries = [summary(seed=0, drift=1.0), summary(seed=1, status="crashed", drift=3.0)]
    out = aggregate_summaries(summaries, include_crashed=True)
    assert out["groups"][0]["metrics"]["drift_percent"]["mean"] == pytest.approx(2.0)


def test_other_models_are_other_groups_with_distinct_keys() -> None:
    out = aggregate_summaries([summary(model="zoo:original"), summary(model="zoo:tiny")])
    keys = [g["key"] for g in out["groups"]]
    assert len(keys) == 2 and len(set(keys)) == 2
    assert keys[0] == "H2O_300K_0.5fs_5ps" and keys[1].startswith("H2O_300K_0.5fs_5ps_")


def test_all_listed_metrics_are_aggregated() -> None:
    names = [
        "drift_percent",
        "drift_meV_per_atom_per_ps",
        "force_rmse_eV_per_A",
        "force_mae_eV_per_A",
        "force_r2",
        "force_angle_error_deg",
        "inference_ms_per_step",
        "step_ms",
        "temperature_mean_K",
        "fluctuation_ratio",
        "max_deviation_percent",
    ]
    assert set(AGGREGATED_METRICS) == set(names)
    out = aggregate_summaries([summary(**{n: 1.0 for n in names if n != "drift_percent"})])
    assert set(out["groups"][0]["metrics"]) == set(names)


def test_no_finished_run_has_no_crash_rate() -> None:
    out = aggregate_summaries([summary(status="failed")])
    assert out["crash_rate"] is None and out["groups"][0]["crash_rate"] is None


def test_summary_without_config_is_an_input_error() -> None:
    with pytest.raises(InputError, match="run summary 1 has no config"):
        aggregate_summaries([summary(), {"status": "completed", "metrics": {}}])


def test_energy_metrics_are_aggregated_over_seeds() -> None:
    summaries = [
        summary(seed=i, fluctuation_ratio=r, max_deviation_percent=d, temperature_mean_K=t)
        for i, (r, d, t) in enumerate([(0.01, 1.0, 299.0), (0.02, 2.0, 300.0), (0.03, 3.0, 301.0)])
    ]
    metrics = aggregate_summaries(summaries)["groups"][0]["metrics"]
    assert metrics["fluctuation_ratio"] == aggregate([0.01, 0.02, 0.03])
    assert metrics["max_deviation_percent"] == aggregate([1.0, 2.0, 3.0])
    assert metrics["temperature_mean_K"]["mean"] == pytest.approx(300.0)
    assert metrics["temperature_mean_K"]["n"] == 3


# --- verdict counts -----------------------------------------------------------------------


def test_verdicts_are_counted_overall_and_per_group() -> None:
    summaries = [
        summary(seed=0, verdict="pass"),
        summary(seed=1, verdict="fail"),
        summary(seed=2, verdict="inconclusive"),
        summary(seed=3, verdict="protocol invalid"),
        summary(seed=4, verdict="protocol invalid", status="crashed"),
        summary(seed=5, verdict=None, status="failed"),  # no verdict: counted in none
        summary(structure="CH4", verdict="inconclusive"),
        summary(structure="CH4", seed=1, verdict="fail", status="crashed"),
    ]
    out = aggregate_summaries(summaries)
    counts = ("n_pass", "n_fail", "n_inconclusive", "n_protocol_invalid")
    h2o, ch4 = out["groups"]
    assert [h2o[k] for k in counts] == [1, 1, 1, 2]
    assert [ch4[k] for k in counts] == [0, 1, 1, 0]
    assert [out[k] for k in counts] == [1, 2, 2, 2]
    assert out["n_runs"] == 8


# --- survival and time to failure of a cell -------------------------------------------------


def test_a_cell_with_two_of_three_seeds_crashed_has_median_2_ps() -> None:
    summaries = [
        summary(seed=0, status="crashed", verdict="fail", stable_duration_ps=1.0),
        summary(seed=1, status="crashed", verdict="fail", stable_duration_ps=2.0),
        summary(seed=2, stable_duration_ps=5.0),
    ]
    (cell,) = aggregate_summaries(summaries)["groups"]
    assert cell["time_to_failure"]["median_ps"] == 2.0
    assert cell["time_to_failure"]["ci95_low_ps"] == 0.0  # n < 6: no lower rank
    assert cell["time_to_failure"]["ci95_high_ps"] is None  # falls on the censored replica
    survival = cell["survival"]
    times, alive = survival["time_ps"], survival["alive_fraction"]
    assert times[0] == 0.0 and times[-1] == 5.0  # production time of the cell
    assert len(times) == len(alive)
    assert alive[0] == 1.0
    assert alive[-1] == pytest.approx(1 / 3)

    def at(t: float) -> float:
        return alive[min(range(len(times)), key=lambda i: abs(times[i] - t))]

    assert at(0.5) == 1.0
    assert at(1.5) == pytest.approx(2 / 3)
    assert at(3.0) == pytest.approx(1 / 3)
    json.dumps(cell, allow_nan=False)


def test_a_cell_that_never_crashed_has_no_median_and_full_survival() -> None:
    (cell,) = aggregate_summaries([summary(seed=i) for i in range(3)])["groups"]
    assert cell["time_to_failure"]["median_ps"] is None
    assert set(cell["survival"]["alive_fraction"]) == {1.0}
    assert cell["survival"]["time_ps"][-1] == 5.0


def test_survival_leaves_out_runs_that_did_not_finish() -> None:
    summaries = [
        summary(seed=0, status="crashed", verdict="fail", stable_duration_ps=1.0),
        summary(seed=1, status="failed", verdict=None),
        summary(seed=2, status="cancelled", verdict="inconclusive"),
    ]
    (cell,) = aggregate_summaries(summaries)["groups"]
    # one finished replica, crashed at 1 ps: nobody alive at the end, median 1 ps
    assert cell["survival"]["alive_fraction"][-1] == 0.0
    assert cell["time_to_failure"]["median_ps"] == 1.0


def test_a_cell_with_no_finished_run_has_no_survival() -> None:
    (cell,) = aggregate_summaries([summary(status="failed", verdict=None)])["groups"]
    assert cell["survival"] is None and cell["time_to_failure"] is None


# --- largest stable timestep ----------------------------------------------------------------


def _at(dt: float, verdict: str = "pass", **changes: Any) -> dict[str, Any]:
    return summary(timestep=dt, verdict=verdict, **changes)


def test_largest_stable_timestep_is_the_last_before_a_failure() -> None:
    summaries = [_at(0.5), _at(1.0), _at(2.0, "fail")]
    out = aggregate_summaries(summaries)
    assert out["largest_stable_timestep_fs"] == 1.0
    assert largest_stable_timestep_fs(summaries) == 1.0
    # every timestep stable: the largest
    assert largest_stable_timestep_fs([_at(0.5), _at(1.0), _at(2.0)]) == 2.0


def test_a_failure_at_the_smallest_timestep_leaves_none_stable() -> None:
    summaries = [_at(0.5, "fail"), _at(1.0), _at(2.0)]
    assert aggregate_summaries(summaries)["largest_stable_timestep_fs"] is None


def test_a_failure_stops_the_scan_even_when_a_larger_timestep_passes() -> None:
    assert largest_stable_timestep_fs([_at(0.5), _at(1.0, "fail"), _at(2.0)]) == 0.5


def test_one_failing_seed_or_structure_makes_the_timestep_unstable() -> None:
    summaries = [
        _at(0.5, seed=0),
        _at(0.5, seed=1),
        _at(1.0, seed=0),
        _at(1.0, seed=1, status="crashed", verdict="fail"),
        _at(2.0, seed=0),
        _at(0.5, structure="CH4"),
        _at(1.0, structure="CH4"),
    ]
    assert largest_stable_timestep_fs(summaries) == 0.5
    assert largest_stable_timestep_fs([_at(0.5), _at(1.0), _at(1.0, "fail", structure="CH4")]) == (
        0.5
    )


def test_the_timestep_scan_follows_timestep_order_not_input_order() -> None:
    assert largest_stable_timestep_fs([_at(2.0, "fail"), _at(1.0), _at(0.5)]) == 1.0


def test_protocol_invalid_runs_are_judged_on_their_own_evidence() -> None:
    # The control failed at 2 fs, but the run itself passes: the scan goes on.
    invalid_but_sound = _at(2.0, "protocol invalid", without_control="pass")
    assert largest_stable_timestep_fs([_at(0.5), _at(1.0), invalid_but_sound]) == 2.0
    # ... and a protocol-invalid run that fails on its own evidence stops it.
    invalid_and_failing = _at(2.0, "protocol invalid", without_control="fail")
    assert largest_stable_timestep_fs([_at(0.5), _at(1.0), invalid_and_failing]) == 1.0
    # verdict_without_control outranks the verdict either way
    assert largest_stable_timestep_fs(
        [_at(0.5), _at(1.0, "inconclusive", without_control="fail")]
    ) == (0.5)
    assert largest_stable_timestep_fs([_at(0.5, "fail", without_control="pass")]) == 0.5


def test_inconclusive_runs_do_not_stop_the_scan() -> None:
    assert largest_stable_timestep_fs([_at(0.5, "inconclusive"), _at(1.0)]) == 1.0


def test_runs_that_did_not_finish_do_not_count_for_the_timestep() -> None:
    summaries = [_at(0.5), _at(1.0, "fail", status="failed"), _at(2.0, "fail", status="cancelled")]
    assert largest_stable_timestep_fs(summaries) == 0.5
    assert largest_stable_timestep_fs([_at(0.5, status="failed")]) is None
    assert largest_stable_timestep_fs([]) is None
