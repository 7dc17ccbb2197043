"""The one module of the service that calls the mdval core.

Everything the workers need from the core goes through these functions, so a change of a
core interface is a change here only. The core is imported lazily inside the functions:
importing this module costs nothing, and CUDA is never initialised in a process that forks
(the prefork parent); it happens in the child that runs the task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdval.errors import InputError, RunCancelled
from mdval.md.listener import ForceErrorSample, RunListener, ThermoRecord

__all__ = [
    "ForceErrorSample",
    "InputError",
    "RunCancelled",
    "RunListener",
    "RunOutput",
    "ThermoRecord",
    "batch_key",
    "bench",
    "catalog",
    "check_uploaded_model",
    "describe_potential",
    "describe_structure",
    "make_run_config",
    "recommend",
    "resolved_device",
    "run",
    "run_batch",
    "validate_request",
]

log = logging.getLogger(__name__)

#: The atoms of the test forward pass of an uploaded model: a short chain, 1.1 Å apart.
TEST_FORWARD_SPACING_A = 1.1


def describe_potential(core_spec: str) -> dict[str, Any]:
    """``PotentialEntry.describe()`` plus ``is_torch``. Raises InputError."""
    from mdval.potentials.registry import resolve_potential

    entry = resolve_potential(core_spec)
    desc = dict(entry.describe())
    desc["is_torch"] = bool(entry.is_torch)
    return desc


def describe_structure(core_spec: str) -> dict[str, Any]:
    """Formula, atoms, elements, periodicity, sha256 and name. Raises InputError."""
    from mdval.structures import describe_structure as describe
    from mdval.structures import load_structure

    atoms = load_structure(core_spec)
    desc = dict(describe(atoms))
    desc["name"] = str(atoms.info.get("name") or core_spec)
    return desc


def make_run_config(config: dict[str, Any]) -> Any:
    """The core's RunConfig from a stored config dict. Raises InputError."""
    from mdval.md.validation import make_config

    return make_config(**config)


def _check_elements(structure_spec: str, models: dict[str, str | None]) -> None:
    """The core's element check of a structure against each named potential."""
    from mdval.potentials.registry import resolve_potential
    from mdval.structures import check_elements, check_periodic, load_structure

    atoms = load_structure(structure_spec)
    for role, spec in models.items():
        if spec:
            entry = resolve_potential(spec)
            check_elements(atoms, entry, role=role)  # type: ignore[arg-type]
            check_periodic(atoms, entry, role=role)  # type: ignore[arg-type]


def validate_request(
    payload: dict[str, Any],
    *,
    interrupted: tuple[type[BaseException], ...] = (),
    interrupted_message: Any = None,
) -> dict[str, Any]:
    """The body of the ``validate`` task (see :mod:`app.services.submissions`).

    ``payload``: ``models`` and ``structures`` (specs to describe), ``profile`` (a name to
    check), ``suite`` (``name``, ``model``, ``reference``, ``overrides``) to expand.
    Returns the descriptions, the expanded ``configs`` and ``error`` (None, or ``message``
    and ``field``) — an InputError becomes ``error``, never an exception; so does one of
    ``interrupted`` (the task's soft time limit), with ``interrupted_message(what)``.
    """
    out: dict[str, Any] = {"models": {}, "structures": {}, "configs": [], "error": None}
    field = None
    try:
        field = "model"
        for spec in payload.get("models") or []:
            out["models"][spec] = describe_potential(spec)
        field = "structure"
        for spec in payload.get("structures") or []:
            out["structures"][spec] = describe_structure(spec)
        if payload.get("profile"):
            field = "profile"
            _check_profile(payload["profile"])
        if payload.get("suite"):
            field = "suite"
            out["configs"] = _expand_suite(payload["suite"], out)
    except InputError as exc:
        out["error"] = {"message": str(exc), "field": field}
    except interrupted:
        what = f"{field} check" if field else "validation"
        message = interrupted_message(what) if interrupted_message else f"the {what} timed out"
        out["error"] = {"message": message, "field": field}
    return out


def _check_profile(name: str) -> None:
    from mdval.criteria import list_profiles

    known = list_profiles()
    if name not in known:
        raise InputError(f"unknown profile {name!r}; known profiles: {', '.join(known)}")


def _expand_suite(suite: dict[str, Any], out: dict[str, Any]) -> list[dict[str, Any]]:
    from mdval.suites import SUITE_DEFAULT, expand, list_suites

    name = suite["name"]
    known = list_suites()
    if name not in known:  # only shipped suites: a name is never read as a server path
        raise InputError(f"unknown suite {name!r}; known suites: {', '.join(known)}")
    reference = suite.get("reference")
    ref_arg: Any = (
        SUITE_DEFAULT if reference is None else (None if reference == "none" else reference)
    )
    configs = expand(
        name, model=suite["model"], reference=ref_arg, **(suite.get("overrides") or {})
    )
    checked: set[tuple[str, str, str | None]] = set()
    for config in configs:
        for spec in (config.model, config.reference):
            if spec and spec not in out["models"]:
                out["models"][spec] = describe_potential(spec)
        if config.structure not in out["structures"]:
            out["structures"][config.structure] = describe_structure(config.structure)
        key = (config.structure, config.model, config.reference)
        if key not in checked:
            _check_elements(
                config.structure, {"model": config.model, "reference": config.reference}
            )
            checked.add(key)
    return [c.model_dump(mode="json") for c in configs]


def check_uploaded_model(path: str) -> dict[str, Any]:
    """Load an uploaded TorchScript file (``torch.jit.load``, never unpickled) and run one
    forward + backward pass on a short chain of its supported elements. Returns its
    description; raises InputError with the reason when it is unusable."""
    import numpy as np
    from ase import Atoms

    desc = describe_potential(path)
    elements = desc.get("supported_elements")
    if not elements:
        raise InputError(
            "the model declares no supported_atomic_numbers: add "
            "`supported_atomic_numbers: List[int]` to the scripted module (needed for the "
            "element check of every run)"
        )
    from mdval.potentials.registry import resolve_potential

    symbols = (list(elements) * 2)[: max(2, min(4, 2 * len(elements)))]
    positions = [[TEST_FORWARD_SPACING_A * i, 0.1 * (i % 2), 0.0] for i in range(len(symbols))]
    atoms = Atoms(symbols=symbols, positions=positions)
    atoms.calc = resolve_potential(path).make_calculator("cpu")
    try:
        energy = float(atoms.get_potential_energy())
        forces = np.asarray(atoms.get_forces())
    except InputError:
        raise
    except Exception as exc:  # any failure of the module is the reason
        raise InputError(f"the test forward pass failed: {type(exc).__name__}: {exc}") from exc
    if forces.shape != (len(atoms), 3):
        raise InputError(f"forces have shape {forces.shape}, expected ({len(atoms)}, 3)")
    if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
        raise InputError("the test forward pass gave a non-finite energy or force")
    desc["test_forward"] = {"symbols": symbols, "energy_eV": energy}
    return desc


@dataclass
class RunOutput:
    status: str  # completed | crashed | cancelled
    summary: dict[str, Any]
    out_dir: Path | None


class _CancelOnly(RunListener):
    """What a control run tells the run it serves: nothing but "stop" when it is cancelled
    (the control's own records are not the run's)."""

    def __init__(self, inner: RunListener) -> None:
        self.inner = inner

    def should_cancel(self) -> bool:
        poll = getattr(self.inner, "poll", None)
        if callable(poll):
            poll()  # the run's own flag is read at its flushes
        return self.inner.should_cancel()


def _control(prepared: Any, controls_dir: Path | None, listener: RunListener) -> Any:
    """The control of a prepared run: itself (the reference judged against itself), cached
    under ``controls_dir``, or run now and cached; None without a reference."""
    from mdval.controls.cache import resolve_control

    return resolve_control(prepared, directory=controls_dir, listener=_CancelOnly(listener))


def run(
    config: Any, *, out_dir: Path, listener: RunListener, controls_dir: Path | None = None
) -> RunOutput:
    """Run one validation with the core, judged against its control (found in, or run into,
    ``controls_dir``). Raises InputError before the first step."""
    from mdval.md.protocol import prepare, run_validation

    prepared = prepare(config)
    control = _control(prepared, controls_dir, listener)
    result = run_validation(
        config, out_dir=out_dir, listener=listener, prepared=prepared, control=control
    )
    if control is not None and control.is_self:
        from mdval.controls.cache import cache_self_run

        cache_self_run(prepared, result.summary, result.frames, directory=controls_dir)
    return RunOutput(status=result.status, summary=result.summary, out_dir=result.out_dir)


def resolved_device(device: str) -> str | None:
    """The torch device (``cpu``, ``cuda[:N]``) a run asking for ``device`` gets on this
    worker, as the core resolves it; None when it cannot run here. Only ``auto`` asks torch
    (importing it takes seconds): ``cpu`` and ``cuda[:N]`` are what they say — a CUDA run
    on a worker without CUDA fails at its start, with the core's message."""
    name = device.strip().lower()
    if name == "cpu" or name == "cuda" or name.startswith("cuda:"):
        return name
    from mdval.potentials.device import resolve_device

    try:
        return resolve_device(device)
    except InputError:
        return None


def batch_key(config: dict[str, Any]) -> Any:
    """What runs must share to run as one batch (None: this run never batches); bad input
    gives None too — the run then fails alone, with its own message."""
    from mdval.md.batch_protocol import batch_key as core_batch_key

    try:
        return core_batch_key(make_run_config(config))
    except (InputError, ValueError):
        return None


def run_batch(
    configs: list[Any],
    *,
    out_dirs: list[Path],
    listeners: list[RunListener],
    controls_dir: Path | None = None,
) -> list[RunOutput]:
    """Run validations as replicas of one batch (the torch engine), each judged against its
    control (run first where not cached, side by side on the CPUs). Raises InputError
    before the first step when they cannot share a batch or one of them is bad input."""
    from mdval.controls.cache import resolve_controls
    from mdval.md.batch_protocol import run_validations
    from mdval.md.protocol import prepare

    prepared = [prepare(c) for c in configs]
    controls = resolve_controls(
        prepared, directory=controls_dir, listeners=[_CancelOnly(ln) for ln in listeners]
    )
    results = run_validations(configs, out_dirs=out_dirs, listeners=listeners, controls=controls)
    return [RunOutput(status=r.status, summary=r.summary, out_dir=r.out_dir) for r in results]


def demo_suites() -> list[str]:
    """The core's demo-sized suites (their runs count in no overall recommendation)."""
    from mdval.suites import demo_suites as core_demo_suites

    return list(core_demo_suites())


def recommend(summaries: list[dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The core's recommendation over finished runs' summaries (None if it cannot say)."""
    from mdval.criteria import RunOutcome
    from mdval.criteria import recommend as core_recommend

    outcomes = []
    for s in summaries:
        try:
            outcomes.append(RunOutcome.from_summary(s))
        except InputError:
            continue
    if not outcomes:
        return None
    try:
        rec = core_recommend(outcomes)
    except InputError:
        return None
    return rec.level, rec.to_dict()


def catalog() -> dict[str, Any]:
    """What to register at start-up: potentials, structures, suites, profiles."""
    from mdval.criteria import list_profiles, load_profile
    from mdval.potentials.registry import BUILTIN_POTENTIALS
    from mdval.structures import list_builtins
    from mdval.suites import expand, list_suites, load_suite
    from mdval.zoo import ZOO_NAMES

    potentials: dict[str, dict[str, Any]] = {}
    for spec in (*BUILTIN_POTENTIALS, *(f"zoo:{n}" for n in ZOO_NAMES)):
        try:
            potentials[spec] = describe_potential(spec)
        except Exception as exc:  # e.g. zoo weights not trained yet
            log.warning("potential %s not registered: %s", spec, exc)
    structures: dict[str, dict[str, Any]] = {}
    for builtin in list_builtins():
        name = str(builtin["name"])
        try:
            structures[name] = describe_structure(name)
        except Exception as exc:
            log.warning("structure %s not registered: %s", name, exc)
    suites = []
    for name in list_suites():
        suite = load_suite(name)
        suites.append(
            {
                "name": name,
                "description": getattr(suite, "description", None),
                "definition": suite.model_dump(mode="json"),
                "n_runs": len(expand(suite, model="emt")),
            }
        )
    profiles = {}
    for name in list_profiles():
        profiles[name] = load_profile(name).model_dump(mode="json")
    return {
        "potentials": potentials,
        "structures": structures,
        "suites": suites,
        "profiles": profiles,
    }


def bench(plan: dict[str, Any], *, progress: Any = None) -> dict[str, Any]:
    """Run ``mdval bench`` in this process: ``plan["quick"]`` picks the core's quick or full
    ``BenchPlan``, ``plan["overrides"]`` replaces its fields (lists become tuples), and
    ``plan["labels"]`` (core spec -> the service's name) renames the models in the records
    and the analysis. ``progress`` gets each line the benchmark prints. Returns
    ``BenchReport.to_dict()`` (context, plan, records, summary, wall_s) with
    ``context["machine"]`` added. Raises InputError for bad input (an unknown field, a device
    that is not there)."""
    import platform
    from dataclasses import fields, replace

    from mdval.bench import QUICK, BenchPlan, run_suite
    from mdval.bench.analysis import summarise

    base = QUICK if plan.get("quick", True) else BenchPlan()
    known = {f.name for f in fields(BenchPlan)}
    overrides = dict(plan.get("overrides") or {})
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(f"unknown benchmark plan field(s): {', '.join(unknown)}")
    changes: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()
    }
    core_plan = replace(base, **changes)
    report = run_suite(core_plan, progress=progress)
    labels: dict[str, str] = dict(plan.get("labels") or {})
    measured = [*core_plan.models, *([core_plan.teacher] if core_plan.teacher else [])]
    if any(labels.get(spec, spec) != spec for spec in measured):
        report.records = [replace(r, model=labels.get(r.model, r.model)) for r in report.records]
        models = [labels.get(m, m) for m in core_plan.models]
        teacher = labels.get(core_plan.teacher, core_plan.teacher) if core_plan.teacher else None
        report.summary = summarise(report.records, models, teacher, core_plan.main_structure)
    out = report.to_dict()
    out["context"]["machine"] = f"{platform.node()} ({platform.machine()})"
    return dict(out)
