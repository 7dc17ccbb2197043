"""Analyses of runs computed on demand by the core (:mod:`mdval.analysis`): the frames of
the 3D view, h(r) / φ/ψ / bonds of a run, the trajectory comparison of two runs, the
production E_kin trace, a profile's thresholds and the criteria levels of shown values.

Reads need what every read needs (``MDVAL_READ_REQUIRES_TOKEN``). The core modules used
import neither ase nor torch; they are imported on first use.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import select

from app.api.deps import ReaderDep, RunDep, SessionDep, SettingsDep
from app.api.errors import ApiError
from app.core.config import Settings
from app.crud import catalog
from app.crud import runs as runs_crud
from app.crud.series import read_thermo
from app.db.base import utcnow
from app.db.models import FINISHED_STATUSES, Profile, Run
from app.schemas.analysis import (
    EkinSeries,
    FrameList,
    LevelsRequest,
    LevelsResponse,
    ProfileRead,
    RunAnalysis,
    SameStartRuns,
    TrajectoryComparison,
)
from app.schemas.common import Int64, Text
from app.services.redaction import for_caller
from app.services.views import run_brief

router = APIRouter(tags=["analysis"])

MaxFrames = Annotated[int, Query(ge=2, le=2000, description="frames read, evenly thinned")]


def trajectory_file(run: Run, settings: Settings) -> Path | None:
    """The run's trajectory in the artifact store: the finished run's recorded path, or,
    while it runs, the file its worker is writing (``runs/<id>/attempt-<n>/``)."""
    root = settings.artifacts_path.resolve()
    if run.trajectory_path:
        path = Path(run.trajectory_path)
    elif run.attempt and run.attempt >= 1:
        path = (
            root / "runs" / str(int(run.id)) / f"attempt-{int(run.attempt)}" / "trajectory.extxyz"
        )
    else:
        return None
    path = path.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _frames(run: Run, settings: Settings, max_frames: int) -> list[Any]:
    from mdval.analysis import read_frames

    path = trajectory_file(run, settings)
    return read_frames(path, max_frames=max_frames) if path is not None else []


@router.get("/runs/{run_id}/frames", response_model=FrameList)
def get_frames(
    run: RunDep,
    settings: SettingsDep,
    index: Annotated[int, Query(ge=-(2**31), le=2**31, description="frame; -1: the last")] = -1,
) -> FrameList:
    """One frame of the run's trajectory for the 3D view, with its bonds (minimum image).
    ``index=-1`` (the default) is the last complete frame, read from the end of the file
    while the worker is writing it."""
    from mdval.analysis import frame_view, read_frames, read_last_frame

    path = trajectory_file(run, settings)
    frame = None
    if path is not None:
        if index == -1:
            frame = read_last_frame(path)
        else:
            frames = read_frames(path, max_frames=2**31)
            if -len(frames) <= index < len(frames):
                frame = frames[index]
            elif frames:
                raise ApiError(
                    404, f"run {run.id} has {len(frames)} frames; no frame {index}", field="index"
                )
    return FrameList.model_validate(
        {"run_id": run.id, "frames": [frame_view(frame)] if frame is not None else []}
    )


@router.get("/runs/{run_id}/analysis", response_model=RunAnalysis)
def get_run_analysis(
    run: RunDep, settings: SettingsDep, max_frames: MaxFrames = 400
) -> RunAnalysis:
    """h(r) (minimum image), φ/ψ (alanine dipeptide) and the bond count of the run's
    trajectory, by the core (METRICS.md "Trajectory comparison")."""
    from mdval.analysis import run_analysis

    body = run_analysis(_frames(run, settings, max_frames))
    return RunAnalysis.model_validate({"run_id": run.id, **body})


@router.get("/compare", response_model=TrajectoryComparison)
def compare_runs(
    session: SessionDep,
    _reader: ReaderDep,
    settings: SettingsDep,
    a: Annotated[Int64, Query(ge=1, description="the model's run")],
    b: Annotated[Int64, Query(ge=1, description="the reference's run (same start)")],
    max_frames: MaxFrames = 400,
) -> TrajectoryComparison:
    """Run ``a`` against run ``b`` from identical initial conditions: Kabsch RMSD(t),
    divergence time, h(r) of each and ∫|Δh| dr, φ/ψ of each and their JS divergence. Runs
    that did not start alike (the core's ``same_start``) are a 422 naming what differs."""
    from mdval.analysis import compare_frames
    from mdval.analysis.start import start_differences

    runs = []
    for name, run_id in (("a", a), ("b", b)):
        run = runs_crud.get_run(session, run_id=run_id)
        if run is None:
            raise ApiError(404, f"no run with id {run_id}", field=name)
        runs.append(run)
    differences = start_differences(start_of_run(runs[0]), start_of_run(runs[1]))
    if differences:
        raise ApiError(
            422, "the runs did not start from the same conditions: " + "; ".join(differences)
        )
    body = compare_frames(*(_frames(r, settings, max_frames) for r in runs))
    body["model"]["run_id"], body["reference"]["run_id"] = a, b
    return TrajectoryComparison.model_validate({"model_run": a, "reference_run": b, **body})


def start_of_run(run: Run) -> dict[str, Any]:
    """The run's start (:mod:`mdval.analysis.start`): its registered structure, and the
    request's seed, temperature, timestep, equilibration and friction."""
    from mdval.analysis.start import start_of_config

    config = {
        **dict(run.config or {}),
        "seed": run.seed,
        "temperature_K": run.temperature_K,
        "timestep_fs": run.timestep_fs,
        "equilibration_ps": run.equilibration_ps,
    }
    return start_of_config(run.structure_id, config)


#: Most runs listed by ``/runs/{id}/same-start``.
SAME_START_LIMIT = 20


@router.get("/runs/{run_id}/same-start", response_model=SameStartRuns)
def same_start_runs(
    run: RunDep,
    session: SessionDep,
    model: Annotated[
        Text | None, Query(description="Whose runs (default: the run's reference, its teacher).")
    ] = None,
) -> SameStartRuns:
    """The finished runs of ``model`` that started as this run did — the teacher's runs a
    student run can be compared with — newest first, with their status (a teacher run that
    crashed is listed: the compare page says so instead of asking for the teacher). A run
    of ``model`` itself is among them: a run whose reference is its own model is its own
    teacher run."""
    from mdval.analysis.start import START_FIELDS, same_start

    spec = model or run.reference_spec
    if spec is None:
        return SameStartRuns(run_id=run.id, model=None, fields=list(START_FIELDS), items=[])
    other = catalog.get_potential(session, key=spec)
    if other is None:
        raise ApiError(404, f"no model '{spec}'", field="model")
    # a run whose reference is its own model is its own teacher run (its own control)
    candidates = session.scalars(
        select(Run)
        .where(
            Run.model_id == other.id,
            Run.structure_id == run.structure_id,
            Run.seed == run.seed,
            Run.status.in_(FINISHED_STATUSES),
        )
        .order_by(Run.finished_at.desc(), Run.id.desc())
        .limit(20 * SAME_START_LIMIT)
    ).all()
    mine, now = start_of_run(run), utcnow()
    items = [run_brief(c, now=now) for c in candidates if same_start(mine, start_of_run(c))]
    body = SameStartRuns(
        run_id=run.id, model=other.spec, fields=list(START_FIELDS), items=items[:SAME_START_LIMIT]
    )
    return for_caller(body)


@router.get("/runs/{run_id}/ekin", response_model=EkinSeries)
def get_ekin(
    run: RunDep,
    session: SessionDep,
    max_points: Annotated[int, Query(ge=2, le=100_000)] = 4000,
) -> EkinSeries:
    """E_kin over the production segment, evenly thinned to ``max_points``."""
    rows = read_thermo(session, run_id=run.id, phase="production", limit=10**7)
    if len(rows) > max_points:
        keep = np.unique(np.linspace(0, len(rows) - 1, max_points).astype(int))
        rows = [rows[i] for i in keep]
    return EkinSeries(
        run_id=run.id, time_ps=[r.time_ps for r in rows], ekin_eV=[r.ekin_eV for r in rows]
    )


def _definition(session: Any, name: str) -> dict[str, Any]:
    row = session.get(Profile, name)
    if row is None or not row.definition:
        raise ApiError(404, f"no profile '{name}'; see GET /api/v1/profiles", field="name")
    return dict(row.definition)


@router.get("/profiles/{name}", response_model=ProfileRead)
def get_profile(
    session: SessionDep,
    _reader: ReaderDep,
    name: Text,
    device: Annotated[Text | None, Query(max_length=200)] = None,
) -> ProfileRead:
    """A profile's criteria with the thresholds that apply on ``device`` (cpu by default)."""
    from mdval.analysis.criteria import device_class_of, thresholds

    definition = _definition(session, name)
    return ProfileRead.model_validate(
        {
            "name": name,
            "device": device_class_of(device),
            "criteria": thresholds(definition, device),
            "definition": definition,
        }
    )


def _json_safe(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


@router.post("/profiles/{name}/levels", response_model=LevelsResponse)
def profile_levels(
    session: SessionDep, _reader: ReaderDep, name: Text, body: LevelsRequest
) -> LevelsResponse:
    """The core's criteria levels (mdval.criteria.evaluate) of each set of metric values,
    e.g. a running run's numbers so far or a leaderboard row. A metric that is absent is
    ``not_evaluated``; a value of the wrong kind is a 422 naming it."""
    from mdval.analysis.criteria import levels
    from mdval.errors import InputError

    definition = _definition(session, name)
    out = []
    for k, metrics in enumerate(body.items):
        try:
            rows = levels(definition, metrics, body.device, evidence=body.evidence)
        except InputError as exc:
            raise ApiError(422, f"items[{k}]: {exc}", field=f"items.{k}") from exc
        out.append([{key: _json_safe(v) for key, v in row.items()} for row in rows])
    return LevelsResponse(profile=name, items=out)
