"""Mixed precision (issue 15): ``zoo:NAME?dtype=float32`` runs the model in float32 while the
integrator keeps positions, momenta and energy sums in float64; the dtype is part of the
model's identity. And the host allocator keeps a model's freed buffers between steps."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from mdval.bench.systems import structure
from mdval.criteria.profile import load_profile
from mdval.errors import PotentialError
from mdval.md.torch_engine import host_memory
from mdval.md.torch_engine.batch import run_batch
from mdval.md.torch_engine.model import ForceModel
from mdval.metrics.energy import energy_conservation
from mdval.potentials.registry import resolve_potential


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op thread, as docs/performance.md measures (a loaded 2-core CI machine
    runs torch's default two threads tens of times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_dtype_is_part_of_the_spec_and_the_identity() -> None:
    f64, f32 = resolve_potential("zoo:tiny"), resolve_potential("zoo:tiny?dtype=float32")
    assert resolve_potential("zoo:tiny?dtype=float64").sha256 == f64.sha256
    assert f64.spec == "zoo:tiny" and f32.spec == "zoo:tiny?dtype=float32"
    assert f32.sha256 != f64.sha256 and f32.extra["file_sha256"] == f64.sha256
    assert (f64.extra["dtype"], f32.extra["dtype"]) == ("float64", "float32")
    assert f32.describe()["dtype"] == "float32"
    assert getattr(f32.make_calculator("cpu"), "dtype", None) == torch.float32  # ASE engine
    for bad, why in (
        ("zoo:tiny?dtype=float16", "not allowed"),
        ("zoo:tiny?device=cpu", "one option"),
        ("zoo:tiny?dtype=float32&dtype=float64", "one option"),
    ):
        with pytest.raises(PotentialError, match=why):
            resolve_potential(bad)


def test_float32_model_returns_float64_forces_to_a_float64_state() -> None:
    model = ForceModel.from_entry(resolve_potential("zoo:tiny?dtype=float32"), "cpu")
    assert model.model_dtype == torch.float32
    atoms = structure("alanine-dipeptide")
    pos = torch.as_tensor(atoms.positions, dtype=torch.float64)
    z = torch.as_tensor(atoms.numbers)
    energies, forces = model(pos, z, torch.zeros(len(atoms), dtype=torch.int64), 1)
    assert energies.dtype == forces.dtype == torch.float64
    reference = ForceModel.from_entry(resolve_potential("zoo:tiny"), "cpu")
    e64, f64 = reference(pos, z, torch.zeros(len(atoms), dtype=torch.int64), 1)
    assert float((forces - f64).abs().max()) < 1e-3  # float32 rounding, not another model
    assert abs(float(energies[0] - e64[0])) < 1e-2


def _drift(spec: str, n_steps: int) -> dict[str, float | bool | None]:
    atoms = structure("alanine-dipeptide")
    result = run_batch(spec, [(atoms, 300.0, 7)], n_steps, 0.5, record_every=5)
    (replica,) = result.replicas
    assert replica.status == "completed", replica.reason
    rec = [r for r in replica.records if r.phase == "production"]
    return energy_conservation(
        [r.time_ps for r in rec], [r.etot_eV for r in rec], [r.ekin_eV for r in rec], len(atoms)
    )


@pytest.mark.physics
def test_float32_drift_on_alanine_dipeptide_within_the_criteria_of_a_float64_control() -> None:
    """0.5 ps NVE (1,000 steps of 0.5 fs) of zoo:original in float32 and in float64, same
    start: the float32 run meets every energy criterion of the m6 profile at its target,
    the excess criteria judged against the float64 run as the control."""
    start = time.perf_counter()
    control = _drift("zoo:original", 1000)
    mixed = _drift("zoo:original?dtype=float32", 1000)
    criteria = {c.name: c for c in load_profile("m6").criteria}

    def target(name: str) -> float:
        rows = criteria[name].thresholds("cpu")
        assert rows is not None
        return float(rows.target)

    for run in (control, mixed):
        assert run["drift_percent"] is not None and run["drift_percent"] < target("energy_drift")
    assert mixed["fluctuation_ratio"] is not None and control["fluctuation_ratio"] is not None
    excess = mixed["fluctuation_ratio"] - control["fluctuation_ratio"]
    assert excess < target("energy_fluctuation")
    assert mixed["max_deviation_percent"] is not None
    assert control["max_deviation_percent"] is not None
    deviation = mixed["max_deviation_percent"] - control["max_deviation_percent"]
    assert deviation < target("energy_max_deviation")
    print(f"float32 {mixed}\nfloat64 {control}\n{time.perf_counter() - start:.1f} s")


def test_model_buffers_are_not_refaulted_every_step() -> None:
    """With glibc's defaults a 32-replica step of zoo:tiny faults ~10,000 pages back in (the
    model's freed intermediates were trimmed); the engine keeps them: < 500 faults a step."""
    if host_memory.keep_freed_pages() != "tuned":
        pytest.skip(f"host allocator not tunable here ({host_memory.state()})")
    atoms = structure("alanine-dipeptide")
    model = ForceModel.from_entry(resolve_potential("zoo:tiny"), "cpu")
    systems = [(atoms, 300.0, seed) for seed in range(32)]
    run_batch(model, systems, 3, 0.5)  # warm: the heap grows to the step's peak once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    n_steps = 8
    run_batch(model, systems, n_steps, 0.5)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults / (n_steps + 1) < 500, f"{faults / (n_steps + 1):.0f} minor faults per step"
    assert np.isfinite(faults)
