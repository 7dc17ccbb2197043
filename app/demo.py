"""``mdval standalone --demo``: a complete, demo-sized story in minutes, on a slot of its own.

What it queues: the built-in ``demo`` suite (demo-sized: 1 ps of NVE on H2O and CH4 after
0.2 ps of NVT, judged by the ``demo`` profile, whose stable-duration thresholds are scaled
to 1 ps) for every zoo student — they pass — and for the Lennard-Jones toy — it crashes at
once, a failed verdict. The first student runs first (it pays for the two GFN2-xTB
controls, cached for the others), then the toy, so that a pass and a fail show early.

Where it runs: the demo's runs are re-routed, after planning and before publishing, to the
``demo`` queue, which only the standalone's demo worker consumes (concurrency 1, one
torch/OpenMP thread: on a small CPU a second thread costs more in contention than it
gains). A user's submission goes to the ``gpu``/``cpu`` queues as always; their worker never
takes demo work, so it is never queued behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.crud import catalog
from app.crud import runs as runs_crud
from app.db.models import ApiToken, Run
from app.schemas.runs import RunCreate
from app.services.queue import Queue
from app.services.submissions import submit_runs

DEMO_SUITE = "demo"
#: The demo's queue (``MDVAL_QUEUE_PREFIX`` added); consumed by the demo worker only.
DEMO_QUEUE = "demo"
#: The demo's failing model: a toy that is no model of water or methane.
DEMO_FAILING_MODEL = "lj"
#: Threads of the demo worker (torch intra-op and OpenMP: GFN2-xTB's tblite).
DEMO_THREADS = 1
#: How long the demo retries a submission the validation worker is not up to answer yet.
SUBMIT_RETRY_S = 120.0
SUBMIT_RETRY_INTERVAL_S = 2.0

NOTICE = (
    "demo: DEMO-SIZED protocol (suite 'demo': 1 ps on H2O and CH4, profile 'demo' with the "
    "stable duration scaled to 1 ps) — it shows how mdval judges, it is not a validation "
    "(use m6-quick). The demo runs on a worker of its own: your own runs do not wait for it."
)


def demo_models(registered: Sequence[str]) -> list[str]:
    """The demo's models among the ``registered`` specs, in the order they are queued: the
    first zoo student, the failing toy, the other students."""
    students = sorted(s for s in registered if s.startswith("zoo:"))
    failing = [DEMO_FAILING_MODEL] if DEMO_FAILING_MODEL in registered else []
    return students[:1] + failing + students[1:]


def demo_worker_env(env: dict[str, str]) -> dict[str, str]:
    """The demo worker's environment: ``env`` with one torch/OpenMP thread."""
    threads = str(DEMO_THREADS)
    return {**env, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def demo_pending(engine: Engine, settings: Settings) -> bool:
    """Whether runs wait on (or hold) the demo queue, e.g. from an earlier ``--demo`` start."""
    with Session(engine) as session:
        stmt = select(Run.id).where(
            Run.queue == settings.queue(DEMO_QUEUE), Run.status.in_(("queued", "running"))
        )
        return session.scalar(stmt.limit(1)) is not None


def route_to_demo(
    session: Session, *, settings: Settings, queue: Queue, runs: list[tuple[int, str]]
) -> None:
    """Move freshly planned runs to the demo queue, then publish them there (the reaper
    re-sends by the row's queue, so the row is changed before anything is sent)."""
    demo = settings.queue(DEMO_QUEUE)
    ids = [run_id for run_id, _queue in runs]
    session.execute(update(Run).where(Run.id.in_(ids), Run.status == "queued").values(queue=demo))
    session.commit()
    sent = []
    for run_id in ids:
        try:
            queue.enqueue_run(run_id, demo)
            sent.append(run_id)
        except Exception:  # enqueued_at stays NULL: the reaper re-sends it
            continue
    runs_crud.mark_enqueued(session, run_ids=sent)
    session.commit()


def queue_demo(
    engine: Engine,
    settings: Settings,
    queue: Queue,
    *,
    token_name: str,
    echo: Callable[[str], None],
) -> list[int]:
    """Queue the demo suite for every demo model on the demo queue; the run ids."""
    echo(NOTICE)
    queued: list[int] = []
    with Session(engine) as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.name == token_name, ApiToken.revoked_at.is_(None))
        )
        if token is None:
            echo(f"demo: no live token '{token_name}'; nothing queued")
            return queued
        models = demo_models([p.spec for p in catalog.list_potentials(session)])
        if not models:
            echo("demo: no zoo students are registered; nothing queued")
            return queued
        for spec in models:
            queued += _submit(
                session, settings=settings, queue=queue, token=token, spec=spec, echo=echo
            )
    return queued


def _submit(
    session: Session,
    *,
    settings: Settings,
    queue: Queue,
    token: ApiToken,
    spec: str,
    echo: Callable[[str], None],
) -> list[int]:
    def to_demo(runs: list[tuple[int, str]]) -> None:
        route_to_demo(session, settings=settings, queue=queue, runs=runs)

    deadline = time.monotonic() + SUBMIT_RETRY_S
    while True:
        try:
            result = submit_runs(
                session,
                settings=settings,
                queue=queue,
                request=RunCreate(model=spec, suite=DEMO_SUITE),
                token=token,
                idempotency_key=None,
                defer=to_demo,
            )
        except ApiError as exc:  # 503: the validation worker is not up yet
            session.rollback()
            if exc.status_code == 503 and time.monotonic() < deadline:
                time.sleep(SUBMIT_RETRY_INTERVAL_S)
                continue
            echo(f"demo: {spec} not queued: {exc.detail}")
            return []
        except Exception as exc:  # report and go on with the next model
            session.rollback()
            echo(f"demo: {spec} not queued: {exc}")
            return []
        ids = [r.id for r in result.runs]
        expect = "expect a crash: fail" if spec == DEMO_FAILING_MODEL else "expect pass"
        echo(f"demo: queued {len(ids)} demo-sized runs for {spec} ({expect})")
        return ids
