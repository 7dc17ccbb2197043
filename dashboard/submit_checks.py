"""Checks of the submit form before anything is queued.

Numbers are validated by the API's own request model (:class:`app.schemas.runs.RunCreate`,
the core's RunConfig ranges) with the API's own error sentences; element and periodicity
checks mirror the API's on the registry rows the form loaded. The API validates again on
submit, and its 4xx answer is shown as it comes.

A field the server rejected (a SMILES RDKit cannot parse, an upload it refused) empties that
field and is named in the problems until something else is chosen, so Queue can never send
an earlier choice that is no longer on screen. Custom runs go as one request
(:func:`request_of`: ``POST /runs/batch``, all or none); a suite as ``POST /runs``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from pydantic import ValidationError

from app.api.errors import validation_body
from app.schemas.runs import RunCreate
from dashboard.families import family_problem, resolved_model

#: Most runs one custom submission may queue (temperatures × timesteps × seeds).
MAX_CUSTOM_RUNS = 100
MAX_SEEDS = 20


def parse_numbers(text: Any, label: str) -> tuple[list[float], str | None]:
    """``"100, 300 500"`` -> [100.0, 300.0, 500.0]; an error sentence when not numbers."""
    if isinstance(text, int | float):
        return [float(text)], None
    parts = [p for p in str(text or "").replace(";", ",").replace(",", " ").split() if p]
    if not parts:
        return [], f"{label}: give at least one value"
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return [], f"{label}: '{text}' is not a list of numbers"
    return sorted(set(values)), None


def element_problem(
    model: dict[str, Any] | None, structure: dict[str, Any] | None, *, role: str
) -> str | None:
    """The API's element / periodicity check on registry rows (None: compatible)."""
    if not model or not structure:
        return None
    supported = model.get("supported_elements")
    if supported is not None:
        missing = sorted(set(structure["elements"]) - set(supported))
        if missing:
            return (
                f"structure '{structure['spec']}' ({structure['formula']}) contains "
                f"{', '.join(missing)}, which {role} '{model['spec']}' does not support "
                f"(it supports {', '.join(supported) or 'nothing'})"
            )
    if structure.get("periodic") and not model.get("periodic_ok", True):
        return (
            f"structure '{structure['spec']}' is periodic and {role} '{model['spec']}' handles "
            "only non-periodic systems"
        )
    return None


#: How the problems name a field the server rejected.
FIELD_LABELS = {"model": "Model", "structure": "Structure"}


def rejected_problem(field: str, rejected: dict[str, Any] | None) -> str | None:
    """``Structure: SMILES 'CC(' was rejected: <the server's whole message>``."""
    entry = (rejected or {}).get(field)
    if not entry:
        return None
    return f"{FIELD_LABELS[field]}: {entry['what']} was rejected: {entry['detail']}"


def source_problem(form: dict[str, Any], catalog: dict[str, Any]) -> str | None:
    """The structure must come from the source on screen: with "SMILES" chosen, the
    structure registered from the SMILES in the box (not one picked before); with "upload",
    an uploaded file."""
    source = form.get("structure_source") or "builtin"
    spec = form.get("structure") or ""
    if source == "smiles":
        text = str(form.get("smiles") or "").strip()
        if not text:
            return "Structure (SMILES): type a SMILES and press Preview"
        if spec != f"smiles:{text}":
            return f"Structure (SMILES): press Preview to check '{text}' before queueing"
    if source == "upload":
        row = catalog.get("structures", {}).get(spec) or {}
        if row.get("source") != "upload":
            return "Structure (file): drop a structure file to upload it"
    return None


def request_of(bodies: list[dict[str, Any]], *, suite: bool) -> tuple[str, dict[str, Any]]:
    """The one request a form submission makes: a suite as ``POST /runs``, custom runs (one
    or many) as ``POST /runs/batch`` (one submission, all or none)."""
    if suite:
        return "/runs", bodies[0]
    return "/runs/batch", {"runs": bodies}


def idempotency_key(nonce: str, path: str, body: dict[str, Any]) -> str:
    """One key per form submission: the page's nonce (new on every visit of the page) and
    the request itself, so a second click on the same form replays the first request
    instead of queueing the runs twice, while a changed form is a new request."""
    text = json.dumps([path, body], sort_keys=True, default=str)
    return f"dashboard-{uuid.uuid5(uuid.NAMESPACE_URL, f'{nonce}:{text}')}"


def api_field(field: str | None) -> str:
    """``runs.1.structure`` -> ``run 2: structure`` (the batch's field paths, for a person)."""
    if not field:
        return ""
    parts = field.split(".")
    if parts[0] == "runs" and len(parts) > 1 and parts[1].isdigit():
        rest = ".".join(parts[2:])
        return f"run {int(parts[1]) + 1}" + (f": {rest}" if rest else "")
    return field


def _validate(body: dict[str, Any]) -> str | None:
    try:
        RunCreate.model_validate(body)
    except ValidationError as exc:
        return str(validation_body([dict(e) for e in exc.errors()])["detail"])
    return None


def plan(
    form: dict[str, Any], catalog: dict[str, Any], rejected: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The run bodies the form would send, and every problem found (empty: submit).
    ``rejected``: what the server refused (``{"structure": {"what": ..., "detail": ...}}``),
    named while that field stays empty."""
    problems: list[str] = []
    models, structures = catalog.get("models", {}), catalog.get("structures", {})
    # a family checkpoint: its canonical spec with the option control's value
    model_spec, reference = resolved_model(form, catalog), form.get("reference") or None
    if not model_spec:
        problems.append(
            rejected_problem("model", rejected)
            or "choose a potential (or upload a TorchScript file)"
        )
    not_installed = family_problem(form, catalog)
    if not_installed:
        problems.append(not_installed)
    model = models.get(model_spec or "")
    if model is not None and model.get("status") != "ready":
        problems.append(
            f"model '{model_spec}' is {model.get('status')}: {model.get('error') or ''}"
        )
    common: dict[str, Any] = {"model": model_spec or "?", "profile": form.get("profile") or "m6"}
    if reference:
        common["reference"] = reference
    if form.get("device"):
        common["device"] = form["device"]

    if form.get("mode") == "suite":
        suite = catalog.get("suites", {}).get(form.get("suite") or "")
        if suite is None:
            problems.append("choose a suite preset")
            return [], problems
        body = {**common, "suite": suite["name"]}
        definition = suite.get("definition") or {}
        if not reference and definition.get("reference"):
            body.pop("reference", None)
        for spec in definition.get("structures", []):
            for who, role in ((model, "model"), (models.get(reference or ""), "reference")):
                issue = element_problem(who, structures.get(spec), role=role)
                if issue:
                    problems.append(issue)
        error = _validate(body) if model_spec else None
        return ([body] if not problems and not error else []), problems + ([error] if error else [])

    structure_spec = form.get("structure")
    wrong_source = source_problem(form, catalog)
    if not structure_spec:
        problems.append(
            rejected_problem("structure", rejected)
            or wrong_source
            or "choose a structure (built-in, uploaded or from SMILES)"
        )
    elif wrong_source:
        problems.append(wrong_source)
    structure = structures.get(structure_spec or "")
    for who, role in ((model, "model"), (models.get(reference or ""), "reference")):
        issue = element_problem(who, structure, role=role)
        if issue:
            problems.append(issue)
    temps, e1 = parse_numbers(form.get("temperatures"), "temperatures (K)")
    steps, e2 = parse_numbers(form.get("timesteps"), "timesteps (fs)")
    problems += [e for e in (e1, e2) if e]
    seeds = form.get("seeds")
    if (
        not isinstance(seeds, int | float)
        or not 1 <= int(seeds) <= MAX_SEEDS
        or seeds != int(seeds)
    ):
        problems.append(f"seeds: give a whole number from 1 to {MAX_SEEDS}")
        seeds = 1
    n = len(temps) * len(steps) * int(seeds)
    if n > MAX_CUSTOM_RUNS:
        problems.append(f"{n} runs is more than {MAX_CUSTOM_RUNS}: use fewer values or a suite")
        return [], problems
    bodies, errors = [], []
    for t, dt, seed in itertools.product(temps, steps, range(int(seeds))):
        body = {
            **common,
            "structure": structure_spec or "?",
            "temperature_K": t,
            "timestep_fs": dt,
            "duration_ps": form.get("duration_ps"),
            "equilibration_ps": form.get("equilibration_ps") or 0.0,
            "seed": seed,
        }
        if form.get("record_every"):
            body["record_every"] = form["record_every"]
        error = _validate(body)
        if error and error not in errors:
            errors.append(error)
        bodies.append(body)
    problems += errors
    return (bodies if not problems else []), problems
