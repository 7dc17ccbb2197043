"""Data of the comparison page: per-model run metrics on one structure grouped by timestep
/ temperature, the student-vs-teacher trajectory comparison from identical initial
conditions (the pair found by the core's ``same_start`` through the API), and for the
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


#: Newest student runs tried, per model, for a teacher run of the same start.
PAIR_CANDIDATES = 5


async def same_start_runs(run: dict[str, Any], token: str | None) -> list[dict[str, Any]]:
    """The finished runs of ``run``'s reference (its teacher) that started as ``run`` did,
    newest first, any status: the core's ``same_start`` through
    ``GET /api/v1/runs/{id}/same-start``."""
    body = await api.get(f"/runs/{run['id']}/same-start", token=token)
    return list(body["items"])


def _candidates(runs: list[dict[str, Any]], structure: str | None) -> list[dict[str, Any]]:
    return [
        r
        for r in runs
        if r["status"] == "completed"
        and r.get("reference")
        and (not structure or r["structure"] == structure)
    ][:PAIR_CANDIDATES]


async def pick_pair(
    runs: list[dict[str, Any]], structure: str | None, token: str | None
) -> tuple[Pair | None, Pair | None]:
    """(pair, broken): the newest completed student run (on ``structure`` if given) with a
    completed teacher run of the same start; else, when teacher runs of a student's start
    exist but none completed, that student and the newest of them (crashed, failed,
    cancelled), so the page can say so instead of asking for the teacher."""
    candidates = _candidates(runs, structure)
    found = await asyncio.gather(*(same_start_runs(s, token) for s in candidates))
    broken: Pair | None = None
    for student, teachers in zip(candidates, found, strict=True):
        done = [t for t in teachers if t["status"] == "completed"]
        if done:
            return (student, done[0]), None
        if teachers and broken is None:
            broken = (student, teachers[0])
    return None, broken


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


#: Protocol fields that, when they vary within one line's runs, the page names.
POOLED_FIELDS = ("equilibration_ps", "duration_ps")


def _pooled(runs: list[dict[str, Any]], fields: tuple[str, ...]) -> list[str]:
    """``duration_ps 1, 5`` for each field whose values differ among ``runs``."""
    out = []
    for f in fields:
        values = sorted({float(r[f]) for r in runs if r.get(f) is not None})
        if len(values) > 1:
            out.append(f"{f} {', '.join(f'{v:g}' for v in values)}")
    return out


def _by_line(
    runs_by_model: dict[str, list[dict[str, Any]]],
    line_key: str,
    unit: str,
    x_key: str,
    metric: str,
    *,
    absolute: bool = False,
) -> tuple[dict[str, list[tuple[float, float]]], list[str]]:
    """One line per (model, ``line_key`` value): (x, median metric) over its runs; and the
    protocol fields each line pools (named, never silent)."""
    series: dict[str, list[tuple[float, float]]] = {}
    notes = []
    for model, runs in runs_by_model.items():
        groups: dict[float, list[dict[str, Any]]] = defaultdict(list)
        for r in runs:
            groups[float(r[line_key])].append(r)
        for value, group in sorted(groups.items()):
            points = grouped_median(group, x_key, metric, absolute=absolute)
            if not points:
                continue
            name = f"{model} · {value:g} {unit}"
            series[name] = points
            pooled = _pooled(
                [r for r in group if (r.get("metrics") or {}).get(metric) is not None],
                POOLED_FIELDS,
            )
            if pooled:
                notes.append(f"{name} pools runs of {'; '.join(pooled)}")
    return series, notes


def summary_series(
    runs_by_model: dict[str, list[dict[str, Any]]], structure: str | None
) -> dict[str, Any]:
    """On ``structure`` only (medians never mix structures): median |drift| per timestep,
    one line per model and temperature, and median force RMSE per temperature, one line per
    model and timestep. ``notes`` names what a line still pools (durations,
    equilibrations); ``structure`` the structure shown."""
    on = {m: [r for r in runs if r["structure"] == structure] for m, runs in runs_by_model.items()}
    drift, drift_notes = _by_line(
        on, "temperature_K", "K", "timestep_fs", "drift_percent", absolute=True
    )
    force, force_notes = _by_line(on, "timestep_fs", "fs", "temperature_K", "force_rmse_eV_per_A")
    return {
        "structure": structure,
        "drift": drift,
        "force": force,
        "notes": sorted(set(drift_notes + force_notes)),
    }


Pair = tuple[dict[str, Any], dict[str, Any]]


async def student_teacher_pairs(
    models: list[str], structure: str | None, token: str | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Pair], dict[str, Pair]]:
    """Each model's finished runs; per model its newest (student, teacher) pair of runs
    from identical initial conditions (on ``structure`` if given); and per model without a
    pair, a (student, teacher run) whose teacher run of the same start did not complete."""
    runs_by_model = await runs_of(models, token)
    picked = await asyncio.gather(*(pick_pair(runs_by_model[m], structure, token) for m in models))
    pairs = {m: pair for m, (pair, _) in zip(models, picked, strict=True) if pair is not None}
    broken = {m: bad for m, (pair, bad) in zip(models, picked, strict=True) if pair is None and bad}
    return runs_by_model, pairs, broken


async def gather_trajectories(
    models: list[str], structure: str | None, token: str | None
) -> dict[str, Any]:
    """Student-vs-teacher pairs with their RMSD, h(r), φ/ψ, and the E_kin traces."""
    runs_by_model, pairs, broken = await student_teacher_pairs(models, structure, token)
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
    return {"pairs": pairs, "broken": broken, "ke": ke, **traj}


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
    runs_by_model, pairs, _broken = await student_teacher_pairs(models, structure, token)
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
