"""``POST /api/v1/runs``: validate fully, write the rows, then enqueue.

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

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.crud import catalog
from app.crud import runs as runs_crud
from app.db.base import utcnow
from app.db.models import ApiToken, IdempotencyKey, Potential, Run, Structure, WorkerHeartbeat
from app.schemas.runs import NO_REFERENCE, RunCreate, RunParameters, RunSubmission
from app.services.queue import Queue
from app.services.views import run_read
from mdval.errors import InputError
from mdval.md.compatibility import check_engine
from mdval.potentials.families.declared import FAMILY_PREFIXES, canonical_spec, is_family_spec

log = logging.getLogger(__name__)

#: Kinds of potential that run on torch (GPU queue under device "auto").
#: Prefixes the worker can register on first use.
REGISTRABLE_MODEL_PREFIXES = ("zoo:", "py:", *FAMILY_PREFIXES)
REGISTRABLE_STRUCTURE_PREFIXES = ("smiles:",)
_PATH_SUFFIXES = (".pt", ".pth", ".xyz", ".extxyz", ".pdb", ".cif", ".traj", ".sdf", ".mol")


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.lower().endswith(_PATH_SUFFIXES)


def request_hash(request: RunCreate) -> str:
    body = request.model_dump(mode="json")
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# --- registry lookups -----------------------------------------------------------------------


def _catalog_seeded(session: Session) -> bool:
    return (
        session.scalar(select(Potential.id).where(Potential.builtin.is_(True)).limit(1)) is not None
    )


def _known_names(session: Session, model: type[Potential] | type[Structure]) -> str:
    names = session.scalars(select(model.spec).order_by(model.spec).limit(25)).all()
    return ", ".join(names) if names else "none registered yet"


def _model_usable(row: Potential, role: str) -> None:
    if row.status == "checking":
        raise ApiError(
            409,
            f"{role} '{row.spec}' is still being checked (test forward pass on a worker); "
            "retry in a few seconds",
            field=role,
        )
    if row.status == "rejected":
        raise ApiError(
            422, f"{role} '{row.spec}' was rejected when uploaded: {row.error}", field=role
        )


def register_described(
    session: Session, *, described: dict[str, Any], created_by: str | None
) -> None:
    """Register the models and structures a worker described (idempotent, race-safe)."""
    for described_spec, desc in (described.get("models") or {}).items():
        spec = canonical_model_spec(described_spec, "model")
        if _registered(session, Potential, spec):
            continue
        values = potential_values(desc, core_spec=spec, builtin=True, created_by=created_by)
        _upsert_quietly(
            session, lambda s=spec, v=values: catalog.upsert_potential(session, spec=s, values=v)
        )
    for spec, desc in (described.get("structures") or {}).items():
        if _registered(session, Structure, spec):
            continue
        source = "smiles" if spec.startswith("smiles:") else "builtin"
        values = structure_values(desc, core_spec=spec, source=source, created_by=created_by)
        _upsert_quietly(
            session, lambda s=spec, v=values: catalog.upsert_structure(session, spec=s, values=v)
        )


def _registered(session: Session, table: type[Potential] | type[Structure], core_spec: str) -> bool:
    stmt = select(table.id).where(table.core_spec == core_spec).limit(1)
    return session.scalar(stmt) is not None


def _upsert_quietly(session: Session, upsert: Any) -> None:
    try:
        with session.begin_nested():
            upsert()
    except IntegrityError:
        log.info("registry row appeared concurrently; keeping the other one")


def potential_values(
    desc: dict[str, Any], *, core_spec: str, builtin: bool, created_by: str | None
) -> dict[str, Any]:
    elements = desc.get("supported_elements")
    return {
        "name": str(desc.get("name") or core_spec)[:200],
        "kind": str(desc.get("kind") or "unknown")[:32],
        "core_spec": core_spec,
        "sha256": desc.get("sha256"),
        "n_params": desc.get("n_params"),
        "supported_elements": sorted(elements) if elements is not None else None,
        "periodic_ok": bool(desc.get("periodic_ok", True)),
        "status": "ready",
        "error": None,
        "builtin": builtin,
        "description": desc,
        "created_by": created_by,
    }


def structure_values(
    desc: dict[str, Any], *, core_spec: str, source: str, created_by: str | None
) -> dict[str, Any]:
    return {
        "name": str(desc.get("name") or core_spec)[:200],
        "source": source,
        "core_spec": core_spec,
        "formula": str(desc["formula"])[:200],
        "n_atoms": int(desc["n_atoms"]),
        "elements": sorted(desc["elements"]),
        "periodic": bool(desc.get("periodic", False)),
        "sha256": desc.get("sha256"),
        "description": desc,
        "created_by": created_by,
    }


def check_compatible(model: Potential, structure: Structure, *, role: str) -> None:
    """The element and periodicity checks, on cached registry data."""
    if model.supported_elements is not None:
        missing = sorted(set(structure.elements) - set(model.supported_elements))
        if missing:
            raise ApiError(
                422,
                f"structure '{structure.spec}' ({structure.formula}) contains "
                f"{', '.join(missing)}, which {role} '{model.spec}' does not support "
                f"(it supports {', '.join(model.supported_elements)})",
                field="structure",
            )
    if structure.periodic and not model.periodic_ok:
        raise ApiError(
            422,
            f"structure '{structure.spec}' is periodic and {role} '{model.spec}' handles only "
            "non-periodic systems",
            field="structure",
        )


def check_engine_compatible(model: Potential, structure: Structure, *, engine: str) -> None:
    """The engines' own rule (:func:`mdval.md.compatibility.check_engine`) on registry data."""
    try:
        check_engine(
            engine,
            potential_spec=model.spec,
            potential_kind=model.kind,
            is_torch=catalog.is_torch_potential(model),
            periodic=structure.periodic,
        )
    except InputError as exc:
        raise ApiError(422, str(exc), field="engine") from None


def live_workers_on(session: Session, *, settings: Settings, queue: str) -> list[str]:
    """Names of the workers that consume ``queue`` and sent a heartbeat recently (the same
    window as ``GET /health``)."""
    cutoff = utcnow() - timedelta(seconds=3 * settings.heartbeat_interval_s + 5)
    rows = session.scalars(
        select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= cutoff)
    ).all()
    return [w.name for w in rows if queue in (w.queues or [])]


# --- planning -------------------------------------------------------------------------------


@dataclass
class PlannedRun:
    model: Potential
    reference: Potential | None
    structure: Structure
    config: dict[str, Any]  # RunConfig fields, with the core's specs
    suite: str | None


def route_queue(settings: Settings, *, model: Potential, device: str) -> str:
    """``gpu`` or ``cpu`` (prefixed): by the device asked for, then by the potential."""
    if model.kind == "xtb" or device == "cpu":
        return settings.queue("cpu")
    if device == "cuda":
        return settings.queue("gpu")
    queue = settings.auto_device_queue if catalog.uses_torch(model) else "cpu"
    return settings.queue(queue)


def canonical_model_spec(spec: str, role: str) -> str:
    """One spelling per model: a family spec with its defaults filled in (``ani:1x`` →
    ``ani:1x?dtype=float32``), so that both spellings are one row; other specs as given."""
    if not is_family_spec(spec):
        return spec
    try:
        return canonical_spec(spec)
    except InputError as exc:
        raise ApiError(422, str(exc), field=role) from None


class Planner:
    """Turns a :class:`RunCreate` into validated :class:`PlannedRun` s."""

    def __init__(self, session: Session, *, settings: Settings, queue: Queue, user: str | None):
        self.session = session
        self.settings = settings
        self.queue = queue
        self.user = user
        self.registered = False  # whether a worker's answer added registry rows
        self._seeded: bool | None = None
        self._gpu_alive: bool | None = None

    @property
    def seeded(self) -> bool:
        """Whether the catalogue was registered (asked only when a name is unknown)."""
        if self._seeded is None:
            self._seeded = _catalog_seeded(self.session)
        return self._seeded

    def _lookup_model(self, key: str, role: str, pending: list[str]) -> Potential | None:
        key = canonical_model_spec(key, role)
        row = catalog.get_potential(self.session, key=key)
        if row is not None:
            _model_usable(row, role)
            return row
        if is_family_spec(key) and _looks_like_path(key.split("?", 1)[0]):
            raise ApiError(
                422,
                f"{role} '{key}' names a checkpoint file on the server: the service runs the "
                "checkpoints a family's package ships (e.g. ani:1x, sevennet:7net-0, "
                "chgnet:0.3.0); validate a local checkpoint with the mdval CLI",
                field=role,
            )
        if _looks_like_path(key):
            raise ApiError(
                422,
                f"{role} '{key}' looks like a file path: upload the TorchScript file with "
                "POST /api/v1/models and use the spec it returns",
                field=role,
            )
        if key.startswith(REGISTRABLE_MODEL_PREFIXES) or not self.seeded:
            pending.append(key)
            return None
        raise ApiError(
            422,
            f"unknown {role} '{key}'; registered models: {_known_names(self.session, Potential)}",
            field=role,
        )

    def _lookup_structure(self, key: str, pending: list[str]) -> Structure | None:
        row = catalog.get_structure(self.session, key=key)
        if row is not None:
            return row
        if key.startswith(REGISTRABLE_STRUCTURE_PREFIXES) or (
            not self.seeded and not _looks_like_path(key)
        ):
            pending.append(key)
            return None
        hint = (
            "upload the file with POST /api/v1/structures"
            if _looks_like_path(key)
            else f"known structures: {_known_names(self.session, Structure)}"
        )
        raise ApiError(422, f"unknown structure '{key}'; {hint}", field="structure")

    def _check_profile(self, profile: str) -> bool:
        """True when the profile is known here; False: let the worker check it."""
        names = catalog.profile_names(self.session)
        if not names:
            return False
        if profile not in names:
            raise ApiError(
                422,
                f"unknown profile '{profile}'; known profiles: {', '.join(sorted(names))}",
                field="profile",
            )
        return True

    def _ask_worker(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Ask a worker (up to ``validate_timeout_s``) with no transaction open, then
        register what it described in a short transaction of its own."""
        if self.session.new or self.session.dirty or self.session.deleted:
            raise RuntimeError("the planner must not hold unwritten changes across a broker call")
        self.session.commit()  # ends the lookups' read transaction; nothing is written
        answer = self.queue.validate(payload)
        error = answer.get("error")
        if error:
            raise ApiError(422, str(error.get("message")), field=error.get("field"))
        register_described(self.session, described=answer, created_by=self.user)
        self.session.commit()  # kept even if the insert of the runs races
        self.registered = True
        return answer

    def _check_device(self, model: Potential, device: str) -> None:
        """``cuda`` needs a live worker on the gpu queue (see the module docstring)."""
        if device != "cuda":
            return
        queue = route_queue(self.settings, model=model, device=device)
        if queue != self.settings.queue("gpu"):
            return
        if self._gpu_alive is None:
            self._gpu_alive = bool(
                live_workers_on(self.session, settings=self.settings, queue=queue)
            )
        if not self._gpu_alive:
            raise ApiError(
                422,
                f"device 'cuda' asked for, but no live worker serves the gpu queue '{queue}' "
                "(GET /api/v1/health lists the workers): start a GPU worker "
                "(`mdval worker --queues gpu`) or use device 'auto' or 'cpu'",
                field="device",
            )

    def plan(self, request: RunCreate) -> list[PlannedRun]:
        if request.suite is not None:
            return self._plan_suite(request)
        return [self._plan_single(request)]

    def _plan_single(self, request: RunCreate) -> PlannedRun:
        assert request.structure is not None
        pending_models: list[str] = []
        pending_structures: list[str] = []
        model = self._lookup_model(request.model, "model", pending_models)
        reference = (
            self._lookup_model(request.reference, "reference", pending_models)
            if request.reference
            else None
        )
        structure = self._lookup_structure(request.structure, pending_structures)
        profile = str(request.parameters()["profile"])
        profile_known = self._check_profile(profile)
        if pending_models or pending_structures or not profile_known:
            self._ask_worker(
                {
                    "models": pending_models,
                    "structures": pending_structures,
                    "profile": None if profile_known else profile,
                }
            )
            model = model or catalog.get_potential(
                self.session, key=canonical_model_spec(request.model, "model")
            )
            if request.reference:
                reference = reference or catalog.get_potential(
                    self.session, key=canonical_model_spec(request.reference, "reference")
                )
            structure = structure or catalog.get_structure(self.session, key=request.structure)
        if model is None or structure is None or (request.reference and reference is None):
            raise ApiError(503, "the worker's answer did not register every name; try again")
        return self._finish(model, reference, structure, request.parameters(), suite=None)

    def _finish(
        self,
        model: Potential,
        reference: Potential | None,
        structure: Structure,
        parameters: dict[str, Any],
        *,
        suite: str | None,
    ) -> PlannedRun:
        check_engine_compatible(model, structure, engine=str(parameters["engine"]))
        check_compatible(model, structure, role="model")
        if reference is not None:
            check_compatible(reference, structure, role="reference")
        self._check_device(model, str(parameters["device"]))
        config = {
            "model": model.core_spec,
            "structure": structure.core_spec,
            "reference": reference.core_spec if reference is not None else None,
            **parameters,
        }
        return PlannedRun(model, reference, structure, config, suite)

    def _plan_suite(self, request: RunCreate) -> list[PlannedRun]:
        assert request.suite is not None
        pending: list[str] = []
        model = self._lookup_model(request.model, "model", pending)
        reference = (
            self._lookup_model(request.reference, "reference", pending)
            if request.reference and request.reference != NO_REFERENCE
            else None
        )
        overrides = {
            k: v
            for k, v in request.parameters().items()
            if k in request.model_fields_set and k not in ("suite",)
        }
        answer = self._ask_worker(
            {
                "models": pending,
                "structures": [],
                "suite": {
                    "name": request.suite,
                    "model": model.core_spec
                    if model
                    else canonical_model_spec(request.model, "model"),
                    "reference": reference.core_spec
                    if reference
                    else canonical_model_spec(request.reference, "reference")
                    if request.reference
                    else None,
                    "overrides": overrides,
                },
            }
        )
        configs = answer.get("configs") or []
        if not configs:
            raise ApiError(422, f"suite '{request.suite}' expands to no runs", field="suite")
        if len(configs) > self.settings.max_runs_per_request:
            raise ApiError(
                422,
                f"suite '{request.suite}' expands to {len(configs)} runs, more than "
                f"MDVAL_MAX_RUNS_PER_REQUEST={self.settings.max_runs_per_request}",
                field="suite",
            )
        planned = []
        for config in configs:
            m = self._by_core_spec(Potential, config["model"])
            r = (
                self._by_core_spec(Potential, config["reference"])
                if config.get("reference")
                else None
            )
            s = self._by_core_spec(Structure, config["structure"])
            params = RunParameters.model_validate(
                {k: v for k, v in config.items() if k not in ("model", "structure", "reference")}
            ).model_dump()
            planned.append(self._finish(m, r, s, params, suite=request.suite))
        return planned

    def _by_core_spec(self, table: type[Potential] | type[Structure], core_spec: str) -> Any:
        if table is Potential:
            core_spec = canonical_model_spec(core_spec, "model")
        row = self.session.scalar(select(table).where(table.core_spec == core_spec).limit(1))
        if row is None:
            raise ApiError(503, f"the worker did not describe '{core_spec}'; try again")
        return row


# --- submission -----------------------------------------------------------------------------


def _replay(existing: IdempotencyKey, *, digest: str, token: ApiToken) -> RunSubmission:
    if existing.token_id != token.id:
        raise ApiError(
            409,
            "this Idempotency-Key was used by another token; use a fresh key",
            field="Idempotency-Key",
        )
    if existing.request_hash != digest:
        raise ApiError(
            409,
            "this Idempotency-Key was used for a different request body; use a fresh key for a "
            "new request",
            field="Idempotency-Key",
        )
    return RunSubmission.model_validate({**existing.response, "replayed": True})


def submit_runs(
    session: Session,
    *,
    settings: Settings,
    queue: Queue,
    request: RunCreate,
    token: ApiToken,
    idempotency_key: str | None,
    defer: Callable[[list[tuple[int, str]]], None] | None = None,
) -> RunSubmission:
    """Validate, write and enqueue. Raises :class:`ApiError` with nothing queued.

    ``defer`` takes the ``(run_id, queue)`` pairs to publish later (the route publishes
    after the response is sent); without it they are published here."""
    digest = request_hash(request)
    if idempotency_key is not None:
        existing = session.get(IdempotencyKey, idempotency_key)
        if existing is not None:
            return _replay(existing, digest=digest, token=token)

    planner = Planner(session, settings=settings, queue=queue, user=token.name)
    planned = planner.plan(request)

    submission_id = str(uuid.uuid4())
    rows = [
        _run_row(p, settings=settings, submission_id=submission_id, user=token.name)
        for p in planned
    ]
    session.add_all(rows)
    session.flush()
    response = RunSubmission(
        submission_id=submission_id,
        suite=request.suite,
        id=rows[0].id,
        status="queued",
        runs=[run_read(r) for r in rows],
    )
    if idempotency_key is not None:
        session.add(
            IdempotencyKey(
                key=idempotency_key,
                token_id=token.id,
                request_hash=digest,
                submission_id=submission_id,
                status_code=201,
                response=response.model_dump(mode="json"),
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.get(IdempotencyKey, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, digest=digest, token=token)

    to_publish = [(r.id, r.queue) for r in rows]
    if defer is None:
        enqueue_runs(session, queue=queue, runs=to_publish)
    else:
        defer(to_publish)
    return response


def _run_row(p: PlannedRun, *, settings: Settings, submission_id: str, user: str | None) -> Run:
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


def enqueue_runs(session: Session, *, queue: Queue, runs: list[tuple[int, str]]) -> None:
    """Publish after the commit; a failed publish is retried by the reaper
    (``requeue_unsent_after_s``) because ``enqueued_at`` stays NULL."""
    sent = []
    for run_id, queue_name in runs:
        try:
            queue.enqueue_run(run_id, queue_name)
            sent.append(run_id)
        except Exception:  # the reaper re-sends it
            log.exception("could not publish run %s; the reaper will retry", run_id)
    runs_crud.mark_enqueued(session, run_ids=sent)
    session.commit()
