"""Turning a request into validated runs (:class:`Planner`): registry lookups, the worker's
answer for names the registry does not know, compatibility, device; nothing is written
here except registry rows a worker described."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.core.config import Settings
from app.crud import catalog
from app.db.models import Potential, Structure
from app.schemas.runs import NO_REFERENCE, RunCreate, RunParameters
from app.services.queue import Queue
from app.services.submissions.compatibility import check_compatible, check_engine_compatible
from app.services.submissions.registry import (
    REGISTRABLE_MODEL_PREFIXES,
    REGISTRABLE_STRUCTURE_PREFIXES,
    canonical_model_spec,
    catalog_seeded,
    known_names,
    looks_like_path,
    model_usable,
    register_described,
)
from app.services.submissions.routing import live_workers_on, route_queue
from mdval.potentials.families.declared import is_family_spec


@dataclass
class PlannedRun:
    model: Potential
    reference: Potential | None
    structure: Structure
    config: dict[str, Any]  # RunConfig fields, with the core's specs
    suite: str | None


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
            self._seeded = catalog_seeded(self.session)
        return self._seeded

    def _lookup_model(self, key: str, role: str, pending: list[str]) -> Potential | None:
        key = canonical_model_spec(key, role)
        row = catalog.get_potential(self.session, key=key)
        if row is not None:
            model_usable(row, role)
            return row
        if is_family_spec(key) and looks_like_path(key.split("?", 1)[0]):
            raise ApiError(
                422,
                f"{role} '{key}' names a checkpoint file on the server: the service runs the "
                "checkpoints a family's package ships (e.g. ani:1x, sevennet:7net-0, "
                "chgnet:0.3.0); validate a local checkpoint with the mdval CLI",
                field=role,
            )
        if looks_like_path(key):
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
            f"unknown {role} '{key}'; registered models: {known_names(self.session, Potential)}",
            field=role,
        )

    def _lookup_structure(self, key: str, pending: list[str]) -> Structure | None:
        row = catalog.get_structure(self.session, key=key)
        if row is not None:
            return row
        if key.startswith(REGISTRABLE_STRUCTURE_PREFIXES) or (
            not self.seeded and not looks_like_path(key)
        ):
            pending.append(key)
            return None
        hint = (
            "upload the file with POST /api/v1/structures"
            if looks_like_path(key)
            else f"known structures: {known_names(self.session, Structure)}"
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
