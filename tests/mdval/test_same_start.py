"""One start check for every trajectory comparison (issue 14, item 3): structure, seed,
temperature, timestep, equilibration (and friction where both say it); the model is not
part of it. ``mdval compare`` refuses runs that differ and names the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from mdval.analysis.start import same_start, start_differences, start_of_config
from mdval.compare import compare_runs
from mdval.errors import InputError

CONFIG = {
    **{"seed": 1, "temperature_K": 300.0, "timestep_fs": 0.5, "equilibration_ps": 1.0},
    **{"friction_per_ps": 1.0, "model": "zoo:tiny"},
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", 2),
        ("temperature_K", 400.0),
        ("timestep_fs", 1.0),
        ("equilibration_ps", 0.0),
        ("friction_per_ps", 0.5),
    ],
)
def test_each_start_field_counts(field: str, value: Any) -> None:
    a = start_of_config(7, CONFIG)
    b = start_of_config(7, {**CONFIG, field: value})
    assert not same_start(a, b)
    assert [d.split(":")[0] for d in start_differences(a, b)] == [field]


def test_the_model_and_a_missing_friction_do_not_count() -> None:
    a = start_of_config(7, CONFIG)
    assert same_start(a, start_of_config(7, {**CONFIG, "model": "gfn2-xtb"}))
    assert same_start(a, start_of_config(7, {**CONFIG, "friction_per_ps": None}))
    assert not same_start(a, start_of_config(8, CONFIG))  # another structure
    assert same_start(a, start_of_config(7, {**CONFIG, "temperature_K": 300.0 + 1e-12}))


def _run_dir(path: Path, *, temperature_K: float) -> Path:
    path.mkdir()
    provenance = {
        "structure_sha256": "abc",
        "seed": 1,
        "protocol": {"timestep_fs": 0.5, "temperature_K": temperature_K, "equilibration_ps": 0.0},
    }
    (path / "summary.json").write_text(json.dumps({"provenance": provenance}))
    frames = []
    for k in range(2):
        atoms = Atoms("H2", positions=np.array([[0.0, 0.0, 0.0], [0.74 + 0.01 * k, 0.0, 0.0]]))
        atoms.info["time_ps"] = 0.01 * k
        frames.append(atoms)
    write(path / "trajectory.extxyz", frames, format="extxyz")
    return path


def test_mdval_compare_refuses_another_temperature(tmp_path: Path) -> None:
    a = _run_dir(tmp_path / "a", temperature_K=300.0)
    same = _run_dir(tmp_path / "b", temperature_K=300.0)
    hot = _run_dir(tmp_path / "c", temperature_K=500.0)
    assert compare_runs(a, same)["rmsd_A"][0] == pytest.approx(0.0)
    with pytest.raises(InputError, match=r"temperature_K: 300\.0 vs 500\.0"):
        compare_runs(a, hot)
