"""``POST /api/v1/runs`` and ``POST /api/v1/runs/batch``: validate fully, write the rows,
then enqueue.

Modules, one job each: :mod:`.registry` (names, spellings, registering what a worker
described), :mod:`.compatibility` (elements, periodicity, engine), :mod:`.routing` (queue
by device and potential, live workers), :mod:`.planning` (request -> validated runs),
:mod:`.idempotency` (replay a key), :mod:`.submit` (one transaction per request),
:mod:`.enqueue` (publish after the commit).

How a request is validated without torch or ase in the API process
------------------------------------------------------------------
1. Numbers: :class:`app.schemas.runs.RunParameters` (the ranges of the core's RunConfig).
2. Model, reference, structure, profile: looked up in the registry tables, which hold what
   the core said about each when it was registered (supported elements, periodicity,
   formula, elements). The element and periodicity checks are set arithmetic on those rows.
   This is the fast path: no worker round trip for registered names.
3. A name the registry does not know yet (``zoo:…``, ``py:…``, ``smiles:…``, or anything
   before the catalogue was seeded) and every suite go to the ``validate`` queue: a worker
   resolves them with the core (``resolve_potential``, ``load_structure``,
   ``check_elements``, ``expand``) and the API waits for the answer (``validate_timeout_s``),
   then registers what the worker described.
4. What the engines would refuse when the run starts (``engine: torch`` with a non-torch
   potential or a periodic structure) is refused here with the core's own rule
   (:func:`mdval.md.compatibility.check_engine`, no torch import). ``device: cuda`` is
   refused unless a worker consuming the gpu queue has sent a heartbeat recently: the API
   cannot see a GPU itself, and a cuda run with no such worker would wait forever (a
   worker on the gpu queue that has no CUDA still fails the run when it starts it).
Only when all of that passed are rows written; messages are published after the commit.

No database transaction is open while the API waits for a worker's answer: the lookups'
read transaction is ended before the broker call, and what the worker described is
registered afterwards in a short transaction of its own.
"""

from app.services.submissions.compatibility import check_compatible, check_engine_compatible
from app.services.submissions.enqueue import enqueue_runs
from app.services.submissions.idempotency import request_hash
from app.services.submissions.planning import PlannedRun, Planner
from app.services.submissions.registry import (
    REGISTRABLE_MODEL_PREFIXES,
    REGISTRABLE_STRUCTURE_PREFIXES,
    canonical_model_spec,
    potential_values,
    register_described,
    structure_values,
)
from app.services.submissions.routing import live_workers_on, route_queue
from app.services.submissions.submit import submit_batch, submit_runs

__all__ = [
    "REGISTRABLE_MODEL_PREFIXES",
    "REGISTRABLE_STRUCTURE_PREFIXES",
    "PlannedRun",
    "Planner",
    "canonical_model_spec",
    "check_compatible",
    "check_engine_compatible",
    "enqueue_runs",
    "live_workers_on",
    "potential_values",
    "register_described",
    "request_hash",
    "route_queue",
    "structure_values",
    "submit_batch",
    "submit_runs",
]
