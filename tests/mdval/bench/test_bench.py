"""`mdval bench`: the quick plan end to end, and the analysis on known numbers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from mdval.bench import RECORD_KEYS
from mdval.bench.analysis import crossover, summarise
from mdval.bench.records import BenchRecord
from mdval.bench.systems import water_cluster
from mdval.cli.bench import bench
from mdval.potentials.testing import export_test_potential


@pytest.fixture(scope="module")
def morse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_test_potential(tmp_path_factory.mktemp("ts") / "morse.pt")


def _app() -> typer.Typer:
    """`bench` as the lead registers it in mdval.cli.main (a command of a multi-command app)."""
    app = typer.Typer()
    app.command()(bench)

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


def test_quick_bench_prints_valid_json_records_with_every_key(
    morse_file: Path, tmp_path: Path
) -> None:
    start = time.perf_counter()
    result = CliRunner().invoke(
        _app(),
        [
            "bench",
            "--quick",
            "--model",
            str(morse_file),
            "--no-teacher",
            "--no-peer",  # the TorchSim arm: tests/mdval/bench/test_bench_peer.py
            "--plots",
            str(tmp_path),
            "--markdown",
            str(tmp_path / "bench.md"),
        ],
    )
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert elapsed < 60
    text = result.stdout
    doc = json.loads(text[text.index("{") : text.rindex("}") + 1])
    records = doc["records"]
    assert {r["engine"] for r in records} == {"ase", "torch", "bare"}
    assert {r["replicas"] for r in records} == {1, 4, 16}
    for rec in records:
        missing = [k for k in RECORD_KEYS if k not in rec]
        assert not missing, f"record lacks {missing}"
        assert rec["n_atoms"] == 22 and rec["device"] == "cpu"
        assert rec["inference_ms_per_step"] > 0
        assert rec["throughput_atom_steps_per_s"] > 0
        assert rec["threads"] >= 1 and rec["torch_version"]
        if rec["engine"] == "bare":
            assert rec["step_ms"] is None and rec["harness_overhead"] is None
        else:
            assert rec["step_ms"] > 0 and rec["harness_overhead"] is not None
    assert doc["context"]["device_name"]
    assert doc["summary"]["harness_overhead"][str(morse_file)]["torch"] is not None
    assert (tmp_path / "bench.html").read_text().count("plotly") > 0
    assert "### Single system" in (tmp_path / "bench.md").read_text()


def test_bench_rejects_bad_input() -> None:
    result = CliRunner().invoke(_app(), ["bench", "--quick", "--replicas", "1,x"])
    assert result.exit_code == 2
    result = CliRunner().invoke(_app(), ["bench", "--quick", "--model", "emt", "--no-teacher"])
    assert result.exit_code == 2
    assert "needs a torch potential" in result.output
    for option, value, why in (
        ("--peer-rounds", "0", "--peer-rounds must be at least 1"),
        ("--rounds", "0", "--rounds must be at least 1"),
        ("--peer-seconds", "0", "--peer-seconds must be positive"),
    ):
        result = CliRunner().invoke(_app(), ["bench", "--quick", option, value])
        assert result.exit_code == 2, result.output
        assert why in result.output


def test_crossover_interpolates_in_log_log() -> None:
    # model cost grows linearly, teacher cost cubically; equal at 50 atoms
    sizes = [20, 100, 300]
    model = [n * 1.0 for n in sizes]
    teacher = [50.0 * (n / 50.0) ** 3 for n in sizes]
    assert crossover(sizes, model, teacher) == pytest.approx(50.0, rel=1e-6)
    assert crossover(sizes, [1.0] * 3, [2.0] * 3) == "below 20"
    assert crossover(sizes, [3.0] * 3, [2.0] * 3) == "above 300"


def _rec(model: str, engine: str, inf: float, step: float | None, **kw: object) -> BenchRecord:
    values: dict[str, object] = dict(
        model=model,
        structure="alanine-dipeptide",
        n_atoms=22,
        engine=engine,
        replicas=1,
        device="cpu",
        inference_ms_per_step=inf,
        step_ms=step,
        harness_overhead=None if step is None else step / inf - 1,
        throughput_atom_steps_per_s=1.0,
        peak_memory_MB=1.0,
        experiment="single",
    )
    values.update(kw)
    return BenchRecord(**values)  # type: ignore[arg-type]


def test_summary_speedups_targets_and_crossover() -> None:
    records = [
        _rec("big", "bare", 8.0, None),
        _rec("big", "torch", 8.0, 9.0),
        _rec("big", "ase", 8.5, 9.5),
        _rec("small", "bare", 2.0, None),
        _rec("small", "torch", 2.0, 2.4),
        _rec("small", "ase", 2.5, 3.5),
        _rec("big", "bare", 100.0, None, replicas=64, experiment="batch"),
        _rec("big", "torch", 100.0, 105.0, replicas=64, experiment="batch"),
        _rec("big", "torch", 10.0, 10.0, n_atoms=22, experiment="size"),
        _rec("big", "torch", 40.0, 40.0, n_atoms=100, experiment="size"),
        _rec("xtb", "ase", 8.0, 8.0, n_atoms=22, experiment="size"),
        _rec("xtb", "ase", 200.0, 200.0, n_atoms=100, experiment="size"),
    ]
    s = summarise(records, ["big", "small"], "xtb", "alanine-dipeptide")
    assert s["speedups"]["small vs big"]["torch"]["step"] == pytest.approx(9.0 / 2.4)
    assert s["speedups"]["small vs big"]["ase"]["step"] == pytest.approx(9.5 / 3.5)
    assert s["harness_overhead"]["small"]["torch"] == pytest.approx(0.2)
    assert s["batch_scaling"]["big"][0]["engine_vs_bare"] == pytest.approx(0.05)
    met = {t["target"]: t["met"] for t in s["targets"]}
    assert met["torch engine harness_overhead <= 0.25 (big, single)"] is True
    assert met["torch engine harness_overhead <= 0.25 (small, single)"] is True
    assert met["big cheaper per step than xtb from 50 atoms up"] is True
    cross = s["cost_vs_size"]["crossover_atoms"]["big"]["step_ms"]
    assert 22 < cross < 100


def test_water_clusters_are_compact_and_sane() -> None:
    for n in (1, 17, 100):
        atoms = water_cluster(n)
        assert (
            len(atoms) == 3 * n and atoms.get_chemical_formula() == f"H{2 * n}O{n if n > 1 else ''}"
        )
        d = atoms.get_all_distances()
        np.fill_diagonal(d, np.inf)
        assert d.min() > 0.9
    assert np.array_equal(water_cluster(33).positions, water_cluster(33).positions)


def test_merged_rounds_keep_each_rounds_overhead_paired() -> None:
    """The host's speed moves between rounds: the overhead of the merged record is the
    median of the rounds' own ratios (steps and calls of one round), not the ratio of
    medians taken from different rounds (here 2.02 / 1.90 - 1 = 0.063)."""
    from mdval.bench.suite import _merge

    rounds = [(2.00, 1.90), (2.02, 1.80), (2.10, 2.00)]  # (step ms, call ms)
    recs = [_rec("zoo:tiny", "torch", call, step, n_steps=100) for step, call in rounds]
    merged = _merge(recs)
    assert merged.step_ms == 2.02 and merged.inference_ms_per_step == 1.90
    assert merged.harness_overhead == pytest.approx(2.00 / 1.90 - 1.0)  # the median round's
    assert merged.extra["harness_overhead_per_round"] == [r.harness_overhead for r in recs]
    assert merged.extra["inference_ms_per_step_per_round"] == [1.90, 1.80, 2.00]
    assert merged.n_steps == 300
