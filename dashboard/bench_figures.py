"""The benchmarks page's tables and figures, from a stored report (``GET /bench/{id}``):
the records (one per measurement) and the core's analysis (``summary``).

No arithmetic on timings is redone here: speed-ups, per-replica costs and overheads are the
core's (``mdval.bench.analysis``), so the page shows what ``mdval bench`` printed. Units are
in every column name and axis title; the harness overhead is a fraction (the median step's
time outside its own model call ÷ the median call) everywhere, as in the core's records and
targets (``<= 0.25``), never a percentage.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard.figures import PALETTE, base_layout, empty_figure
from dashboard.format import num, when

#: Engines as the page names them; "bare" is the model alone (forward + backward).
ENGINE_LABELS = {"bare": "bare model", "torch": "torch engine", "ase": "ASE engine"}
#: The torch engine's harness-overhead target (issue 6: ≤ 0.25), drawn on the overhead plot.
TORCH_OVERHEAD_TARGET = 0.25

SPEEDUP_COLUMNS = [
    {"name": "speed-up (baseline ms / model ms)", "id": "ratio"},
    {"name": "bare model, inference (×)", "id": "bare"},
    {"name": "torch engine, MD step (×)", "id": "torch"},
    {"name": "ASE engine, MD step (×)", "id": "ase"},
]
SINGLE_COLUMNS = [
    {"name": "model", "id": "model"},
    {"name": "engine", "id": "engine"},
    {"name": "inference (ms/step)", "id": "inference_ms_per_step"},
    {"name": "MD step (ms)", "id": "step_ms"},
    {"name": "harness overhead (median of step − its call, ÷ call)", "id": "harness_overhead"},
    {"name": "throughput (atom-steps/s)", "id": "throughput"},
    {"name": "peak memory (MB)", "id": "peak_memory_MB"},
]
LONG_COLUMNS = [
    {"name": "model", "id": "model"},
    {"name": "engine", "id": "engine"},
    {"name": "steps", "id": "n_steps"},
    {"name": "MD step (ms)", "id": "step_ms"},
    {"name": "throughput (atom-steps/s)", "id": "throughput"},
    {"name": "peak memory (MB)", "id": "peak_memory_MB"},
]
TARGET_COLUMNS = [
    {"name": "target", "id": "target"},
    {"name": "value (fractions as the target: 0.1 = 10 %)", "id": "value"},
    {"name": "met", "id": "met"},
]


def context_line(job: dict[str, Any]) -> str:
    """Where and when it ran: device, torch, threads, CPUs, machine, date, wall time."""
    ctx = job.get("context") or {}
    parts = [
        f"{ctx.get('device_name') or job.get('device_name') or 'unknown device'} "
        f"(device {ctx.get('device') or job.get('device')})",
        f"torch {ctx.get('torch_version') or job.get('torch_version') or '—'}",
        f"{ctx.get('torch_threads') or job.get('threads') or '—'} threads",
    ]
    if ctx.get("cpu_count"):
        parts.append(f"{ctx['cpu_count']} CPUs")
    if ctx.get("machine"):
        parts.append(f"machine {ctx['machine']}")
    parts.append(when(job.get("finished_at") or job.get("created_at")))
    if job.get("wall_s") is not None:
        parts.append(f"{num(job['wall_s'], 3)} s in all")
    return " · ".join(parts)


def main_structure(job: dict[str, Any]) -> str | None:
    plan = job.get("plan") or {}
    single = [r for r in job.get("records") or [] if r.get("experiment") == "single"]
    return plan.get("main_structure") or (single[0]["structure"] if single else None)


def single_records(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The single-system records (one replica, the main structure), in measured order."""
    structure = main_structure(job)
    return [
        r
        for r in job.get("records") or []
        if r.get("experiment") == "single" and r.get("structure") == structure
    ]


def speedup_rows(summary: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per ``model vs baseline``: the bare model's ratio on inference time, the
    engines' on whole-step time (what a user of that engine sees)."""
    rows = []
    for pair, by_engine in ((summary or {}).get("speedups") or {}).items():
        row: dict[str, Any] = {"ratio": pair}
        for engine in ENGINE_LABELS:
            ratio = (by_engine.get(engine) or {}).get("inference" if engine == "bare" else "step")
            row[engine] = num(ratio, 3)
        rows.append(row)
    return rows


def single_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "model": r["model"],
            "engine": ENGINE_LABELS.get(r["engine"], r["engine"]),
            "inference_ms_per_step": num(r.get("inference_ms_per_step"), 3),
            "step_ms": num(r.get("step_ms"), 3),
            "harness_overhead": num(r.get("harness_overhead"), 3),
            "throughput": num(r.get("throughput_atom_steps_per_s"), 3),
            "peak_memory_MB": num(r.get("peak_memory_MB"), 3),
        }
        for r in single_records(job)
    ]


def long_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Long-trajectory throughput, one replica through each engine (none in the quick plan)."""
    return [
        {
            "model": r["model"],
            "engine": ENGINE_LABELS.get(r["engine"], r["engine"]),
            "n_steps": r.get("n_steps"),
            "step_ms": num(r.get("step_ms"), 3),
            "throughput": num(r.get("throughput_atom_steps_per_s"), 3),
            "peak_memory_MB": num(r.get("peak_memory_MB"), 3),
        }
        for r in job.get("records") or []
        if r.get("experiment") == "long"
    ]


def target_rows(summary: dict[str, Any] | None) -> list[dict[str, Any]]:
    met = {True: "yes", False: "no", None: "n/a"}
    rows = []
    for t in (summary or {}).get("targets") or []:
        value = t.get("value")
        shown = (
            ", ".join(f"{k}: {num(v)}" for k, v in value.items())
            if isinstance(value, dict)
            else num(value, 3)
        )
        rows.append({"target": t.get("target"), "value": shown, "met": met.get(t.get("met"))})
    return rows


def batch_scaling_figure(summary: dict[str, Any] | None) -> go.Figure:
    """Cost per replica of one MD step against the batch size (log axis): the torch engine
    (solid) and the bare model (dashed), one colour per model."""
    scaling = (summary or {}).get("batch_scaling") or {}
    if not any(scaling.values()):
        return empty_figure("No batch measurements in this benchmark")
    fig = go.Figure()
    for i, (model, rows) in enumerate(scaling.items()):
        colour = PALETTE[i % len(PALETTE)]
        x = [r["replicas"] for r in rows]
        for key, dash, label in (
            ("engine_ms_per_replica", "solid", "torch engine"),
            ("bare_ms_per_replica", "dash", "bare model"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[r.get(key) for r in rows],
                    name=f"{model}, {label}",
                    mode="lines+markers",
                    line={"color": colour, "dash": dash, "width": 2},
                    marker={"size": 7, "color": colour},
                    hovertemplate="%{x} replicas: %{y:.3g} ms per replica<extra>"
                    f"{model}, {label}</extra>",
                )
            )
    base_layout(fig, height=360)
    fig.update_layout(
        title={"text": "Batch scaling: cost per replica"},
        hovermode="closest",
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
    )
    fig.update_xaxes(title_text="batch size (replicas)", type="log", tickformat="~g")
    fig.update_yaxes(title_text="MD step time per replica (ms)", rangemode="tozero")
    return fig


def overhead_figure(job: dict[str, Any]) -> go.Figure:
    """Harness overhead (time outside the model call ÷ call, a fraction) of each model
    through each engine on the single system, with the torch engine's target."""
    single = [r for r in single_records(job) if r.get("engine") in ("torch", "ase")]
    if not single:
        return empty_figure("No single-system engine measurements in this benchmark")
    fig = go.Figure()
    for i, engine in enumerate(("torch", "ase")):
        rows = [r for r in single if r["engine"] == engine]
        fig.add_trace(
            go.Bar(
                x=[r["model"] for r in rows],
                y=[r.get("harness_overhead") for r in rows],
                name=ENGINE_LABELS[engine],
                marker_color=PALETTE[i],
                hovertemplate="%{x}: %{y:.3g}<extra>" + ENGINE_LABELS[engine] + "</extra>",
            )
        )
    fig.add_hline(
        y=TORCH_OVERHEAD_TARGET,
        line={"dash": "dot", "color": "#6b7280"},
        annotation_text=f"torch engine target ≤ {TORCH_OVERHEAD_TARGET:g}",
        annotation_position="top left",
    )
    base_layout(fig, height=360)
    fig.update_layout(
        title={"text": f"Harness overhead on {main_structure(job)}"},
        barmode="group",
        hovermode="closest",
    )
    fig.update_xaxes(title_text="model")
    fig.update_yaxes(title_text="harness overhead (outside the call ÷ call)", rangemode="tozero")
    return fig
