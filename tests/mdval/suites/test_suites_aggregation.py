"""Replica statistics: Student-t intervals in closed form, grouping of runs by seed."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mdval.errors import InputError
from mdval.suites import aggregate, aggregate_summaries

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
    verdict: str = "pass",
    **metrics: Any,
) -> dict[str, Any]:
    return {
        "status": status,
        "verdict": verdict,
        "config": {
            "model": model,
            "structure": structure,
            "reference": "gfn2-xtb",
            "temperature_K": 300.0,
            "timestep_fs": 0.5,
            "duration_ps": 5.0,
            "seed": seed,
        },
        "metrics": {"drift_percent": drift, **metrics},
        "criteria": [],
    }


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
    assert h2o["n_pass"] == 3
    # completed runs only: the crashed run's 90 % drift stays out of the mean
    assert h2o["metrics"]["drift_percent"] == aggregate([1.0, 2.0, 3.0])
    assert h2o["metrics"]["force_r2"]["n"] == 2  # None is skipped
    assert h2o["metrics"]["step_ms"]["n"] == 0  # never measured
    assert (out["n_runs"], out["n_completed"], out["n_crashed"], out["n_other"]) == (6, 4, 1, 1)
    assert out["crash_rate"] == pytest.approx(1 / 5)
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
    ]
    out = aggregate_summaries([summary(**{n: 1.0 for n in names if n != "drift_percent"})])
    assert set(out["groups"][0]["metrics"]) == set(names)


def test_no_finished_run_has_no_crash_rate() -> None:
    out = aggregate_summaries([summary(status="failed")])
    assert out["crash_rate"] is None and out["groups"][0]["crash_rate"] is None


def test_summary_without_config_is_an_input_error() -> None:
    with pytest.raises(InputError, match="run summary 1 has no config"):
        aggregate_summaries([summary(), {"status": "completed", "metrics": {}}])
