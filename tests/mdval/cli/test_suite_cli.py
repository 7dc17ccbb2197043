"""`mdval suite`: exit codes, suite_summary.json with verdict counts, survival per cell and
the largest stable timestep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mdval.cli.main import app
from mdval.settings import get_settings

ALLOW = '["py:mdval.testing:nan_after_40"]'


@pytest.fixture(autouse=True)
def allowlist(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MDVAL_PY_FACTORY_ALLOWLIST", ALLOW)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def suite_file(tmp_path: Path, structure: str, timesteps: str, duration_ps: float) -> Path:
    """Two seeds per timestep, no equilibration, judged only on 'no crash'."""
    profile = tmp_path / "nocrash.yaml"
    profile.write_text(
        "name: nocrash\ndescription: only stability\ncriteria:\n"
        "  - name: no_crash\n    metric: crashed\n    comparison: eq\n"
        "    target: false\n    acceptable: false\n"
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"name: tiny\nstructures: [{structure}]\ntimesteps_fs: [{timesteps}]\n"
        f"durations_ps: [{duration_ps}]\nseeds: 2\nequilibration_ps: 0\n"
        f"profile: {profile}\nrecord_every: 1\n"
    )
    return path


def run_suite(tmp_path: Path, suite: Path, model: str) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["suite", str(suite), "--model", model, "--no-control", "--out", str(out)]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output, json.loads((out / "suite_summary.json").read_text())


def test_a_passing_suite_exits_0_and_names_its_largest_stable_timestep(tmp_path: Path) -> None:
    code, output, result = run_suite(tmp_path, suite_file(tmp_path, "cu-fcc", "1, 2", 0.02), "emt")
    assert code == 0, output
    assert (result["n_runs"], result["n_pass"]) == (4, 4)
    assert result["largest_stable_timestep_fs"] == 2.0
    aggregate = result["aggregate"]
    assert aggregate["largest_stable_timestep_fs"] == 2.0
    assert (aggregate["n_pass"], aggregate["n_fail"], aggregate["n_inconclusive"]) == (4, 0, 0)
    assert [g["seeds"] for g in aggregate["groups"]] == [[0, 1], [0, 1]]
    for group in aggregate["groups"]:
        assert group["time_to_failure"]["median_ps"] is None
        assert group["survival"]["alive_fraction"][-1] == 1.0
    assert "largest stable timestep: 2 fs" in output


def test_a_crash_at_the_smallest_timestep_leaves_none_stable_and_exits_1(
    tmp_path: Path,
) -> None:
    # 40 good calls: 60 steps of 0.5 fs crash, 30 steps of 1 fs finish.
    suite = suite_file(tmp_path, "H2O", "0.5, 1", 0.03)
    code, output, result = run_suite(tmp_path, suite, "py:mdval.testing:nan_after_40")
    assert code == 1, output
    assert [(r["key"], r["verdict"]) for r in result["runs"]] == [
        ("H2O_300K_0.5fs_0.03ps_s0", "fail"),
        ("H2O_300K_0.5fs_0.03ps_s1", "fail"),
        ("H2O_300K_1fs_0.03ps_s0", "pass"),
        ("H2O_300K_1fs_0.03ps_s1", "pass"),
    ]
    # 1 fs passes, but a smaller timestep fails: no timestep is stable.
    assert result["largest_stable_timestep_fs"] is None
    assert "largest stable timestep: none" in output
    aggregate = result["aggregate"]
    assert (aggregate["n_pass"], aggregate["n_fail"], aggregate["n_crashed"]) == (2, 2, 2)
    crashed, clean = aggregate["groups"]
    assert (crashed["n_fail"], crashed["n_crashed"]) == (2, 2)
    assert crashed["time_to_failure"]["median_ps"] == pytest.approx(0.02, abs=1e-3)
    assert crashed["survival"]["alive_fraction"][-1] == 0.0
    assert crashed["survival"]["time_ps"][-1] == pytest.approx(0.03)
    assert clean["time_to_failure"]["median_ps"] is None
    assert clean["survival"]["alive_fraction"][-1] == 1.0


@pytest.mark.physics
def test_a_timestep_the_teacher_itself_fails_is_protocol_invalid_for_every_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alanine dipeptide at 500 K: at 2 fs GFN2-xTB's own NVE fails m6 (its energy
    fluctuation ratio), so the cell is protocol invalid for the teacher and for a student,
    and the teacher's largest stable timestep is 1 fs. ~2 min on one core."""
    monkeypatch.setenv("MDVAL_CONTROL_CACHE_DIR", str(tmp_path / "controls"))
    get_settings.cache_clear()
    suite = tmp_path / "hot.yaml"
    suite.write_text(
        "name: hot\nstructures: [alanine-dipeptide]\ntemperatures_K: [500]\n"
        "timesteps_fs: [1, 2]\ndurations_ps: [5]\nseeds: 1\nequilibration_ps: 1.0\n"
        "reference: gfn2-xtb\n"
    )
    verdicts = {}
    for model in ("gfn2-xtb", "zoo:original"):
        out = tmp_path / model.replace(":", "-")
        result = CliRunner().invoke(app, ["suite", str(suite), "--model", model, "-o", str(out)])
        summary = json.loads((out / "suite_summary.json").read_text())
        verdicts[model] = {r["key"]: r["verdict"] for r in summary["runs"]}
        assert verdicts[model]["alanine-dipeptide_500K_2fs_5ps_s0"] == "protocol invalid"
        assert result.exit_code in (0, 1, 3)
        if model == "gfn2-xtb":
            assert summary["largest_stable_timestep_fs"] == 1.0
            assert verdicts[model]["alanine-dipeptide_500K_1fs_5ps_s0"] == "pass"
            cell = json.loads(
                (out / "alanine-dipeptide_500K_2fs_5ps_s0" / "summary.json").read_text()
            )
            assert cell["control"]["valid"] is False
            assert any("control fails" in line for line in cell["control"]["evidence"])
    # the student reused the teacher's own runs as its controls: nothing else was run
    assert len(list((tmp_path / "controls").glob("*/control.json"))) == 2


def test_a_student_suite_finds_or_runs_every_control_before_its_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controls of a suite are resolved up front (side by side on the CPUs for
    GFN2-xTB), so every control is in the cache before the first run's summary is written;
    a second suite run finds them all."""
    monkeypatch.setenv("MDVAL_CONTROL_CACHE_DIR", str(tmp_path / "controls"))
    get_settings.cache_clear()
    suite = tmp_path / "water.yaml"
    suite.write_text(
        "name: water\nstructures: [H2O]\ntemperatures_K: [300]\ntimesteps_fs: [0.5]\n"
        "durations_ps: [0.05]\nseeds: 2\nequilibration_ps: 0\nreference: gfn2-xtb\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["suite", str(suite), "--model", "zoo:ultra-tiny",
                                      "-o", str(out)])  # fmt: skip
    assert result.exit_code in (0, 1, 3), result.output
    assert "controls: 2 cells" in result.output
    controls = sorted((tmp_path / "controls").glob("*/control.json"))
    runs = sorted(out.glob("*/summary.json"))
    assert len(controls) == 2 and len(runs) == 2
    assert max(c.stat().st_mtime for c in controls) <= min(r.stat().st_mtime for r in runs)
    for summary in (json.loads(r.read_text()) for r in runs):
        assert summary["control"]["valid"] is True and not summary["control"]["is_self"]
