"""A submission from start to end: replay a known ``Idempotency-Key``, plan every run (any
error: nothing written), write the runs and the key in one transaction, publish after the
commit. One request is one submission (one ``submission_id``), whose runs a worker may run
as one batch (``workers.tasks.claim_partners``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.db.models import ApiToken, Run
from app.schemas.runs import RunBatchCreate, RunCreate, RunSubmission
from app.services.queue import Queue
from app.services.submissions import idempotency
from app.services.submissions.enqueue import enqueue_runs
from app.services.submissions.planning import PlannedRun, Planner
from app.services.submissions.routing import route_queue
from app.services.views import run_read

#: ``(run_id, queue)`` pairs to publish; the route publishes them after the answer is sent.
Defer = Callable[[list[tuple[int, str]]], None]


def submit_runs(
    session: Session,
    *,
    settings: Settings,
    queue: Queue,
    request: RunCreate,
    token: ApiToken,
    idempotency_key: str | None,
    defer: Defer | None = None,
) -> RunSubmission:
    """``POST /runs``: one run or a suite. Validate, write and enqueue; raises
    :class:`ApiError` with nothing queued.

    ``defer`` takes the ``(run_id, queue)`` pairs to publish later (the route publishes
    after the response is sent); without it they are published here."""
    return _submit(
        session,
        settings=settings,
        queue=queue,
        request=request,
        plan=lambda planner: planner.plan(request),
        suite=request.suite,
        token=token,
        idempotency_key=idempotency_key,
        defer=defer,
    )


def submit_batch(
    session: Session,
    *,
    settings: Settings,
    queue: Queue,
    request: RunBatchCreate,
    token: ApiToken,
    idempotency_key: str | None,
    defer: Defer | None = None,
) -> RunSubmission:
    """``POST /runs/batch``: several runs as one submission, all or none, under one key.

    A refused run refuses the whole request; its message starts with ``run i of n`` and its
    field is ``runs.<i-1>.<field>``."""
    n = len(request.runs)
    if n > settings.max_runs_per_request:
        raise ApiError(
            422,
            f"{n} runs in one request is more than "
            f"MDVAL_MAX_RUNS_PER_REQUEST={settings.max_runs_per_request}",
            field="runs",
        )

    def plan(planner: Planner) -> list[PlannedRun]:
        planned: list[PlannedRun] = []
        for i, item in enumerate(request.runs):
            try:
                planned += planner.plan(item)
            except ApiError as exc:
                field = f"runs.{i}.{exc.field}" if exc.field else f"runs.{i}"
                raise ApiError(
                    exc.status_code, f"run {i + 1} of {n}: {exc.detail}", field=field
                ) from None
        _refuse_repeats(planned)
        return planned

    return _submit(
        session,
        settings=settings,
        queue=queue,
        request=request,
        plan=plan,
        suite=None,
        token=token,
        idempotency_key=idempotency_key,
        defer=defer,
    )


def _refuse_repeats(planned: list[PlannedRun]) -> None:
    """Two equal runs (same model, structure and protocol, seed included) in one request are
    a mistake of the caller (a doubled form row), not two replicas."""
    seen: dict[str, int] = {}
    for i, p in enumerate(planned):
        key = json.dumps(p.config, sort_keys=True, default=str)
        if key in seen:
            raise ApiError(
                422,
                f"runs {seen[key] + 1} and {i + 1} are the same run (same model, structure and "
                "protocol, seed included): give them different seeds or drop one",
                field=f"runs.{i}",
            )
        seen[key] = i


def _submit(
    session: Session,
    *,
    settings: Settings,
    queue: Queue,
    request: BaseModel,
    plan: Callable[[Planner], list[PlannedRun]],
    suite: str | None,
    token: ApiToken,
    idempotency_key: str | None,
    defer: Defer | None,
) -> RunSubmission:
    digest = idempotency.request_hash(request)
    existing = idempotency.stored(session, idempotency_key)
    if existing is not None:
        return idempotency.replay(existing, digest=digest, token=token)

    planned = plan(Planner(session, settings=settings, queue=queue, user=token.name))

    submission_id = str(uuid.uuid4())
    rows = [
        run_row(p, settings=settings, submission_id=submission_id, user=token.name) for p in planned
    ]
    session.add_all(rows)
    session.flush()
    response = RunSubmission(
        submission_id=submission_id,
        suite=suite,
        id=rows[0].id,
        status="queued",
        runs=[run_read(r) for r in rows],
    )
    if idempotency_key is not None:
        idempotency.remember(
            session, key=idempotency_key, token=token, digest=digest, response=response
        )
    try:
        session.commit()
    except IntegrityError:  # the same key committed concurrently: answer as that request
        session.rollback()
        existing = idempotency.stored(session, idempotency_key)
        if existing is None:
            raise
        return idempotency.replay(existing, digest=digest, token=token)

    to_publish = [(r.id, r.queue) for r in rows]
    if defer is None:
        enqueue_runs(session, queue=queue, runs=to_publish)
    else:
        defer(to_publish)
    return response


def run_row(p: PlannedRun, *, settings: Settings, submission_id: str, user: str | None) -> Run:
    c = p.config
    return Run(
        submission_id=submission_id,
        suite=p.suite,
        model_id=p.model.id,
        reference_id=p.reference.id if p.reference else None,
        structure_id=p.structure.id,
        model_spec=p.model.spec,
        reference_spec=p.reference.spec if p.reference else None,
        structure_spec=p.structure.spec,
        temperature_K=c["temperature_K"],
        timestep_fs=c["timestep_fs"],
        duration_ps=c["duration_ps"],
        equilibration_ps=c["equilibration_ps"],
        seed=c["seed"],
        profile=c["profile"],
        device=c["device"],
        config=c,
        queue=route_queue(settings, model=p.model, device=c["device"]),
        status="queued",
        cancel_requested=False,
        attempt=0,
        max_attempts=settings.max_attempts,
        created_by=user,
        n_atoms=p.structure.n_atoms,
        formula=p.structure.formula,
        done_steps=0,
        progress=0.0,
    )
