"""Plots of a benchmark report: one self-contained HTML page (plotly), PNGs with kaleido."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def have_kaleido() -> bool:
    """Whether plotly can write static images here (the ``kaleido`` package is installed)."""
    return importlib.util.find_spec("kaleido") is not None


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """name -> plotly Figure, from ``BenchReport.to_dict()``."""
    import plotly.graph_objects as go

    records = report["records"]
    summary = report["summary"]
    figs: dict[str, Any] = {}

    single = [r for r in records if r["experiment"] == "single"]
    if single:
        fig = go.Figure()
        for engine in ("torch", "ase"):
            rows = [r for r in single if r["engine"] == engine]
            fig.add_bar(
                name=f"{engine} engine",
                x=[r["model"] for r in rows],
                y=[r["harness_overhead"] for r in rows],
            )
        fig.add_hline(y=0.25, line_dash="dot", annotation_text="target 0.25 (torch)")
        fig.update_layout(
            title="Harness overhead (step_ms / inference_ms - 1), single system",
            yaxis_title="harness overhead",
            barmode="group",
        )
        figs["harness_overhead"] = fig

        fig = go.Figure()
        for engine in ("bare", "torch", "ase"):
            rows = [r for r in single if r["engine"] == engine]
            key = "inference_ms_per_step" if engine == "bare" else "step_ms"
            fig.add_bar(name=engine, x=[r["model"] for r in rows], y=[r[key] for r in rows])
        fig.update_layout(
            title="Cost per step: model alone (bare) and through each engine",
            yaxis_title="ms per step",
            barmode="group",
        )
        figs["cost_per_step"] = fig

    scaling = summary.get("batch_scaling", {})
    if any(scaling.values()):
        fig = go.Figure()
        for model, rows in scaling.items():
            x = [r["replicas"] for r in rows]
            fig.add_scatter(
                x=x, y=[r["engine_ms_per_replica"] for r in rows], name=f"{model} engine"
            )
            fig.add_scatter(
                x=x,
                y=[r["bare_ms_per_replica"] for r in rows],
                name=f"{model} bare",
                line={"dash": "dash"},
            )
        fig.update_layout(
            title="Batch scaling: ms per replica-step",
            xaxis={"type": "log", "title": "replicas"},
            yaxis={"type": "log", "title": "ms per replica per step"},
        )
        figs["batch_scaling"] = fig

    table = summary.get("cost_vs_size", {}).get("table", {})
    if table:
        fig = go.Figure()
        for model, by_n in table.items():
            ns = sorted(by_n, key=int)
            fig.add_scatter(
                x=ns, y=[by_n[n]["step_ms"] for n in ns], name=model, mode="lines+markers"
            )
        fig.update_layout(
            title="Cost against size (ms per MD step, auto engine)",
            xaxis={"type": "log", "title": "atoms"},
            yaxis={"type": "log", "title": "ms per step"},
        )
        figs["cost_vs_size"] = fig

    peer = summary.get("peer", [])
    if peer:
        fig = go.Figure()
        for model in dict.fromkeys(r["model"] for r in peer):
            rows = [r for r in peer if r["model"] == model]
            fig.add_bar(
                name=model,
                x=[str(r["replicas"]) for r in rows],
                y=[r["mdval_over_torchsim"] for r in rows],
            )
        fig.add_hline(y=1.0, line_dash="dot", annotation_text="parity")
        fig.update_layout(
            title="mdval ÷ TorchSim atom-steps/s (NVE, same model and inputs; > 1: mdval faster)",
            xaxis_title="replicas",
            yaxis_title="mdval ÷ TorchSim",
            barmode="group",
        )
        figs["peer"] = fig
    return figs


def write_plots(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``bench.html`` (all figures, plotly.js embedded once) and, with kaleido, one PNG
    per figure. Returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    figs = figures(report)
    parts = []
    for k, fig in enumerate(figs.values()):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=k == 0))
    ctx = report.get("context", {})
    head = (
        f"<h1>mdval bench</h1><p>{ctx.get('device_name')} · torch {ctx.get('torch_version')}"
        f" · {ctx.get('torch_threads')} threads</p>"
    )
    html = folder / "bench.html"
    html.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>mdval bench</title></head>"
        f"<body>{head}{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
    written = [html]
    if have_kaleido():
        for name, fig in figs.items():
            path = folder / f"{name}.png"
            fig.write_image(str(path))
            written.append(path)
    return written
