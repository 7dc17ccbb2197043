"""Assemble ``summary.json``: metrics, criteria, verdict, recommendation, provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from mdval import __version__
from mdval.criteria import RunOutcome, evaluate, load_profile, recommend, verdict
from mdval.md.config import RunConfig
from mdval.md.engine import PhaseTiming
from mdval.md.listener import ThermoRecord
from mdval.metrics.energy import energy_conservation
from mdval.metrics.forces import force_accuracy
from mdval.metrics.timing import device_info, harness_overhead, throughput_atom_steps_per_s
from mdval.structures import describe_structure

if TYPE_CHECKING:
    from mdval.md.observers import ReferenceEvaluator
    from mdval.md.prepare import PreparedRun


_THERMOSTATS = {
    "ase": "Langevin (ase.md.langevin, COM fixed)",
    "torch": "Langevin BAOAB (torch engine, COM momentum removed)",
}


@dataclass(frozen=True)
class Outcome:
    """How the run ended. ``time_ps`` is simulated time from the start of the run."""

    status: str
    reason: str | None = None
    time_ps: float | None = None
    phase: str | None = None


@dataclass(frozen=True)
class BatchShare:
    """A run that was one replica of a batch: the batch's size and atoms, all replicas.

    Timings of a batched run are the batch's (METRICS.md: one energy+forces evaluation is
    one call of the model on the whole batch; throughput counts all replicas together), with
    the batch size recorded next to them.
    """

    size: int
    n_atoms: int


def build_summary(
    *,
    config: RunConfig,
    run: PreparedRun,
    outcome: Outcome,
    records: list[ThermoRecord],
    evaluator: ReferenceEvaluator | None,
    timings: dict[str, PhaseTiming],
    n_dof: int,
    peak_memory_MB: float | None,
    started: datetime,
    host: str,
    n_frames: int,
    engine_name: str,
    batch: BatchShare | None = None,
) -> dict[str, Any]:
    n_atoms = len(run.atoms)
    batch = batch or BatchShare(size=1, n_atoms=n_atoms)
    production = [r for r in records if r.phase == "production"]
    metrics: dict[str, Any] = {}
    metrics.update(_energy_metrics(production, n_atoms))
    metrics.update(_force_metrics(evaluator, n_atoms))
    metrics.update(_timing_metrics(timings.get("production"), batch, peak_memory_MB))
    metrics.update(_thermo_stats(production))
    crashed = outcome.status == "crashed"
    reached_ps = production[-1].time_ps if production else 0.0
    metrics["crashed"] = crashed
    metrics["stable_duration_ps"] = reached_ps if crashed else float(config.duration_ps)
    metrics["n_dof"] = n_dof

    profile = load_profile(config.profile)
    criteria = evaluate(metrics, profile, device=run.device)
    run_verdict = verdict(criteria)
    if outcome.status == "cancelled":
        run_verdict = "fail"
    recommendation = recommend(
        [
            RunOutcome(
                crashed=crashed,
                criteria=criteria,
                duration_ps=metrics["stable_duration_ps"],
                force_r2=metrics.get("force_r2"),
                energy_rmse_meV_per_atom=metrics.get("energy_rmse_meV_per_atom"),
            )
        ]
    )
    return {
        "status": outcome.status,
        "time_to_failure_ps": outcome.time_ps if crashed else None,
        "failure_reason": outcome.reason if outcome.status != "completed" else None,
        "failure_phase": outcome.phase if outcome.status != "completed" else None,
        "metrics": _jsonable(metrics),
        "criteria": [c.to_dict() for c in criteria],
        "verdict": run_verdict,
        "recommendation": recommendation.to_dict(),
        "config": config.model_dump(),
        "provenance": _provenance(
            config, run, started, host, n_frames, n_dof, engine_name, batch.size
        ),
    }


def _energy_metrics(production: list[ThermoRecord], n_atoms: int) -> dict[str, Any]:
    t = np.array([r.time_ps for r in production])
    etot = np.array([r.etot_eV for r in production])
    ekin = np.array([r.ekin_eV for r in production])
    return energy_conservation(t, etot, ekin, n_atoms)


def _force_metrics(evaluator: ReferenceEvaluator | None, n_atoms: int) -> dict[str, Any]:
    if evaluator is None or not evaluator.model_forces:
        return {"force_rmse_eV_per_A": None, "n_reference_frames": 0}
    out = force_accuracy(
        np.array(evaluator.model_forces),
        np.array(evaluator.reference_forces),
        np.array(evaluator.model_energies),
        np.array(evaluator.reference_energies),
        n_atoms=n_atoms,
    )
    out["n_reference_frames"] = len(evaluator.model_forces)
    errors = np.concatenate([s.per_atom_error_eV_per_A for s in evaluator.samples])
    out["force_error_norm_p95_eV_per_A"] = float(np.percentile(errors, 95))
    out["force_error_norm_max_eV_per_A"] = float(np.max(errors))
    return out


def _timing_metrics(
    timing: PhaseTiming | None, batch: BatchShare, peak_memory_MB: float | None
) -> dict[str, Any]:
    if timing is None or not timing.inference_s:
        return {"inference_ms_per_step": None, "step_ms": None, "peak_memory_MB": peak_memory_MB}
    inference_ms = 1000.0 * float(np.median(timing.inference_s))
    step_ms = 1000.0 * float(np.median(timing.step_s)) if timing.step_s else None
    return {
        "inference_ms_per_step": inference_ms,
        "inference_ms_per_replica_step": inference_ms / batch.size,
        "batch_size": batch.size,
        "step_ms": step_ms,
        "harness_overhead": harness_overhead(step_ms, inference_ms) if step_ms else None,
        "throughput_atom_steps_per_s": throughput_atom_steps_per_s(
            batch.n_atoms, timing.steps_done, timing.wall_s
        )
        if timing.wall_s > 0
        else None,
        "peak_memory_MB": peak_memory_MB,
        "wall_time_s": timing.wall_s,
    }


def _thermo_stats(production: list[ThermoRecord]) -> dict[str, Any]:
    if not production:
        return {}
    temps = np.array([r.temperature_K for r in production])
    out: dict[str, Any] = {
        "temperature_mean_K": float(temps.mean()),
        "temperature_std_K": float(temps.std()),
    }
    pressures = [r.pressure_GPa for r in production if r.pressure_GPa is not None]
    if pressures:
        p = np.array(pressures)
        out["pressure_mean_GPa"] = float(p.mean())
        out["pressure_std_GPa"] = float(p.std())
        out["stress_finite"] = bool(np.all(np.isfinite(p)))
    return out


def _provenance(
    config: RunConfig,
    run: PreparedRun,
    started: datetime,
    host: str,
    n_frames: int,
    n_dof: int,
    engine_name: str,
    batch_size: int,
) -> dict[str, Any]:
    import ase  # local: versions only

    structure = describe_structure(run.atoms)
    ref = run.reference
    return {
        "model_spec": run.model.spec,
        "model_name": run.model.name,
        "model_sha256": run.model.sha256,
        "model_n_params": run.model.n_params,
        "reference_spec": ref.spec if ref else None,
        "reference_sha256": ref.sha256 if ref else None,
        "structure_spec": config.structure,
        "structure_formula": structure["formula"],
        "structure_sha256": structure["sha256"],
        "n_atoms": structure["n_atoms"],
        "seed": config.seed,
        "protocol": {
            "timestep_fs": config.timestep_fs,
            "temperature_K": config.temperature_K,
            "duration_ps": config.duration_ps,
            "equilibration_ps": config.equilibration_ps,
            "record_every": config.record_every,
            "frame_every": config.frame_every,
            "reference_every": config.reference_every,
            "friction_per_ps": config.friction_per_ps,
            "integrator": "velocity Verlet (NVE)",
            "thermostat": _THERMOSTATS.get(engine_name) if config.equilibration_ps > 0 else None,
            "n_dof": n_dof,
            "n_dof_rule": "3N-3 (COM momentum removed); 3N-6 when the rotation of an "
            "isolated non-linear molecule is removed too and no thermostat re-thermalises it",
        },
        "engine": engine_name,
        **device_info(run.device),
        "batch_size": batch_size,
        "mdval_version": __version__,
        "ase_version": ase.__version__,
        "numpy_version": np.__version__,
        "host": host,
        "started_at": started.isoformat(),
        "ended_at": datetime.now(UTC).isoformat(),
        "trajectory_frames": n_frames,
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars/arrays to Python; non-finite floats to None (JSON has no NaN)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return out
