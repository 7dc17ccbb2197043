"""``/api/v1/bench``: run ``mdval bench`` on a worker, list the jobs, read one report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import BenchJobDep, QueueDep, ReaderDep, SessionDep, SettingsDep, SubmitterDep
from app.crud import bench as bench_crud
from app.schemas.bench import BenchCreate, BenchJobDetail, BenchJobList, BenchStatus
from app.schemas.common import ERROR_RESPONSES, Int64
from app.services.bench import bench_detail, bench_read, submit_bench

router = APIRouter(prefix="/bench", tags=["bench"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=BenchJobDetail)
def create_bench(
    body: BenchCreate,
    token: SubmitterDep,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
) -> BenchJobDetail:
    """Queue a benchmark: speed and memory of torch potentials through the bare model, the
    torch engine and the ASE engine (``mdval bench``), on a ``gpu`` or ``cpu`` worker.

    Everything is validated before anything is queued; a 4xx means nothing was written.
    Follow it with ``GET /bench/{id}``.
    """
    return submit_bench(session, settings=settings, queue=queue, request=body, token=token)


@router.get("", response_model=BenchJobList)
def list_bench(
    session: SessionDep,
    _reader: ReaderDep,
    status: Annotated[list[BenchStatus] | None, Query(description="Repeat for several.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[Int64, Query(ge=0)] = 0,
) -> BenchJobList:
    """Benchmark jobs, newest first (no records or summary: see ``GET /bench/{id}``)."""
    rows, total = bench_crud.list_jobs(session, status=status, limit=limit, offset=offset)
    items = [bench_read(r) for r in rows]
    return BenchJobList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=BenchJobDetail)
def get_bench(job: BenchJobDep, session: SessionDep) -> BenchJobDetail:
    """One job with its records (every ``BenchRecord``) and the core's analysis
    (speed-ups, harness overheads, batch scaling, targets) once completed."""
    return bench_detail(session, job)
