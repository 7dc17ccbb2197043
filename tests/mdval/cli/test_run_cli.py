"""`mdval run`: exit codes, messages, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mdval.cli.main import app
from mdval.settings import get_settings

ALLOW = (
    '["py:mdval.testing:nan_after_40", "py:mdval.testing:harmonic_factory", '
    '"py:mdval.testing:fails_to_load"]'
)


@pytest.fixture(autouse=True)
def allowlist(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MDVAL_PY_FACTORY_ALLOWLIST", ALLOW)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def lenient_profile(tmp_path: Path) -> Path:
    """A profile whose only criterion is 'no crash', so a 20 fs run can pass."""
    path = tmp_path / "nocrash.yaml"
    path.write_text(
        "name: nocrash\ndescription: only stability\ncriteria:\n"
        "  - name: no_crash\n    metric: crashed\n    comparison: eq\n"
        "    target: false\n    acceptable: false\n"
    )
    return path


def test_passing_run_exits_0_and_writes_files(tmp_path: Path) -> None:
    """A real `mdval` process (the installed entry point path) for the happy path."""
    out = tmp_path / "run"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "mdval.cli",
            "run",
            "--model",
            "emt",
            "--structure",
            "cu-fcc",
            "--reference",
            "emt",
            "--duration-ps",
            "0.02",
            "--timestep-fs",
            "1",
            "--record-every",
            "2",
            "--reference-every",
            "10",
            "--profile",
            str(lenient_profile(tmp_path)),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    assert (out / "thermo.csv").read_text().startswith("step,time_ps")
    assert (out / "trajectory.extxyz").stat().st_size > 0
    assert "drift_percent" in p.stdout


def test_crash_exits_1(tmp_path: Path) -> None:
    code, output = invoke(
        "run",
        "--model",
        "py:mdval.testing:nan_after_40",
        "--structure",
        "H2O",
        "--duration-ps",
        "0.05",
        "--timestep-fs",
        "0.5",
        "--record-every",
        "1",
        "--out",
        str(tmp_path / "crash"),
    )
    assert code == 1, output
    summary = json.loads((tmp_path / "crash" / "summary.json").read_text())
    assert summary["status"] == "crashed"
    assert "non-finite" in summary["failure_reason"]
    assert summary["time_to_failure_ps"] == pytest.approx(0.020)  # 40 good calls at 0.5 fs


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "no-such-model", "--structure", "H2O"], "no-such-model"),
        (["--model", "lj", "--structure", "missing.xyz"], "missing.xyz"),
        (["--model", "lj", "--structure", "smiles:C1CC"], "smiles"),
        (["--model", "lj", "--structure", "H2O", "--timestep-fs", "-1"], "timestep_fs"),
        (["--model", "lj", "--structure", "H2O", "--temperature-k", "0"], "temperature_K"),
        (["--model", "lj", "--structure", "H2O", "--profile", "nope"], "nope"),
        (["--model", "lj", "--structure", "H2O", "--engine", "warp"], "engine"),
        (["--model", "py:os:system", "--structure", "H2O"], "allowlist"),
        (["--model", "emt", "--structure", "H2O"], "does not support element"),
        (["--model", "lj", "--structure", "H2O", "--reference", "emt"], "reference"),
        (["--model", "py:mdval.testing:fails_to_load", "--structure", "H2O"], "corrupt"),
        (["--model", "lj", "--structure", "H2O", "-r", "py:mdval.testing:fails_to_load"], "load"),
        (["--model", "ani:1x?dtype=float16", "--structure", "H2O"], "float32, float64"),
        (["--model", "orb:/no/such.ckpt", "--structure", "H2O"], "mdval[orb]"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(tmp_path: Path, args: list[str], needle: str) -> None:
    code, output = invoke("run", *args, "--duration-ps", "0.01", "--out", str(tmp_path / "x"))
    assert code == 2, output
    assert needle.lower() in output.lower()
    assert "Traceback" not in output
    assert not (tmp_path / "x").exists()  # nothing left behind


@pytest.mark.parametrize(
    ("filename", "content", "needle"),
    [
        ("empty.xyz", "", "empty"),
        ("garbage.xyz", "this is not\na structure file\n", "garbage.xyz"),
        ("close.xyz", "2\n\nH 0 0 0\nH 0 0 0.1\n", "0.1"),
    ],
)
def test_bad_structure_files_exit_2(
    tmp_path: Path, filename: str, content: str, needle: str
) -> None:
    path = tmp_path / filename
    path.write_text(content)
    code, output = invoke("run", "--model", "lj", "--structure", str(path), "--duration-ps", "0.01")
    assert code == 2, output
    assert needle.lower() in output.lower()


def test_too_many_atoms_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDVAL_MAX_ATOMS", "10")
    get_settings.cache_clear()
    code, output = invoke("run", "--model", "emt", "--structure", "cu-fcc", "--duration-ps", "0.01")
    assert code == 2, output
    assert "32" in output and "10" in output


def test_a_short_teacher_self_run_exits_3_and_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GFN2-xTB against itself for 1 ps: nothing fails (no crash on a 3-atom molecule, zero
    force error), but 1 ps cannot show the 5 ps of stability m6 asks for: inconclusive."""
    monkeypatch.setenv("MDVAL_CONTROL_CACHE_DIR", str(tmp_path / "controls"))
    get_settings.cache_clear()
    code, output = invoke(
        "run", "--model", "gfn2-xtb", "--structure", "H2O", "--reference", "gfn2-xtb",
        "--duration-ps", "1", "--out", str(tmp_path / "run"), "--quiet",
    )  # fmt: skip
    assert code == 3, output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["verdict"] == "inconclusive"
    assert summary["control"]["is_self"] is True and summary["control"]["valid"] is True
    duration = next(c for c in summary["criteria"] if c["name"] == "stable_duration")
    assert duration["level"] == "inconclusive" and "≥ 5 ps" in duration["note"]
    assert summary["recommendation"]["level"] == "inconclusive"
    assert "needs a run that can reach ≥ 5 ps" in summary["recommendation"]["evidence"][0]
    # its own control: nothing else ran, and the run itself is cached as the cell's control
    cached = list((tmp_path / "controls").glob("*/summary.json"))
    assert len(cached) == 1
    assert json.loads(cached[0].read_text())["metrics"] == summary["metrics"]


def test_an_unexpected_error_exits_4_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """An internal error is exit 4 with a one-line message, never a traceback with 1."""
    import mdval.cli.run as run_cli

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(run_cli, "execute", boom)
    code, output = invoke("run", "--model", "emt", "--structure", "cu-fcc")
    assert code == 4
    assert "internal error: RuntimeError: disk on fire" in output
    assert "Traceback" not in output


def test_a_teacher_self_run_becomes_the_control_students_reuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference against itself is its cell's control: a model judged in that cell later
    finds it in the cache instead of running the reference again."""
    monkeypatch.setenv("MDVAL_CONTROL_CACHE_DIR", str(tmp_path / "controls"))
    get_settings.cache_clear()
    cell = ["--structure", "cu-fcc", "--duration-ps", "0.02", "--timestep-fs", "2",
            "--equilibration-ps", "0", "--record-every", "1", "--quiet"]  # fmt: skip
    code, output = invoke(
        "run", "--model", "emt", "--reference", "emt", "--out", str(tmp_path / "t"), *cell
    )
    assert code in (0, 3), output
    cached = list((tmp_path / "controls").glob("*/control.json"))
    assert len(cached) == 1
    code, output = invoke(
        "run", "--model", "lj", "--reference", "emt", "--out", str(tmp_path / "s"), *cell
    )
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["control"]["location"] == str(cached[0].parent)
    assert summary["control"]["is_self"] is False
    assert len(list((tmp_path / "controls").glob("*/control.json"))) == 1  # nothing new ran


def test_the_recommendation_line_says_its_level_once() -> None:
    from mdval.cli.render import recommendation_line

    line = recommendation_line({"level": "inconclusive", "evidence": ["inconclusive — needs 5 ps"]})
    assert line.count("inconclusive") == 1
    line = recommendation_line({"level": "production", "evidence": ["rule 1 (production): ok"]})
    assert line.endswith("production — rule 1 (production): ok")
