"""Rows to response bodies."""

from __future__ import annotations

from datetime import datetime

from app.db.base import utcnow
from app.db.models import ApiToken, Run
from app.schemas.leaderboard import RunBrief
from app.schemas.runs import RunMetrics, RunRead
from app.schemas.system import TokenRead


def eta_seconds(run: Run, now: datetime) -> float | None:
    if run.status != "running" or run.eta_at is None:
        return None
    return max(0.0, (run.eta_at - now).total_seconds())


def run_read(run: Run, *, with_summary: bool = False, now: datetime | None = None) -> RunRead:
    now = now or utcnow()
    return RunRead(
        id=run.id,
        submission_id=run.submission_id,
        status=run.status,
        suite=run.suite,
        model=run.model_spec,
        reference=run.reference_spec,
        structure=run.structure_spec,
        formula=run.formula,
        n_atoms=run.n_atoms,
        temperature_K=run.temperature_K,
        timestep_fs=run.timestep_fs,
        duration_ps=run.duration_ps,
        equilibration_ps=run.equilibration_ps,
        seed=run.seed,
        profile=run.profile,
        device=run.device,
        queue=run.queue,
        config=run.config,
        progress_percent=round(100.0 * (run.progress or 0.0), 3),
        done_steps=run.done_steps or 0,
        total_steps=run.total_steps,
        eta_s=eta_seconds(run, now),
        eta_at=run.eta_at if run.status == "running" else None,
        attempt=run.attempt,
        max_attempts=run.max_attempts,
        worker=run.worker,
        cancel_requested=run.cancel_requested,
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        heartbeat_at=run.heartbeat_at,
        finished_at=run.finished_at,
        failure_reason=run.failure_reason,
        verdict=run.verdict,
        recommendation=run.recommendation,
        time_to_failure_ps=run.time_to_failure_ps,
        device_name=run.device_name,
        metrics=RunMetrics(
            drift_meV_per_atom_per_ps=run.drift_meV_per_atom_per_ps,
            drift_percent=run.drift_percent,
            force_rmse_eV_per_A=run.force_rmse_eV_per_A,
            force_mae_eV_per_A=run.force_mae_eV_per_A,
            force_r2=run.force_r2,
            force_angle_error_deg=run.force_angle_error_deg,
            energy_rmse_meV_per_atom=run.energy_rmse_meV_per_atom,
            inference_ms_per_step=run.inference_ms_per_step,
            inference_ms_per_replica_step=run.inference_ms_per_replica_step,
            batch_size=run.batch_size,
            step_ms=run.step_ms,
        ),
        has_trajectory=run.trajectory_path is not None,
        summary=run.summary if with_summary else None,
    )


def run_brief(run: Run, *, now: datetime) -> RunBrief:
    return RunBrief(
        id=run.id,
        model=run.model_spec,
        structure=run.structure_spec,
        suite=run.suite,
        status=run.status,
        verdict=run.verdict,
        failure_reason=run.failure_reason,
        progress_percent=round(100.0 * (run.progress or 0.0), 3),
        eta_s=eta_seconds(run, now),
        finished_at=run.finished_at,
    )


def token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        role=token.role,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked=token.revoked_at is not None,
    )
