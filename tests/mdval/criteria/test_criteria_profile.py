"""Profiles are data: the built-in m6 table, and clear errors for bad names and files."""

from __future__ import annotations

import json

import pytest

from mdval.criteria import Profile, list_profiles, load_profile, parse_profile
from mdval.errors import InputError


def test_m6_is_built_in() -> None:
    assert "m6" in list_profiles()
    assert isinstance(load_profile("m6"), Profile)


def test_m6_matches_the_metrics_table() -> None:
    by_metric = {c.metric: c for c in load_profile("m6").criteria}
    assert set(by_metric) == {
        "crashed",
        "drift_percent",
        "fluctuation_ratio",
        "max_deviation_percent",
        "force_rmse_eV_per_A",
        "inference_ms_per_step",
        "stable_duration_ps",
    }
    crash = by_metric["crashed"]
    assert (crash.comparison, crash.target, crash.acceptable) == ("eq", False, False)
    drift = by_metric["drift_percent"]
    assert (drift.comparison, drift.target, drift.acceptable) == ("lt", 1.0, 5.0)
    fluctuation = by_metric["fluctuation_ratio"]
    assert (fluctuation.comparison, fluctuation.target, fluctuation.acceptable) == (
        "lt",
        0.05,
        0.1,
    )
    assert (fluctuation.unit, fluctuation.category) == (None, "energy")
    deviation = by_metric["max_deviation_percent"]
    assert (deviation.comparison, deviation.target, deviation.acceptable) == ("lt", 5.0, 10.0)
    assert (deviation.unit, deviation.category) == ("%", "energy")
    force = by_metric["force_rmse_eV_per_A"]
    assert (force.comparison, force.target, force.acceptable) == ("lt", 0.2, 0.3)
    speed = by_metric["inference_ms_per_step"]
    gpu, cpu = speed.thresholds("gpu"), speed.thresholds("cpu")
    assert gpu is not None and (gpu.target, gpu.acceptable) == (10.0, 50.0)
    assert cpu is not None and (cpu.target, cpu.acceptable) == (100.0, 100.0)
    stable = by_metric["stable_duration_ps"]
    assert (stable.comparison, stable.target, stable.acceptable) == ("ge", 10.0, 5.0)


def test_m6_names_the_evidence_its_criteria_need() -> None:
    by_name = {c.name: c for c in load_profile("m6").criteria}
    assert by_name["stable_duration"].capped_by == "duration_cap_ps"
    force = [(e.metric, e.comparison, e.value, e.when) for e in by_name["force_rmse"].evidence]
    assert force == [
        ("n_reference_frames", "ge", 5.0, "always"),
        ("reference_skipped_fraction", "le", 0.2, "always"),
    ]
    drift = [(e.metric, e.comparison, e.value, e.when) for e in by_name["energy_drift"].evidence]
    assert drift == [("drift_resolved", "eq", True, "miss")]
    assert isinstance(by_name["energy_drift"].evidence[0].value, bool)
    for name in ("no_crash", "inference_time", "energy_fluctuation", "energy_max_deviation"):
        assert by_name[name].capped_by is None and by_name[name].evidence == []


def test_m6_judges_only_its_energy_excursions_relative_to_the_control() -> None:
    # In profile order: the two excess criteria sit between energy_drift and force_rmse.
    relative = [(c.name, c.relative_to_control) for c in load_profile("m6").criteria]
    assert relative == [
        ("no_crash", None),
        ("energy_drift", None),
        ("energy_fluctuation", "excess"),
        ("energy_max_deviation", "excess"),
        ("force_rmse", None),
        ("inference_time", None),
        ("stable_duration", None),
    ]


def test_unknown_name_lists_the_available_profiles() -> None:
    with pytest.raises(InputError, match=r"unknown profile 'm7'.*m6"):
        load_profile("m7")


def test_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_profile(tmp_path / "nope.yaml")


_MINIMAL = """
name: mine
criteria:
  - {name: drift, metric: drift_percent, comparison: le, target: 1, acceptable: 2}
"""


def test_yaml_file_loads_and_integer_thresholds_are_numbers(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(_MINIMAL)
    profile = load_profile(str(path))
    row = profile.criteria[0].thresholds("cpu")
    assert row is not None
    assert row.target == 1.0 and not isinstance(row.target, bool)


def test_json_file_loads(tmp_path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "name": "mine",
                "criteria": [
                    {
                        "name": "r",
                        "metric": "force_r2",
                        "comparison": "ge",
                        "target": 0.9,
                        "acceptable": 0.5,
                    }
                ],
            }
        )
    )
    assert load_profile(path).criteria[0].metric == "force_r2"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("name: x\n", "criteria"),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: lt, target: 5, "
            "acceptable: 1}\n",
            "no stricter than target",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: ge, target: 1, "
            "acceptable: 5}\n",
            "no stricter than target",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: lt, target: 1}\n",
            "both target and acceptable",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: lt, target: true, "
            "acceptable: true}\n",
            "numeric thresholds",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: approx, target: 1, "
            "acceptable: 2}\n",
            r"criteria\.0\.comparison",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: lt, target: 1, acceptable: 2}"
            "\n  - {name: d, metric: n, comparison: lt, target: 1, acceptable: 2}\n",
            "repeated: d",
        ),
        (
            "name: x\ncriteria:\n  - {name: d, metric: m, comparison: lt, target: 1, acceptable: 2,"
            " colour: red}\n",
            r"criteria\.0\.colour",
        ),
    ],
)
def test_bad_profile_file_names_the_problem(tmp_path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as info:
        load_profile(path)
    assert "bad.yaml" in str(info.value)


def _one(**fields: object) -> dict[str, object]:
    row = {"name": "d", "metric": "m", "comparison": "lt", "target": 1, "acceptable": 2}
    row.update(fields)
    return {"name": "x", "criteria": [row]}


def test_evidence_capped_by_and_relative_to_control_parse() -> None:
    profile = parse_profile(
        _one(
            capped_by="cap",
            relative_to_control="excess",
            evidence=[{"metric": "n", "comparison": "ge", "value": 3, "needs": "three"}],
        )
    )
    criterion = profile.criteria[0]
    assert criterion.capped_by == "cap" and criterion.relative_to_control == "excess"
    (ev,) = criterion.evidence
    assert (ev.metric, ev.comparison, ev.value, ev.needs, ev.when) == (
        "n",
        "ge",
        3.0,
        "three",
        "always",
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"relative_to_control": "ratio"}, "relative_to_control"),
        (
            {
                "evidence": [
                    {"metric": "n", "comparison": "ge", "value": 3, "needs": "x", "when": "often"}
                ]
            },
            "when",
        ),
        ({"evidence": [{"metric": "n", "comparison": "ge", "value": 3}]}, "needs"),
        (
            {"evidence": [{"metric": "n", "comparison": "ge", "value": 3, "needs": "x", "why": 1}]},
            "why",
        ),
    ],
)
def test_bad_evidence_fields_are_input_errors(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_profile(_one(**fields), source="mine")
