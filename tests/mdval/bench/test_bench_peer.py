"""The TorchSim peer arm of `mdval bench` (issue 15): skipped with a message where TorchSim is
absent, the mdval ÷ TorchSim rows and targets from known records, and — where TorchSim is
installed (the [bench] extra) — the same trajectory as mdval's engine from the same start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mdval.bench import QUICK, run_suite
from mdval.bench.analysis import peer_rows, summarise
from mdval.bench.records import BenchRecord
from mdval.bench.suite import with_dtypes
from mdval.bench.tables import to_markdown
from mdval.bench.torchsim_arm import unavailable
from mdval.potentials.testing import export_test_potential


def _rec(engine: str, replicas: int, step_ms: float, **extra: object) -> BenchRecord:
    atoms_steps = 22 * replicas * 100
    return BenchRecord(
        model="zoo:tiny?dtype=float32",
        structure="alanine-dipeptide",
        n_atoms=22,
        engine=engine,
        replicas=replicas,
        device="cpu",
        inference_ms_per_step=step_ms * 0.95,
        step_ms=step_ms,
        harness_overhead=1 / 0.95 - 1,
        throughput_atom_steps_per_s=atoms_steps / (step_ms * 100 / 1000),
        peak_memory_MB=1.0,
        experiment="peer",
        extra={"dtype": "float32", **extra},
    )


def test_peer_rows_and_targets_from_known_records() -> None:
    records = [
        _rec("torch", 1, 2.0, cpu_ms_per_step=2.0),
        _rec("torchsim", 1, 2.5, cpu_ms_per_step=2.2, max_dr_A=1.5e-6, max_dr_steps=100),
        _rec("torch", 8, 10.0),
        _rec("torchsim", 8, 9.0),
    ]
    rows = {r["replicas"]: r for r in peer_rows(records)}
    assert rows[1]["mdval_over_torchsim"] == pytest.approx(1.25)
    assert rows[1]["mdval_over_torchsim_cpu"] == pytest.approx(1.1)
    assert rows[8]["mdval_over_torchsim"] == pytest.approx(0.9)
    assert rows[8]["mdval_over_torchsim_cpu"] is None and rows[1]["dtype"] == "float32"
    summary = summarise(records, ["zoo:tiny?dtype=float32"], None, "alanine-dipeptide")
    met = {t["target"]: t["met"] for t in summary["targets"] if "TorchSim" in t["target"]}
    assert sorted(met.values()) == [False, True]
    doc = {
        "records": [r.to_dict() for r in records],
        "summary": summary,
        "context": {
            "device_name": "cpu",
            "cpu_count": 2,
            "device": "cpu",
            "torch_version": torch.__version__,
            "torch_threads": 1,
            "peer": {"engine": "torchsim", "version": "0.3.0"},
        },
        "wall_s": 1.0,
    }
    text = to_markdown(doc)
    assert "### mdval vs TorchSim" in text and "| zoo:tiny?dtype=float32 | float32 | 1 |" in text
    assert "1.5e-06 Å" in text


def test_with_dtypes_expands_each_torch_model() -> None:
    assert with_dtypes(("zoo:tiny", "m.pt?dtype=float32"), ("float64", "float32")) == (
        "zoo:tiny",
        "zoo:tiny?dtype=float32",
        "m.pt?dtype=float32",
    )


def test_suite_runs_the_peer_arm_or_says_why_not(tmp_path: Path) -> None:
    """Without TorchSim: a message and no TorchSim records, no crash. With it (the [bench]
    extra): interleaved TorchSim records and the correctness line in the report."""
    model = str(export_test_potential(tmp_path / "morse.pt"))
    plan = replace(
        QUICK,
        models=(model,),
        teacher=None,
        replicas=(1,),
        n_steps=5,
        warmup=1,
        warmup_calls=2,
        bare_calls=3,
        peer_replicas=(1, 2),
        peer_rounds=2,
        peer_budget_s=0.02,
        peer_check_steps=10,
    )
    lines: list[str] = []
    report = run_suite(plan, progress=lines.append)
    text = to_markdown(report.to_dict())
    peer = [r for r in report.records if r.engine == "torchsim"]
    if unavailable() is not None:
        assert "mdval[bench]" in report.context["peer"]["skipped"]
        assert any(line.startswith("peer arm skipped") for line in lines)
        assert not peer and "Peer arm skipped" in text
        return
    assert sorted(r.replicas for r in peer) == [1, 2]
    assert all(r.extra["rounds"] == 2 and r.experiment == "peer" for r in peer)
    rows = report.summary["peer"]
    assert [r["replicas"] for r in rows] == [1, 2] and rows[0]["max_dr_A"] < 1e-10
    assert rows[0]["mdval_over_torchsim"] > 0 and "### mdval vs TorchSim" in text


def test_torchsim_follows_the_same_trajectory_from_the_same_start() -> None:
    pytest.importorskip("torch_sim")
    from mdval.bench.systems import structure
    from mdval.bench.torchsim_arm import max_position_difference_A, torchsim_engine
    from mdval.md.torch_engine.model import ForceModel
    from mdval.potentials.registry import resolve_potential

    atoms = structure("alanine-dipeptide")
    model = ForceModel.from_entry(resolve_potential("zoo:ultra-tiny"), "cpu")
    assert max_position_difference_A(model, atoms, n_steps=30) < 1e-10
    rec = torchsim_engine(model, "zoo:ultra-tiny", atoms, replicas=2, n=5, warmup=1)
    assert rec.engine == "torchsim" and rec.replicas == 2 and rec.step_ms and rec.step_ms > 0
    assert rec.extra["state_dtype"] == "float64" and rec.extra["cpu_ms_per_step"] > 0
