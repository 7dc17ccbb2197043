"""Runs as replicas of one batch: the same results as alone, their own outputs, one key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ase import Atoms
from ase.build import molecule
from ase.io import write
from ase.optimize import BFGS

from mdval.errors import InputError
from mdval.md.batch_protocol import batch_key, run_validations
from mdval.md.config import RunConfig
from mdval.md.listener import RunListener
from mdval.md.protocol import run_validation
from mdval.potentials.testing import export_test_potential, morse_calculator

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The Morse test potential and H2O, CH4 and CH3OH at its minima, as files."""
    root = tmp_path_factory.mktemp("batch")
    out = {"model": str(export_test_potential(root / "morse.pt"))}
    for name in ("H2O", "CH4", "CH3OH"):
        atoms: Atoms = molecule(name)
        atoms.rattle(0.05, seed=1)
        atoms.calc = morse_calculator()
        BFGS(atoms, logfile=None).run(fmax=1e-3, steps=1000)
        atoms.calc = None
        write(root / f"{name}.xyz", atoms)
        out[name] = str(root / f"{name}.xyz")
    return out


def _configs(files: dict[str, str], **common: object) -> list[RunConfig]:
    base = dict(
        model=files["model"],
        timestep_fs=0.5,
        duration_ps=0.03,
        equilibration_ps=0.01,
        device="cpu",
        record_every=5,
        frame_every=20,
        reference_every=20,
    )
    base.update(common)
    return [
        RunConfig(structure=files["H2O"], temperature_K=300.0, seed=1, **base),  # type: ignore[arg-type]
        RunConfig(structure=files["CH4"], temperature_K=500.0, seed=2, **base),  # type: ignore[arg-type]
        RunConfig(structure=files["CH3OH"], temperature_K=100.0, seed=3, **base),  # type: ignore[arg-type]
    ]


def test_each_batched_run_equals_the_run_alone(files: dict[str, str], tmp_path: Path) -> None:
    configs = _configs(files, reference=files["model"])
    dirs = [tmp_path / f"r{k}" for k in range(3)]
    batched = run_validations(configs, out_dirs=dirs)
    for config, out_dir, together in zip(configs, dirs, batched, strict=True):
        alone = run_validation(config, out_dir=tmp_path / "alone")
        assert together.status == alone.status == "completed"
        assert [(r.phase, r.step) for r in together.thermo] == [
            (r.phase, r.step) for r in alone.thermo
        ]
        for a, b in zip(together.thermo, alone.thermo, strict=True):
            assert a.etot_eV == pytest.approx(b.etot_eV, abs=1e-9)
            assert a.temperature_K == pytest.approx(b.temperature_K, abs=1e-6)
        m, n = together.summary["metrics"], alone.summary["metrics"]
        for key in ("drift_meV_per_atom_per_ps", "fluctuation_ratio", "n_dof"):
            assert m[key] == pytest.approx(n[key], rel=1e-7, abs=1e-9), key
        # the reference is the model itself: every force error is zero, as alone
        assert m["force_rmse_eV_per_A"] == pytest.approx(0.0, abs=1e-9)
        assert len(together.force_errors) == len(alone.force_errors) > 0
        assert together.summary["verdict"] == alone.summary["verdict"]
        # the timings are the batch's, with its size next to them
        assert m["batch_size"] == together.summary["provenance"]["batch_size"] == 3
        assert m["inference_ms_per_replica_step"] == pytest.approx(m["inference_ms_per_step"] / 3)
        assert alone.summary["provenance"]["batch_size"] == 1
        # and every run has its own outputs
        written = json.loads((out_dir / "summary.json").read_text())
        assert written["config"]["structure"] == config.structure
        assert (out_dir / "thermo.csv").is_file()
        assert (out_dir / "trajectory.extxyz").is_file()


def test_a_cancelled_replica_stops_alone(files: dict[str, str]) -> None:
    class CancelAtOnce(RunListener):
        def should_cancel(self) -> bool:
            return True

    listeners = [RunListener(), CancelAtOnce(), RunListener()]
    results = run_validations(_configs(files), listeners=listeners)
    assert [r.status for r in results] == ["completed", "cancelled", "completed"]
    assert results[1].summary["failure_phase"] == "equilibration"
    assert results[1].summary["verdict"] == "inconclusive"  # cancelled: decides nothing
    assert results[0].summary["metrics"]["stable_duration_ps"] == pytest.approx(0.03)


def test_batch_key_names_what_a_batch_shares(files: dict[str, str]) -> None:
    a, b, c = _configs(files)
    assert batch_key(a) == batch_key(b) == batch_key(c) is not None
    assert batch_key(a.model_copy(update={"timestep_fs": 1.0})) != batch_key(a)
    assert batch_key(a.model_copy(update={"engine": "ase"})) is None
    assert batch_key(a.model_copy(update={"reference": "emt", "frame_every": 7})) == batch_key(a)


def test_runs_that_cannot_share_a_batch_are_refused(files: dict[str, str]) -> None:
    a, b, _ = _configs(files)
    with pytest.raises(InputError, match="must share"):
        run_validations([a, b.model_copy(update={"timestep_fs": 0.25})])
    with pytest.raises(InputError, match="torch potential"):
        run_validations([a.model_copy(update={"model": "lj"})])
    with pytest.raises(InputError, match="at least one"):
        run_validations([])
