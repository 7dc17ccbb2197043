"""Data of the comparison page: per-model run metrics grouped by timestep / temperature,
the student-vs-teacher trajectory comparison from identical initial conditions, and for the
compared cell the survival of each model's replicas (``GET /api/v1/survival``) and the
observables of the two runs compared (their summaries)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np

from dashboard import api

RUNS_LIMIT = 1000
RUNS_CACHE_S = 5.0
_runs_cache: dict[tuple[str, str | None], tuple[float, list[dict[str, Any]]]] = {}
#: Frames read per trajectory for RMSD, h(r) and φ/ψ.
MAX_FRAMES = 400
#: Kinetic-energy points per trace.
MAX_KE_POINTS = 4000


async def finished_runs(model: str, token: str | None) -> list[dict[str, Any]]:
    """The model's finished runs, newest first. The page's two callbacks ask for the same
    lists at once: an answer is reused for RUNS_CACHE_S."""
    key = (model, token)
    hit = _runs_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < RUNS_CACHE_S:
        return hit[1]
    body = await api.get(
        "/runs",
        token=token,
        params={"model": model, "status": ["completed", "crashed"], "limit": RUNS_LIMIT},
    )
    items: list[dict[str, Any]] = body["items"]
    _runs_cache[key] = (time.monotonic(), items)
    if len(_runs_cache) > 64:
        _runs_cache.pop(next(iter(_runs_cache)))
    return items


def grouped_median(
    runs: list[dict[str, Any]], key: str, metric: str, *, absolute: bool = False
) -> list[tuple[float, float]]:
    """(key value, median metric) over runs that have the metric."""
    groups: dict[float, list[float]] = defaultdict(list)
    for r in runs:
        value = (r.get("metrics") or {}).get(metric)
        if value is not None and np.isfinite(value):
            groups[float(r[key])].append(abs(value) if absolute else value)
    return sorted((k, statistics.median(v)) for k, v in groups.items())


def same_start(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two runs start from identical initial conditions."""
    keys = ("structure", "temperature_K", "timestep_fs", "equilibration_ps", "seed")
    return all(a.get(k) == b.get(k) for k in keys)


def pick_pair(
    student_runs: list[dict[str, Any]], teacher_runs: list[dict[str, Any]], structure: str | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The newest student run (on ``structure`` if given) with a teacher run of the same
    start. Runs come newest first from the API."""
    for s in student_runs:
        if structure and s["structure"] != structure:
            continue
        if s["status"] != "completed":
            continue
        for t in teacher_runs:
            if t["status"] == "completed" and same_start(s, t):
                return s, t
    return None


async def trajectory_comparison(pairs: dict[str, Pair], token: str | None) -> dict[str, Any]:
    """RMSD(t), h(r) and φ/ψ of each student against its teacher, as the API computes them
    (``GET /api/v1/compare?a=<student>&b=<teacher>``)."""
    names = list(pairs)
    answers = await asyncio.gather(
        *(
            api.get(
                "/compare",
                token=token,
                params={"a": pairs[m][0]["id"], "b": pairs[m][1]["id"], "max_frames": MAX_FRAMES},
            )
            for m in names
        )
    )
    rmsd: dict[str, tuple[list[float], list[float]]] = {}
    hr: dict[str, tuple[list[float], list[float]]] = {}
    angles: dict[str, np.ndarray] = {}
    teachers_done: set[int] = set()
    for model, body in zip(names, answers, strict=True):
        teacher = pairs[model][1]
        if not body["model"]["n_frames"] or not body["reference"]["n_frames"]:
            continue
        rmsd[model] = (body["time_ps"], body["rmsd_A"])
        runs = [(model, body["model"])]
        if teacher["id"] not in teachers_done:
            teachers_done.add(teacher["id"])
            runs.insert(0, (f"{teacher['model']} (teacher)", body["reference"]))
        for name, analysis in runs:
            if analysis.get("hr"):
                hr[name] = (analysis["hr"]["r_A"], analysis["hr"]["h_per_A"])
            if analysis.get("phi_psi_deg"):
                angles[name] = np.asarray(analysis["phi_psi_deg"], float)
    return {"rmsd": rmsd, "hr": hr, "angles": angles}


async def ke_trace(run: dict[str, Any], token: str | None) -> tuple[list[float], list[float]]:
    """E_kin over production time (``GET /runs/{id}/ekin``, thinned by the API)."""
    body = await api.get(
        f"/runs/{run['id']}/ekin", token=token, params={"max_points": MAX_KE_POINTS}
    )
    return body["time_ps"], body["ekin_eV"]


async def runs_of(models: list[str], token: str | None) -> dict[str, list[dict[str, Any]]]:
    """Finished runs per model (newest first)."""
    lists = await asyncio.gather(*(finished_runs(m, token) for m in models))
    return dict(zip(models, lists, strict=True))


def summary_series(runs_by_model: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Median |drift| per timestep and median force RMSE per temperature, per model."""
    return {
        "drift": {
            m: grouped_median(r, "timestep_fs", "drift_percent", absolute=True)
            for m, r in runs_by_model.items()
        },
        "force": {
            m: grouped_median(r, "temperature_K", "force_rmse_eV_per_A")
            for m, r in runs_by_model.items()
        },
    }


Pair = tuple[dict[str, Any], dict[str, Any]]


async def student_teacher_pairs(
    models: list[str], structure: str | None, token: str | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Pair]]:
    """Each model's finished runs, and per model its newest (student, teacher) pair of runs
    from identical initial conditions (on ``structure`` if given)."""
    runs_by_model = await runs_of(models, token)
    teachers = sorted(
        {r["reference"] for runs in runs_by_model.values() for r in runs if r.get("reference")}
    )
    teacher_runs = await runs_of(teachers, token)
    pairs: dict[str, Pair] = {}
    for m, runs in runs_by_model.items():
        for ref in sorted({r["reference"] for r in runs if r.get("reference")}):
            pair = pick_pair(runs, teacher_runs.get(ref, []), structure)
            if pair is not None:
                pairs[m] = pair
                break
    return runs_by_model, pairs


async def gather_trajectories(
    models: list[str], structure: str | None, token: str | None
) -> dict[str, Any]:
    """Student-vs-teacher pairs with their RMSD, h(r), φ/ψ, and the E_kin traces."""
    runs_by_model, pairs = await student_teacher_pairs(models, structure, token)
    ke_runs = {m: p[0] for m, p in pairs.items()}
    for m, runs in runs_by_model.items():  # no pair: the newest run on the structure
        if m not in ke_runs:
            match = [r for r in runs if not structure or r["structure"] == structure]
            if match:
                ke_runs[m] = match[0]
    if pairs:
        teacher = next(iter(pairs.values()))[1]
        ke_runs[f"{teacher['model']} (teacher)"] = teacher
    traj, *traces = await asyncio.gather(
        trajectory_comparison(pairs, token),
        *(ke_trace(r, token) for r in ke_runs.values()),
    )
    ke = {
        f"{name} · run #{r['id']}": tr
        for (name, r), tr in zip(ke_runs.items(), traces, strict=True)
    }
    return {"pairs": pairs, "ke": ke, **traj}


#: The fields of a run that name its protocol cell (what ``/survival`` groups by).
CELL_KEYS = ("structure", "temperature_K", "timestep_fs", "duration_ps")


def cell_of(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run[k] for k in CELL_KEYS}


def in_cell(run: dict[str, Any], cell: dict[str, Any]) -> bool:
    return all(run.get(k) == v for k, v in cell.items())


def compared_runs(
    models: list[str],
    structure: str | None,
    runs_by_model: dict[str, list[dict[str, Any]]],
    pairs: dict[str, Pair],
) -> tuple[dict[str, Any] | None, str | None, list[dict[str, Any]]]:
    """(cell, teacher, runs compared): the first model's student/teacher pair and its cell;
    without a pair, the newest run of the first model with one on ``structure``, its
    reference as the teacher, and the newest run of each model in that cell."""
    for m in models:
        if m in pairs:
            student, teacher = pairs[m]
            runs = [student] if teacher["id"] == student["id"] else [student, teacher]
            return cell_of(student), teacher["model"], runs
    for m in models:
        match = [
            r for r in runs_by_model.get(m, []) if not structure or r["structure"] == structure
        ]
        if match:
            cell = cell_of(match[0])
            runs = []
            for other in models:
                found = [r for r in runs_by_model.get(other, []) if in_cell(r, cell)]
                if found:
                    runs.append(found[0])
            return cell, match[0].get("reference"), runs
    return None, None, []


async def survival_in_cell(
    model: str, cell: dict[str, Any], token: str | None
) -> dict[str, Any] | None:
    """The model's survival cell (``GET /survival``) matching ``cell``; None when it has no
    finished run there. An unknown model is an :class:`api.ApiError` (404)."""
    body = await api.get(
        "/survival",
        token=token,
        params={
            "model": model,
            "structure": cell["structure"],
            "temperature_K": cell["temperature_K"],
            "timestep_fs": cell["timestep_fs"],
        },
    )
    for c in body["cells"]:
        if c["duration_ps"] == cell["duration_ps"]:
            return dict(c)
    return None


async def gather_survival(
    models: list[str], structure: str | None, token: str | None
) -> dict[str, Any]:
    """For the compared cell: the survival of each model and of the teacher, and the
    summaries of the runs compared (their observables). Keys: ``cell``, ``teacher``,
    ``survival`` (name -> cell body or None), ``runs`` ((label, summary) pairs) and
    ``notes`` (what is missing, in words)."""
    runs_by_model, pairs = await student_teacher_pairs(models, structure, token)
    cell, teacher, runs = compared_runs(models, structure, runs_by_model, pairs)
    if cell is None:
        return {"cell": None, "teacher": None, "survival": {}, "runs": [], "notes": []}
    names = list(models) + ([teacher] if teacher and teacher not in models else [])
    answers = await asyncio.gather(
        *(survival_in_cell(m, cell, token) for m in names), return_exceptions=True
    )
    survival: dict[str, dict[str, Any] | None] = {}
    notes: list[str] = []
    for name, answer in zip(names, answers, strict=True):
        label = f"{name} (teacher)" if name == teacher and name not in models else name
        if isinstance(answer, api.ApiError):
            notes.append(f"{name}: {answer.detail}")
        elif isinstance(answer, BaseException):
            raise answer
        else:
            survival[label] = answer
    full = await asyncio.gather(*(api.get(f"/runs/{r['id']}", token=token) for r in runs))
    labelled = [(f"{r['model']} · run #{r['id']}", dict(r.get("summary") or {})) for r in full]
    empty = [name for name, c in survival.items() if c is None]
    if empty:
        notes.append(f"no finished replicas in this cell: {', '.join(empty)}")
    return {
        "cell": cell,
        "teacher": teacher,
        "survival": survival,
        "runs": labelled,
        "notes": notes,
    }
