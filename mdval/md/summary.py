"""Assemble ``summary.json``: metrics, criteria, verdict, recommendation, provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from mdval import __version__
from mdval.controls.compare import observables_vs_control
from mdval.controls.evidence import ControlEvidence
from mdval.controls.judgement import PROTOCOL_INVALID, judge
from mdval.criteria import RunOutcome, evaluate, load_profile, recommend, verdict
from mdval.md.config import RunConfig
from mdval.md.engine import PhaseTiming
from mdval.md.listener import ThermoRecord
from mdval.metrics.energy import energy_conservation
from mdval.metrics.ensemble import ke_distribution_p
from mdval.metrics.forces import force_accuracy
from mdval.metrics.stability import bond_pairs
from mdval.metrics.statistics import mean_ci95
from mdval.metrics.timing import (
    device_info,
    paired_harness_overhead,
    throughput_atom_steps_per_s,
)
from mdval.settings import get_settings
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
    frames: dict[str, np.ndarray] | None = None,
    control: ControlEvidence | None = None,
) -> dict[str, Any]:
    n_atoms = len(run.atoms)
    batch = batch or BatchShare(size=1, n_atoms=n_atoms)
    production = [r for r in records if r.phase == "production"]
    metrics: dict[str, Any] = {}
    metrics.update(_energy_metrics(production, n_atoms))
    metrics.update(_force_metrics(evaluator, n_atoms))
    metrics.update(_timing_metrics(timings.get("production"), batch, peak_memory_MB))
    metrics.update(_thermo_stats(production, config.temperature_K))
    metrics.update(_ensemble_check(records, n_dof, config.temperature_K))
    crashed = outcome.status == "crashed"
    metrics.update(_durations(config, outcome, production))
    metrics["crashed"] = crashed
    metrics["n_dof"] = n_dof
    warnings = _warnings(config, metrics, evaluator)

    profile = load_profile(config.profile)
    own = {"status": outcome.status, "metrics": metrics, "failure_reason": outcome.reason}
    control_metrics = _control_metrics(control, metrics)
    criteria = evaluate(metrics, profile, device=run.device, control_metrics=control_metrics)
    absolute = (
        criteria if control_metrics is None else evaluate(metrics, profile, device=run.device)
    )
    absolute_verdict = verdict(absolute)
    run_verdict, control_block = judge(
        criteria,
        control=control,
        control_expected=run.reference is not None and control is not None,
        profile=profile,
        device=run.device,
        own_summary=own,
    )
    if outcome.status == "cancelled" and run_verdict == "pass":
        run_verdict = "inconclusive"  # a cancelled run decides nothing it did not reach
    observables = _observables(run, frames, control)
    recommendation = recommend(
        [
            RunOutcome(
                crashed=crashed,
                criteria=criteria,
                duration_ps=metrics["stable_duration_ps"],
                force_r2=metrics.get("force_r2"),
                energy_rmse_meV_per_atom=metrics.get("energy_rmse_meV_per_atom"),
                protocol_invalid=run_verdict == PROTOCOL_INVALID,
            )
        ]
    )
    return {
        "status": outcome.status,
        "time_to_failure_ps": outcome.time_ps if crashed else None,
        "failure_reason": outcome.reason if outcome.status != "completed" else None,
        "failure_phase": outcome.phase if outcome.status != "completed" else None,
        "stopped_at_ps": outcome.time_ps,
        "warnings": warnings,
        "metrics": _jsonable(metrics),
        "criteria": [c.to_dict() for c in criteria],
        "verdict": run_verdict,
        "verdict_without_control": absolute_verdict,
        "control": control_block,
        "observables": observables,
        "recommendation": recommendation.to_dict(),
        "config": config.model_dump(),
        "provenance": _provenance(
            config, run, started, host, n_frames, n_dof, engine_name, batch.size
        ),
    }


def _ensemble_check(records: list[ThermoRecord], n_dof: int, target_K: float) -> dict[str, Any]:
    """The NVT equilibration's kinetic energies against the canonical distribution
    (physical-validation; its own equilibration detection and decorrelation), or nothing
    without an equilibration of at least 20 records."""
    ekin = [r.ekin_eV for r in records if r.phase == "equilibration"]
    if len(ekin) < 20:
        return {}
    try:
        return dict(ke_distribution_p(np.array(ekin), n_dof, target_K))
    except Exception as exc:  # a statistics library failure must not cost the run
        return {"ke_distribution_p": None, "ke_distribution_test": f"not run: {exc}"[:200]}


def _control_metrics(control: ControlEvidence | None, own: dict[str, Any]) -> dict[str, Any] | None:
    if control is None:
        return None
    if control.is_self:
        return own
    return dict(control.summary.get("metrics") or {})


def _observables(
    run: PreparedRun, frames: dict[str, np.ndarray] | None, control: ControlEvidence | None
) -> dict[str, Any] | None:
    """Distances of the run's equilibrium distributions to its control's (None without)."""
    if control is None or not frames:
        return None
    control_frames = frames if control.is_self else control.frames
    if not control_frames:
        return None
    return observables_vs_control(frames, control_frames, bonds=bond_pairs(run.atoms))


def _durations(
    config: RunConfig, outcome: Outcome, production: list[ThermoRecord]
) -> dict[str, Any]:
    """Production time reached without a crash, and the most the run could have shown.

    ``stable_duration_ps``: the requested duration for a completed run; for a crashed or
    cancelled one the production time reached before it stopped (exact to the step).
    ``duration_cap_ps``: the production time the run was to reach: requested, or for a
    cancelled run the time reached, so that a criterion knows a short value says nothing.
    """
    requested = float(config.duration_ps)
    if outcome.status == "completed":
        return {"stable_duration_ps": requested, "duration_cap_ps": requested}
    if outcome.time_ps is not None and outcome.phase == "production":
        reached = max(
            0.0,
            round(outcome.time_ps - config.n_equilibration_steps * config.timestep_fs / 1000.0, 12),
        )
    elif outcome.phase == "production" and production:
        reached = production[-1].time_ps
    else:
        reached = 0.0
    cap = reached if outcome.status == "cancelled" else requested
    return {"stable_duration_ps": reached, "duration_cap_ps": cap}


def _warnings(
    config: RunConfig, metrics: dict[str, Any], evaluator: ReferenceEvaluator | None
) -> list[str]:
    """Things a reader must know to trust the numbers, in plain sentences."""
    out = []
    offset = metrics.get("temperature_offset_percent")
    limit = get_settings().temperature_warning_percent
    if offset is not None and np.isfinite(offset) and abs(offset) > limit:
        mean = metrics["temperature_mean_K"]
        advice = (
            " (no NVT equilibration: NVE from Maxwell–Boltzmann velocities at a minimum "
            "settles near T/2; give equilibration_ps)"
            if config.equilibration_ps == 0
            else ""
        )
        out.append(
            f"production mean T {mean:.1f} K is {offset:+.1f} % off the requested "
            f"{config.temperature_K:g} K{advice}"
        )
    if config.equilibration_ps > 0 and config.equilibration_ps * config.friction_per_ps < 5.0:
        out.append(
            f"equilibration of {config.equilibration_ps:g} ps is under 5 relaxation times "
            f"(1/friction = {1.0 / config.friction_per_ps:g} ps): the start may not be thermal"
        )
    if evaluator is not None and evaluator.n_skipped:
        out.append(
            f"the reference raised on {evaluator.n_skipped} sampled frame(s), skipped "
            f"(first: {evaluator.skip_reason})"
        )
    return out


def _energy_metrics(production: list[ThermoRecord], n_atoms: int) -> dict[str, Any]:
    t = np.array([r.time_ps for r in production])
    etot = np.array([r.etot_eV for r in production])
    ekin = np.array([r.ekin_eV for r in production])
    return energy_conservation(t, etot, ekin, n_atoms)


def _force_metrics(evaluator: ReferenceEvaluator | None, n_atoms: int) -> dict[str, Any]:
    if evaluator is None:
        return {"force_rmse_eV_per_A": None, "n_reference_frames": 0}
    skipped = {
        "n_reference_frames_skipped": evaluator.n_skipped,
        "reference_skipped_fraction": evaluator.n_skipped
        / max(1, evaluator.n_skipped + len(evaluator.model_forces)),
    }
    if not evaluator.model_forces:
        return {"force_rmse_eV_per_A": None, "n_reference_frames": 0, **skipped}
    out = force_accuracy(
        np.array(evaluator.model_forces),
        np.array(evaluator.reference_forces),
        np.array(evaluator.model_energies),
        np.array(evaluator.reference_energies),
        n_atoms=n_atoms,
    )
    out["n_reference_frames"] = len(evaluator.model_forces)
    out.update(skipped)
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
        "harness_overhead": paired_harness_overhead(timing.step_s, timing.inference_s),
        "throughput_atom_steps_per_s": throughput_atom_steps_per_s(
            batch.n_atoms, timing.steps_done, timing.wall_s
        )
        if timing.wall_s > 0
        else None,
        "peak_memory_MB": peak_memory_MB,
        "wall_time_s": timing.wall_s,
    }


def _thermo_stats(production: list[ThermoRecord], target_K: float) -> dict[str, Any]:
    if not production:
        return {}
    temps = np.array([r.temperature_K for r in production])
    mean, half, _ = mean_ci95(temps)
    out: dict[str, Any] = {
        "temperature_mean_K": mean,
        "temperature_ci95_K": half,
        "temperature_std_K": float(temps.std()),
        "temperature_offset_percent": 100.0 * (mean - target_K) / target_K,
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
        "model_dtype": run.model.extra.get("dtype"),  # part of the identity (model_sha256)
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
