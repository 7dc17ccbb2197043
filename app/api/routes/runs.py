"""``/api/v1/runs``: submit, list, follow, download, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, BackgroundTasks, Header, Query, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from app.api.deps import (
    QueueDep,
    ReaderDep,
    RunDep,
    SessionDep,
    SettingsDep,
    SubmitterDep,
)
from app.api.errors import ApiError
from app.crud import catalog, series
from app.crud import runs as runs_crud
from app.db.base import utcnow
from app.schemas.common import ERROR_RESPONSES, Int32, Int64, Text, Timestamp
from app.schemas.runs import (
    CancelResult,
    ForceErrors,
    ForceErrorSample,
    Histogram,
    RunBatchCreate,
    RunCreate,
    RunList,
    RunRead,
    RunStatus,
    RunSubmission,
    ThermoSeries,
)
from app.services.redaction import for_caller
from app.services.submissions import enqueue_runs, submit_batch, submit_runs
from app.services.views import run_read

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERROR_RESPONSES)

ARTIFACT_FILES = {
    "summary.json": "application/json",
    "thermo.csv": "text/csv",
    "trajectory.extxyz": "chemical/x-extxyz",
}


IdempotencyKeyHeader = Annotated[
    Text | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A retried request with the same key and body queues nothing twice.",
    ),
]


def _publisher(session: Session, queue: QueueDep, background: BackgroundTasks) -> Any:
    """Publish once the answer is sent; an unpublished run is re-sent by the reaper."""
    engine = session.get_bind()

    def publish(runs: list[tuple[int, str]]) -> None:
        with Session(engine) as own:
            enqueue_runs(own, queue=queue, runs=runs)

    return lambda runs: background.add_task(publish, runs)


def _answer(
    submit: Any,
    body: RunCreate | RunBatchCreate,
    token: SubmitterDep,
    session: Session,
    settings: SettingsDep,
    queue: QueueDep,
    response: Response,
    background: BackgroundTasks,
    idempotency_key: str | None,
) -> RunSubmission:
    """Submit (``submit_runs`` or ``submit_batch``); a replay says so in a header."""
    result: RunSubmission = submit(
        session,
        settings=settings,
        queue=queue,
        request=body,
        token=token,
        idempotency_key=idempotency_key,
        defer=_publisher(session, queue, background),
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.post("", status_code=201, response_model=RunSubmission)
def create_runs(
    body: RunCreate,
    token: SubmitterDep,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    response: Response,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RunSubmission:
    """Queue one run (``structure``) or a suite (``suite``) for a model.

    Everything is validated before anything is queued; a 4xx means nothing was written.
    """
    return _answer(
        submit_runs, body, token, session, settings, queue, response, background, idempotency_key
    )


@router.post("/batch", status_code=201, response_model=RunSubmission)
def create_run_batch(
    body: RunBatchCreate,
    token: SubmitterDep,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    response: Response,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RunSubmission:
    """Queue several runs (e.g. one structure at several temperatures) as one submission.

    All or none: every run is validated first, and they are written in one transaction
    (a refused run names itself: ``run i of n``, field ``runs.<i-1>.<field>``). With an
    ``Idempotency-Key`` a repeat (a double click, a retry) is answered from the first
    request (``replayed``) and queues nothing. The runs share one ``submission_id``, so a
    worker can run those that share a batch key as one batch.
    """
    return _answer(
        submit_batch, body, token, session, settings, queue, response, background, idempotency_key
    )


@router.get("", response_model=RunList)
def list_runs(
    session: SessionDep,
    _reader: ReaderDep,
    model: Annotated[Text | None, Query(description="Model spec or name.")] = None,
    status: Annotated[list[RunStatus] | None, Query(description="Repeat for several.")] = None,
    suite: Text | None = None,
    since: Annotated[
        Timestamp | None,
        Query(description="Created at or after (ISO 8601; without zone: UTC)."),
    ] = None,
    submission_id: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[Int64, Query(ge=0)] = 0,
) -> RunList:
    """Runs, newest first."""
    model_ids = None
    if model is not None:
        model_ids = [p.id for p in catalog.find_potentials(session, keys=[model])]
    stmt = runs_crud.runs_query(
        model_ids=model_ids,
        status=list(status) if status else None,
        suite=suite,
        since=since,
        submission_id=submission_id,
    )
    rows, total = runs_crud.list_runs(session, stmt=stmt, limit=limit, offset=offset)
    now = utcnow()
    return for_caller(
        RunList(items=[run_read(r, now=now) for r in rows], total=total, limit=limit, offset=offset)
    )


@router.get("/{run_id}", response_model=RunRead)
def get_run(run: RunDep) -> RunRead:
    """One run with its progress, ETA and (when ended) the full summary."""
    return for_caller(run_read(run, with_summary=True))


@router.get("/{run_id}/thermo", response_model=ThermoSeries)
def get_thermo(
    run: RunDep,
    session: SessionDep,
    settings: SettingsDep,
    after_seq: Annotated[Int32 | None, Query(ge=-1, description="Records after this seq.")] = None,
    after_step: Annotated[
        Int64 | None, Query(ge=-1, description="Records after this step (count within phase).")
    ] = None,
    phase: Annotated[Literal["equilibration", "production"] | None, Query()] = None,
    limit: Annotated[Int64 | None, Query(ge=1)] = None,
) -> ThermoSeries:
    """Thermo records in columns; poll with the returned cursor to get only new points."""
    page = min(limit or settings.page_size_max, settings.page_size_max)
    rows = series.read_thermo(
        session, run_id=run.id, after_seq=after_seq, after_step=after_step, phase=phase, limit=page
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 11
    return ThermoSeries(
        run_id=run.id,
        status=run.status,
        n=len(rows),
        next_after_seq=rows[-1][0] if rows else after_seq,
        last_step=rows[-1][2] if rows else after_step,
        seq=list(columns[0]),
        phase=list(columns[1]),
        step=list(columns[2]),
        time_ps=list(columns[3]),
        epot_eV=list(columns[4]),
        ekin_eV=list(columns[5]),
        etot_eV=list(columns[6]),
        temperature_K=list(columns[7]),
        max_force_eV_per_A=list(columns[8]),
        inference_ms=list(columns[9]),
        pressure_GPa=list(columns[10]),
    )


@router.get("/{run_id}/force-errors", response_model=ForceErrors)
def get_force_errors(
    run: RunDep,
    session: SessionDep,
    settings: SettingsDep,
    after_seq: Annotated[Int32 | None, Query(ge=-1)] = None,
    limit: Annotated[Int64 | None, Query(ge=1)] = None,
    bins: Annotated[
        int, Query(ge=0, le=1000, description="Histogram bins over the returned samples; 0: none.")
    ] = 30,
) -> ForceErrors:
    """Force errors of the model against the reference on sampled frames."""
    page = min(limit or settings.page_size_max, settings.page_size_max)
    rows = series.read_force_errors(session, run_id=run.id, after_seq=after_seq, limit=page)
    samples = [
        ForceErrorSample(
            seq=r[0],
            step=r[1],
            time_ps=r[2],
            force_rmse_eV_per_A=r[3],
            energy_error_eV=r[4],
            per_atom_error_eV_per_A=list(r[5]),
        )
        for r in rows
    ]
    return ForceErrors(
        run_id=run.id,
        status=run.status,
        n=len(samples),
        next_after_seq=samples[-1].seq if samples else after_seq,
        samples=samples,
        histogram=_histogram(samples, bins) if bins and samples else None,
    )


def _histogram(samples: list[ForceErrorSample], bins: int) -> Histogram:
    values = np.concatenate([np.asarray(s.per_atom_error_eV_per_A, float) for s in samples])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Histogram(bin_edges_eV_per_A=[], counts=[])
    counts, edges = np.histogram(values, bins=bins, range=(0.0, float(values.max()) or 1.0))
    return Histogram(bin_edges_eV_per_A=edges.tolist(), counts=counts.tolist())


def _artifact(run_path: str | None, settings_root: Path, what: str, run_id: int) -> Path:
    if not run_path:
        raise ApiError(404, f"run {run_id} has no {what} (yet)")
    path = Path(run_path).resolve()
    if not path.is_relative_to(settings_root.resolve()) or not path.is_file():
        raise ApiError(404, f"the {what} of run {run_id} is not in the artifact store")
    return path


@router.get("/{run_id}/trajectory", response_class=FileResponse)
def get_trajectory(run: RunDep, settings: SettingsDep) -> FileResponse:
    """The trajectory as extended XYZ."""
    path = _artifact(run.trajectory_path, settings.artifacts_path, "trajectory", run.id)
    return FileResponse(path, media_type="chemical/x-extxyz", filename=f"run-{run.id}.extxyz")


@router.get("/{run_id}/files/{name}", response_class=FileResponse)
def get_file(run: RunDep, settings: SettingsDep, name: Text) -> FileResponse:
    """One of the run's output files: summary.json, thermo.csv, trajectory.extxyz."""
    if name not in ARTIFACT_FILES:
        raise ApiError(
            404, f"no file '{name}'; available: {', '.join(ARTIFACT_FILES)}", field="name"
        )
    root = run.out_dir and str(Path(run.out_dir) / name)
    path = _artifact(root, settings.artifacts_path, name, run.id)
    return FileResponse(path, media_type=ARTIFACT_FILES[name], filename=f"run-{run.id}-{name}")


@router.post("/{run_id}/cancel", response_model=CancelResult)
def cancel_run(_token: SubmitterDep, run: RunDep, session: SessionDep) -> CancelResult:
    """Cancel: a queued run ends now; a running run stops at its next record (~1 s)."""
    if _token.role != "admin" and run.created_by != _token.name:
        raise ApiError(
            403,
            f"run {run.id} was submitted by another token; token '{_token.name}' may cancel "
            "only its own runs (only the owner or an admin token may cancel it)",
        )
    if run.status not in ("queued", "running"):
        raise ApiError(409, f"run {run.id} already ended '{run.status}'; nothing to cancel")
    status = runs_crud.request_cancel(session, run_id=run.id)
    session.commit()
    message = (
        "cancelled before it started"
        if status == "cancelled"
        else "cancel requested; the worker stops at its next record"
        if status == "running"
        else f"run ended '{status}' meanwhile"
    )
    return CancelResult(id=run.id, status=status, cancel_requested=True, message=message)
