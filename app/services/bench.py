"""``POST /api/v1/bench``: validate a benchmark request, write the job, publish it.

Names are checked as for a run (:class:`app.services.submissions.Planner`: the registry's
fast path, a worker round trip for ``zoo:``/``py:`` names it does not hold yet, the same
messages); then every model must be a torch potential and support the structures' elements.
Only then is the job row written; the message is published after the commit, and a publish
that fails marks the job ``failed`` (503): nothing is left half-queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.crud import bench as bench_crud
from app.crud import catalog
from app.db.models import ApiToken, BenchJob, Potential, Structure
from app.schemas.bench import WATER_CLUSTER, BenchCreate, BenchJobDetail, BenchJobRead
from app.services.queue import Queue
from app.services.submissions import Planner, check_compatible, route_queue

log = logging.getLogger(__name__)

#: Elements of the water clusters the core builds for cost against size (``water-N``).
WATER_ELEMENTS = ("H", "O")


class BenchPlanner(Planner):
    """The run planner's name lookups, for the lists of names a benchmark takes."""

    def resolve(
        self, *, models: Sequence[tuple[str, str]], structures: Sequence[str]
    ) -> tuple[list[Potential], list[Structure]]:
        """Registry rows of ``models`` (``(key, role)`` pairs) and ``structures``, in
        order: registered names on the fast path, the others in one worker round trip.
        Raises :class:`ApiError` (422) naming the first unknown or unusable one."""
        pending_models: list[str] = []
        pending_structures: list[str] = []
        found_models = [self._lookup_model(key, role, pending_models) for key, role in models]
        found_structures = [self._lookup_structure(key, pending_structures) for key in structures]
        if pending_models or pending_structures:
            self._ask_worker({"models": pending_models, "structures": pending_structures})
        out_models: list[Potential] = []
        for row, (key, _role) in zip(found_models, models, strict=True):
            model = row or catalog.get_potential(self.session, key=key)
            if model is None:
                raise ApiError(503, "the worker's answer did not register every name; try again")
            out_models.append(model)
        out_structures: list[Structure] = []
        for found, key in zip(found_structures, structures, strict=True):
            structure = found or catalog.get_structure(self.session, key=key)
            if structure is None:
                raise ApiError(503, "the worker's answer did not register every name; try again")
            out_structures.append(structure)
        return out_models, out_structures


def _with_field(exc: ApiError, field: str) -> ApiError:
    """The planner names fields as a run request has them (``model``, ``structure``)."""
    exc.field = field or exc.field
    return exc


def _check_water_cluster(models: list[Potential], name: str) -> None:
    for model in models:
        if model.supported_elements is None:
            continue
        missing = sorted(set(WATER_ELEMENTS) - set(model.supported_elements))
        if missing:
            raise ApiError(
                422,
                f"structure '{name}' (a water cluster) contains {', '.join(missing)}, which "
                f"model '{model.spec}' does not support "
                f"(it supports {', '.join(model.supported_elements)})",
                field="size_structures",
            )


def core_plan(
    request: BenchCreate,
    *,
    models: list[Potential],
    teacher: Potential | None,
    structure: Structure,
    size_structures: list[str] | None,
) -> dict[str, Any]:
    """What the worker hands to the core: ``quick`` (which plan to start from), the
    ``mdval.bench.BenchPlan`` fields to replace (core specs), and ``labels`` (core spec ->
    the name users know, for the records)."""
    overrides: dict[str, Any] = {
        "models": [m.core_spec for m in models],
        "teacher": teacher.core_spec if teacher is not None else None,
        "main_structure": structure.core_spec,
        "device": request.device,
    }
    optional = {
        "size_structures": size_structures,
        "replicas": request.replicas,
        "n_steps": request.steps,
        "long_steps": request.long_steps,
        "threads": request.threads,
    }
    overrides.update({k: v for k, v in optional.items() if v is not None})
    labels = {m.core_spec: m.spec for m in [*models, *([teacher] if teacher else [])]}
    return {"quick": request.quick, "overrides": overrides, "labels": labels}


def plan_bench(
    session: Session, *, settings: Settings, queue: Queue, request: BenchCreate, user: str | None
) -> tuple[dict[str, Any], str]:
    """Validate every name of ``request``; returns the core plan and the queue to use."""
    planner = BenchPlanner(session, settings=settings, queue=queue, user=user)
    sizes = request.size_structures or []
    registry_sizes = [s for s in sizes if not WATER_CLUSTER.match(s)]
    named = [(m, "model") for m in request.models]
    if request.teacher is not None:
        named.append((request.teacher, "teacher"))
    try:
        potentials, (main,) = planner.resolve(models=named, structures=[request.structure])
    except ApiError as exc:
        raise _with_field(exc, {"model": "models"}.get(exc.field or "", exc.field or "")) from None
    try:
        _, size_rows = planner.resolve(models=[], structures=registry_sizes)
    except ApiError as exc:
        raise _with_field(exc, "size_structures") from None
    if planner.registered:
        session.commit()  # what the worker described is kept
    models = potentials[: len(request.models)]
    teacher = potentials[len(request.models)] if request.teacher is not None else None
    for model in models:
        if not catalog.is_torch_potential(model):
            raise ApiError(
                422,
                f"model '{model.spec}' is not a torch potential (kind '{model.kind}'): the "
                "benchmark times torch models through the bare model, the torch engine and "
                "the ASE engine; give it as 'teacher' to time it through the ASE engine",
                field="models",
            )
    for model in models:
        check_compatible(model, main, role="model")
        for row in size_rows:
            try:
                check_compatible(model, row, role="model")
            except ApiError as exc:
                raise _with_field(exc, "size_structures") from None
        for name in sizes:
            if WATER_CLUSTER.match(name):
                _check_water_cluster([model], name)
    if teacher is not None:
        for row in (main, *size_rows):
            check_compatible(teacher, row, role="teacher")
        for name in sizes:
            if WATER_CLUSTER.match(name):
                _check_water_cluster([teacher], name)
    by_name = {s: row.core_spec for s, row in zip(registry_sizes, size_rows, strict=True)}
    size_specs = [by_name.get(s, s) for s in sizes] if request.size_structures is not None else None
    plan = core_plan(
        request, models=models, teacher=teacher, structure=main, size_structures=size_specs
    )
    return plan, route_queue(settings, model=models[0], device=request.device)


def submit_bench(
    session: Session, *, settings: Settings, queue: Queue, request: BenchCreate, token: ApiToken
) -> BenchJobDetail:
    """Validate, write the job, publish it; the job as created (``queued`` — a worker may
    claim it the moment it is published). Raises :class:`ApiError` with nothing queued."""
    plan, queue_name = plan_bench(
        session, settings=settings, queue=queue, request=request, user=token.name
    )
    job = bench_crud.create_job(
        session,
        request=request.model_dump(mode="json"),
        plan=plan,
        device=request.device,
        queue=queue_name,
        created_by=token.name,
    )
    session.commit()
    created = bench_detail(session, job)
    try:
        queue.enqueue_bench(job.id, queue_name)
    except Exception as exc:  # broker down: the job must not stay queued forever
        log.exception("could not publish benchmark %s", job.id)
        reason = f"the job queue is unreachable ({exc}); submit the benchmark again"
        bench_crud.fail_job(session, job_id=job.id, reason=reason)
        session.commit()
        raise ApiError(503, f"{reason}. Benchmark {job.id} was marked failed.") from exc
    return created


# --- views ----------------------------------------------------------------------------------


def bench_read(job: BenchJob) -> BenchJobRead:
    return BenchJobRead(
        id=job.id,
        status=job.status,
        request=job.request,
        plan=job.plan,
        models=list((job.request or {}).get("models") or []),
        device=job.device,
        queue=job.queue,
        worker=job.worker,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        heartbeat_at=job.heartbeat_at,
        finished_at=job.finished_at,
        progress=job.progress,
        failure_reason=job.failure_reason,
        device_name=job.device_name,
        torch_version=job.torch_version,
        threads=job.threads,
        context=job.context,
        wall_s=job.wall_s,
        n_records=job.n_records,
    )


def bench_detail(session: Session, job: BenchJob) -> BenchJobDetail:
    records = bench_crud.read_records(session, job_id=job.id)
    return BenchJobDetail(
        **bench_read(job).model_dump(),
        records=records,  # validated as BenchRecordRead
        summary=job.summary,
    )
