"""The protocol end to end on potentials whose behaviour is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from mdval.md.listener import RunListener, ThermoRecord
from mdval.testing import BrokenAfter, HarmonicPairs
from tests.mdval.md.conftest import RunFn, emt


def test_same_seed_gives_identical_thermo_csv(run_on: RunFn, copper: Atoms, tmp_path: Path) -> None:
    kw = dict(duration_ps=0.02, timestep_fs=1.0, record_every=2, frame_every=5, seed=7)
    run_on(copper, emt, out=tmp_path / "a", **kw)
    run_on(copper, emt, out=tmp_path / "b", **kw)
    run_on(copper, emt, out=tmp_path / "c", **{**kw, "seed": 8})
    a, b, c = ((tmp_path / d / "thermo.csv").read_text() for d in "abc")
    assert a == b
    assert a != c
    assert a.splitlines()[0].startswith("step,time_ps,phase,epot_eV,ekin_eV,etot_eV,temperature_K")


def test_outputs_and_summary_keys(run_on: RunFn, copper: Atoms, tmp_path: Path) -> None:
    result = run_on(
        copper,
        emt,
        out=tmp_path,
        duration_ps=0.02,
        timestep_fs=1.0,
        record_every=2,
        frame_every=5,
        reference=emt,
        reference_every=5,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert result.status == summary["status"] == "completed"
    for key in (
        "time_to_failure_ps",
        "failure_reason",
        "metrics",
        "criteria",
        "verdict",
        "recommendation",
        "provenance",
    ):
        assert key in summary
    m = summary["metrics"]
    # the model is its own reference: zero error, perfect R²
    assert m["force_rmse_eV_per_A"] == 0.0
    assert m["force_r2"] == 1.0
    assert m["n_reference_frames"] == 5  # steps 0, 5, 10, 15, 20
    assert m["pressure_mean_GPa"] is not None  # EMT gives a stress for the periodic cell
    frames = (tmp_path / "trajectory.extxyz").read_text().count("Lattice=")
    assert frames == 5
    prov = summary["provenance"]
    assert prov["seed"] == 0 and prov["n_atoms"] == 32 and prov["device"] == "cpu"
    assert {c["metric"] for c in summary["criteria"]} >= {"drift_percent", "force_rmse_eV_per_A"}


def test_initial_temperature_is_exact_and_momentum_zero(run_on: RunFn, water: Atoms) -> None:
    result = run_on(
        water,
        lambda d: HarmonicPairs(k_eV_per_A2=5.0, r0_A=1.2),
        duration_ps=0.005,
        timestep_fs=0.5,
        temperature_K=250.0,
        record_every=1,
    )
    first = result.thermo[0]
    assert first.temperature_K == pytest.approx(250.0, rel=1e-12)
    assert result.summary["metrics"]["n_dof"] == 3  # 3N - 6 for a bent triatomic


@pytest.mark.physics
def test_velocity_verlet_energy_error_scales_with_dt_squared(run_on: RunFn) -> None:
    """Harmonic O2-like diatomic: halving dt cuts the E_tot fluctuation about 4×."""
    atoms = Atoms("O2", positions=[(0, 0, 0), (0, 0, 1.25)])
    spread = []
    for dt in (1.0, 0.5):
        result = run_on(
            atoms,
            lambda d: HarmonicPairs(k_eV_per_A2=40.0, r0_A=1.2),
            duration_ps=0.5,
            timestep_fs=dt,
            record_every=1,
            temperature_K=600.0,
        )
        etot = np.array([r.etot_eV for r in result.thermo])
        spread.append(etot.std())
    assert 3.5 < spread[0] / spread[1] < 4.5


@pytest.mark.parametrize(
    ("mode", "reason_word"),
    [("nan", "non-finite"), ("explode", "force"), ("raise", "potential raised")],
)
def test_broken_potential_is_reported_crashed(
    run_on: RunFn, copper: Atoms, mode: str, reason_word: str
) -> None:
    result = run_on(
        copper,
        lambda d: BrokenAfter(emt(), 20, mode),
        duration_ps=0.1,
        timestep_fs=1.0,
        record_every=1,
    )
    s = result.summary
    assert result.status == s["status"] == "crashed"
    assert s["verdict"] == "fail"
    assert reason_word in s["failure_reason"].lower()
    # 20 good calls: the initial one and steps 1..19; the first bad one is step 20 (20 fs)
    assert s["time_to_failure_ps"] == pytest.approx(0.020)
    assert s["metrics"]["stable_duration_ps"] == pytest.approx(0.020)
    assert s["metrics"]["crashed"] is True
    # a crashed run keeps its timings
    assert s["metrics"]["inference_ms_per_step"] is not None
    assert s["metrics"]["step_ms"] is not None


def test_crash_time_is_exact_to_the_step_whatever_the_record_interval(run_on: RunFn) -> None:
    """A NaN at step 3 is reported at step 3 with record_every 10 (not rounded up to 10)."""
    atoms = Atoms("H2O", positions=[(0, 0, 0), (0.96, 0, 0), (-0.24, 0.93, 0)])
    result = run_on(
        atoms,
        lambda d: BrokenAfter(HarmonicPairs(k_eV_per_A2=5.0, r0_A=1.0), 3, "nan"),
        duration_ps=0.05,
        timestep_fs=1.0,
        record_every=10,
    )
    s = result.summary
    assert s["status"] == "crashed" and "non-finite" in s["failure_reason"]
    assert s["time_to_failure_ps"] == pytest.approx(0.003)
    assert s["metrics"]["inference_ms_per_step"] is not None


def test_reference_raising_on_frames_skips_them(run_on: RunFn, copper: Atoms) -> None:
    """A reference that raises (an SCF that does not converge) costs frames, not the run."""
    result = run_on(
        copper,
        emt,
        reference=lambda d: BrokenAfter(emt(), 2, "raise"),
        duration_ps=0.02,
        timestep_fs=1.0,
        record_every=2,
        reference_every=5,
    )
    s = result.summary
    assert s["status"] == "completed"
    m = s["metrics"]
    assert m["n_reference_frames"] == 2  # steps 0 and 5; steps 10, 15, 20 raise
    assert m["n_reference_frames_skipped"] == 3
    assert m["reference_skipped_fraction"] == pytest.approx(0.6)
    assert m["force_rmse_eV_per_A"] is not None
    force = next(c for c in s["criteria"] if c["name"] == "force_rmse")
    assert force["level"] == "inconclusive" and "reference frames" in force["note"]
    assert any("reference raised on 3" in w for w in s["warnings"])


def test_cancel_between_steps(run_on: RunFn, copper: Atoms) -> None:
    class CancelAfter(RunListener):
        def __init__(self) -> None:
            self.seen: list[ThermoRecord] = []

        def on_thermo(self, record: ThermoRecord) -> None:
            self.seen.append(record)

        def should_cancel(self) -> bool:
            return len(self.seen) >= 3

    listener = CancelAfter()
    result = run_on(
        copper, emt, duration_ps=1.0, timestep_fs=1.0, record_every=5, listener=listener
    )
    assert result.status == "cancelled"
    assert [r.step for r in listener.seen] == [0, 5, 10]
    # a cancelled run decides nothing it did not reach; it reports the time it reached
    assert result.summary["verdict"] == "inconclusive"
    assert result.summary["stopped_at_ps"] == pytest.approx(0.010)
    assert result.summary["metrics"]["stable_duration_ps"] == pytest.approx(0.010)


def test_equilibration_then_production(run_on: RunFn, copper: Atoms) -> None:
    result = run_on(
        copper,
        emt,
        duration_ps=0.01,
        equilibration_ps=0.01,
        timestep_fs=1.0,
        record_every=5,
        temperature_K=500.0,
    )
    phases = [(r.phase, r.step) for r in result.thermo]
    assert phases == [
        ("equilibration", 0),
        ("equilibration", 5),
        ("equilibration", 10),
        ("production", 0),
        ("production", 5),
        ("production", 10),
    ]
    # every record carries the time of the call behind its forces, also a phase's first,
    # whose forces the previous phase computed (it was NaN: SQLite stores NaN as NULL)
    assert all(np.isfinite(r.inference_ms) and r.inference_ms > 0 for r in result.thermo)


def test_forces_that_are_not_the_gradient_of_the_energy_are_caught(
    run_on: RunFn, copper: Atoms
) -> None:
    """Perfect forces, inconsistent energy: force criteria pass, the energy criteria fail."""
    from mdval.testing import InconsistentEnergy

    result = run_on(
        copper,
        lambda d: InconsistentEnergy(emt(), energy_scale=1.5),
        reference=emt,
        duration_ps=0.2,
        timestep_fs=1.0,
        record_every=2,
        reference_every=20,
        temperature_K=300.0,
    )
    levels = {c["name"]: c["level"] for c in result.summary["criteria"]}
    assert levels["force_rmse"] == "target"
    assert levels["energy_fluctuation"] == "fail"
    assert result.summary["verdict"] == "fail"
    honest = run_on(copper, emt, duration_ps=0.2, timestep_fs=1.0, record_every=2)
    assert {c["name"]: c["level"] for c in honest.summary["criteria"]}["energy_fluctuation"] == (
        "target"
    )


@pytest.mark.physics
@pytest.mark.parametrize("temperature_K", [300.0, 500.0])
def test_defaults_simulate_the_requested_temperature(temperature_K: float) -> None:
    """With the defaults (1 ps NVT, energy-matched NVE start, 5 ps of NVE at 0.5 fs) alanine
    dipeptide runs at the requested T: production mean within ±5 %, first record exact."""
    from mdval.md.config import RunConfig
    from mdval.md.protocol import run_validation

    config = RunConfig(
        model="zoo:original", structure="alanine-dipeptide", temperature_K=temperature_K
    )
    result = run_validation(config)
    assert result.thermo[0].phase == "equilibration"
    assert result.thermo[0].temperature_K == pytest.approx(temperature_K, rel=1e-3)
    metrics = result.summary["metrics"]
    assert metrics["temperature_mean_K"] == pytest.approx(temperature_K, rel=0.05)
    assert metrics["n_dof"] == 3 * 22 - 3  # the thermostat re-thermalises rotation
    assert result.summary["warnings"] == []
