"""``mdval control``: the reference's controls of a suite's cells, computed and cached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mdval.cli.main import app
from mdval.settings import get_settings

SUITE = """name: two-cells
structures: [H2O, CH4]
temperatures_K: [300]
timesteps_fs: [0.5]
durations_ps: [0.1]
seeds: 1
equilibration_ps: 0.0
reference: gfn2-xtb
profile: m6
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MDVAL_CONTROL_CACHE_DIR", str(tmp_path / "controls"))
    get_settings.cache_clear()
    yield tmp_path / "controls"
    get_settings.cache_clear()


def test_a_suites_controls_are_run_once_and_then_found(tmp_path: Path, cache: Path) -> None:
    """The reference's own cells are controls too (a run of the reference needs none, but
    the command is there to compute them): both run, are valid and cached; a second call
    finds them and runs nothing."""
    suite = tmp_path / "two-cells.yaml"
    suite.write_text(SUITE)
    args = ["control", "--reference", "gfn2-xtb", "--suite", str(suite)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    markers = sorted(cache.glob("*/control.json"))
    assert len(markers) == 2
    for cell in ("H2O_300K_0.5fs", "CH4_300K_0.5fs"):  # the table may cut the names
        row = next(line for line in first.output.splitlines() if cell in line)
        assert "yes" in row and "protocol invalid" not in row
    summaries = [json.loads((m.parent / "summary.json").read_text()) for m in markers]
    assert all(s["status"] == "completed" for s in summaries)
    stamps = [m.stat().st_mtime_ns for m in markers]
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert [m.stat().st_mtime_ns for m in sorted(cache.glob("*/control.json"))] == stamps
