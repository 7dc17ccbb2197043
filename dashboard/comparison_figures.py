"""Figure builders of the comparison page and the report: drift vs timestep, force error vs
temperature, accuracy vs speed (Pareto), RMSD(t), h(r), φ/ψ densities, E_kin traces, the
survival of replicas over production time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import PALETTE, base_layout, empty_figure

Series = dict[str, list[tuple[float, float]]]
PARETO_HOVER = "<br>%{x:.3g} ms/step<br>%{y:.3g} eV/Å<extra></extra>"


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


#: Legend entries per row below the plot, and the height of one legend row, px.
LEGEND_PER_ROW = 3
LEGEND_ROW_PX = 20


def _layout(fig: go.Figure, *, height: int = 320) -> go.Figure:
    """The shared layout with the legend under the plot (above it, a legend of several
    entries ran into the title), the bottom margin grown by its rows."""
    base_layout(fig, height=height)
    rows = -(-sum(1 for t in fig.data if t.showlegend is not False) // LEGEND_PER_ROW)
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2, "yanchor": "top"},
        margin={"b": 64 + LEGEND_ROW_PX * max(rows, 1)},
    )
    return fig


def log_ticks(values: Sequence[float]) -> tuple[list[float], list[float]]:
    """(range in log10, tick values) of a log axis over positive ``values``: the 1-2-5
    values from the one at or below the smallest to the one at or above the largest, so that
    at least two labelled ticks show however narrow the data (plotly's own 1-2-5 ticks
    leave a range inside one step unlabelled)."""
    positive = [v for v in values if v > 0 and np.isfinite(v)]
    if not positive:
        return [-1.0, 1.0], [0.1, 1.0, 10.0]
    lo, hi = min(positive), max(positive)
    decades = range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 2)
    steps = [m * 10.0**e for e in decades for m in (1, 2, 5)]
    below = max(v for v in steps if v <= lo * (1 + 1e-12))
    above = min(v for v in steps if v >= hi * (1 - 1e-12))
    if above <= below:
        above = min(v for v in steps if v > below)
    ticks = [v for v in steps if below * (1 - 1e-12) <= v <= above * (1 + 1e-12)]
    return [float(np.log10(below)), float(np.log10(above))], ticks


def _lines(series: Series, *, x_title: str, y_title: str, title: str, log_y: bool) -> go.Figure:
    if not any(series.values()):
        return empty_figure("No finished runs of these models yet")
    if log_y:  # a log axis cannot show zero or below
        series = {k: [p for p in v if p[1] > 0] for k, v in series.items()}
    fig = go.Figure()
    for i, (model, points) in enumerate(series.items()):
        pts = sorted(points)
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in pts],
                y=[p[1] for p in pts],
                name=model,
                mode="lines+markers",
                marker={"size": 8, "color": _colour(i)},
                line={"color": _colour(i), "width": 2},
            )
        )
    _layout(fig)
    fig.update_layout(title={"text": title, "font_size": 13}, hovermode="closest")
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    if log_y:  # 1-2-5 ticks written out, two at least (plotly's default shows none in a
        # range narrower than one step, or bare mantissas)
        y_range, ticks = log_ticks([p[1] for v in series.values() for p in v])
        fig.update_yaxes(
            type="log",
            range=y_range,
            tickvals=ticks,
            ticktext=[f"{t:g}" for t in ticks],
        )
    return fig


def _on(title: str, structure: str | None) -> str:
    return f"{title} · {structure}" if structure else title


def drift_vs_timestep(series: Series, *, structure: str | None = None) -> go.Figure:
    """Median |drift| (% of ⟨E_kin⟩) per timestep (fs), one line per series (a model, or a
    model at one temperature), on ``structure`` when given."""
    return _lines(
        series,
        x_title="timestep (fs)",
        y_title="median |drift| (% of ⟨E<sub>kin</sub>⟩)",
        title=_on("Energy drift vs timestep", structure),
        log_y=True,
    )


def force_vs_temperature(series: Series, *, structure: str | None = None) -> go.Figure:
    """Median force RMSE (eV/Å) per temperature (K), one line per series (a model, or a
    model at one timestep), on ``structure`` when given."""
    return _lines(
        series,
        x_title="temperature (K)",
        y_title="median force RMSE (eV/Å)",
        title=_on("Force error vs temperature", structure),
        log_y=False,
    )


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (speed, error) points no other point beats on both (lower is better)."""
    front, best = [], float("inf")
    for x, y in sorted(points):
        if y < best:
            front.append((x, y))
            best = y
    return front


def pareto_figure(rows: list[dict[str, Any]], selected: Sequence[str] = ()) -> go.Figure:
    """Accuracy vs speed: median force RMSE (eV/Å) vs median inference time per replica
    step (ms; a batched run's batch time / its size) per model, the Pareto front dashed;
    ``selected`` models highlighted."""
    pts: list[tuple[float, float, dict[str, Any]]] = []
    for r in rows:
        ms, rmse = _per_replica_ms(r), r.get("median_force_rmse_eV_per_A")
        if ms and rmse is not None:
            pts.append((ms, float(rmse), r))
    if not pts:
        return empty_figure("No model has both a force error and a timing yet")
    fig = go.Figure()
    front = pareto_front([(x, y) for x, y, _ in pts])
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in front],
            y=[p[1] for p in front],
            mode="lines",
            name="Pareto front",
            line={"color": "#8c959f", "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )
    for x, y, r in pts:
        chosen = r["model"] in selected
        idx = list(selected).index(r["model"]) if chosen else 0
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers+text",
                name=r["name"],
                text=[r["name"]],
                textposition="top center",
                showlegend=False,
                marker={
                    "size": 14 if chosen else 10,
                    "color": _colour(idx) if chosen else "#c9ced6",
                    "line": {"color": "#57606a", "width": 1},
                },
                hovertemplate=r["model"] + PARETO_HOVER,
            )
        )
    base_layout(fig, height=340, legend=False)
    fig.update_layout(title={"text": "Accuracy vs speed", "font_size": 13}, hovermode="closest")
    fig.update_xaxes(title_text="median inference time per replica (ms/step)", type="log")
    fig.update_yaxes(title_text="median force RMSE (eV/Å)")
    return fig


def _per_replica_ms(row: dict[str, Any]) -> float | None:
    """A leaderboard row's median inference ms per replica step (rows from before that
    column: the per-step median)."""
    value = row.get("median_inference_ms_per_replica_step") or row.get(
        "median_inference_ms_per_step"
    )
    return float(value) if value else None


def rmsd_figure(curves: dict[str, tuple[Sequence[float], Sequence[float]]]) -> go.Figure:
    """RMSD (Å) of each model's frames from the teacher's at the same time."""
    if not any(len(t) for t, _ in curves.values()):
        return empty_figure("No student/teacher pair with identical initial conditions")
    fig = go.Figure()
    for i, (model, (t, r)) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=np.asarray(t, float),
                y=np.asarray(r, float),
                name=model,
                mode="lines",
                line={"color": _colour(i)},
            )
        )
    fig.add_hline(
        y=0.5,
        line={"color": "#8c959f", "dash": "dot", "width": 1},
        annotation_text="divergence 0.5 Å",
        annotation_font_size=10,
    )
    _layout(fig)
    fig.update_layout(title={"text": "RMSD from the teacher", "font_size": 13})
    fig.update_xaxes(title_text="time (ps)")
    fig.update_yaxes(title_text="RMSD after superposition (Å)", rangemode="tozero")
    return fig


def hr_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Distance histograms h(r) (1/Å) of all atom pairs."""
    if not curves:
        return empty_figure("No trajectories to compare")
    fig = go.Figure()
    for i, (name, (r, h)) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=np.asarray(r, float),
                y=np.asarray(h, float),
                name=name,
                mode="lines",
                line={"color": _colour(i), "width": 1.5, "dash": "dot" if i == 0 else "solid"},
            )
        )
    _layout(fig)
    fig.update_layout(title={"text": "Pair-distance distribution h(r)", "font_size": 13})
    fig.update_xaxes(title_text="r (Å)", range=[0, 10])
    fig.update_yaxes(title_text="h(r) (1/Å)", rangemode="tozero")
    return fig


def phi_psi_figure(angles: dict[str, np.ndarray]) -> go.Figure:
    """φ/ψ densities (deg) side by side, one panel per trajectory."""
    if not angles:
        return empty_figure("φ/ψ densities are shown for alanine dipeptide")
    fig = make_subplots(
        rows=1, cols=len(angles), subplot_titles=list(angles), horizontal_spacing=0.08
    )
    for i, values in enumerate(angles.values(), start=1):
        fig.add_trace(
            go.Histogram2d(
                x=np.asarray(values[:, 0]),
                y=np.asarray(values[:, 1]),
                colorscale="Blues",
                xbins={"start": -180, "end": 180, "size": 10},
                ybins={"start": -180, "end": 180, "size": 10},
                showscale=False,
                hovertemplate="φ %{x}°<br>ψ %{y}°<br>%{z} frames<extra></extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_xaxes(title_text="φ (deg)", range=[-180, 180], row=1, col=i)
        fig.update_yaxes(title_text="ψ (deg)", range=[-180, 180], row=1, col=i)
    base_layout(fig, height=320, legend=False)
    fig.update_layout(hovermode="closest")
    return fig


def ke_traces(traces: dict[str, tuple[Sequence[float], Sequence[float]]]) -> go.Figure:
    """Kinetic energy (eV) over production time (ps), one trace per run."""
    if not traces:
        return empty_figure("No kinetic-energy records for these runs")
    fig = go.Figure()
    for i, (name, (t, ek)) in enumerate(traces.items()):
        fig.add_trace(
            go.Scatter(
                x=np.asarray(t, float),
                y=np.asarray(ek, float),
                name=name,
                mode="lines",
                line={"color": _colour(i)},
            )
        )
    _layout(fig)
    fig.update_layout(title={"text": "Kinetic energy", "font_size": 13})
    fig.update_xaxes(title_text="production time (ps)")
    fig.update_yaxes(title_text="E<sub>kin</sub> (eV)")
    return fig


def speed_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Median inference time (ms/step) per model, horizontal bars, fastest on top."""
    pts = [(r["name"], r["median_inference_ms_per_step"]) for r in rows]
    pts = [p for p in pts if p[1]]
    if not pts:
        return empty_figure("No timings yet")
    pts.sort(key=lambda p: -p[1])
    fig = go.Figure(
        go.Bar(
            x=[p[1] for p in pts],
            y=[p[0] for p in pts],
            orientation="h",
            marker={"color": PALETTE[0]},
            text=[f"{p[1]:.3g}" for p in pts],
            textposition="outside",
        )
    )
    base_layout(fig, height=max(220, 60 + 36 * len(pts)), legend=False)
    fig.update_layout(title={"text": "Inference time", "font_size": 13}, hovermode="closest")
    fig.update_xaxes(title_text="median inference time (ms/step)", type="log")
    fig.update_yaxes(title_text="model")
    return fig


def survival_figure(cells: dict[str, dict[str, Any] | None], *, title: str = "") -> go.Figure:
    """Fraction of replicas alive (0–1) over production time (ps), a step line per model,
    from ``GET /api/v1/survival`` (the core's Kaplan–Meier curve and median time to
    failure). A model without finished runs in the cell gets no trace."""
    drawn = {name: c for name, c in cells.items() if c and c.get("survival")}
    if not drawn:
        return empty_figure("No finished replicas of these models in this cell")
    fig = go.Figure()
    for i, (name, c) in enumerate(cells.items()):
        if name not in drawn or c is None:
            continue
        median = (c.get("time_to_failure") or {}).get("median_ps")
        median_text = (
            f"median time to failure {median:.3g} ps" if median is not None else "median beyond"
        )
        fig.add_trace(
            go.Scatter(
                x=list(c["survival"]["time_ps"]),
                y=list(c["survival"]["alive_fraction"]),
                name=f"{name} · {c['n_runs']} run{'' if c['n_runs'] == 1 else 's'}, "
                f"{c['n_crashed']} crashed",
                mode="lines",
                line={"color": _colour(i), "width": 2, "shape": "hv"},
                hovertemplate=f"{name}<br>%{{x:.3g}} ps: %{{y:.0%}} alive<br>{median_text}"
                "<extra></extra>",
            )
        )
    _layout(fig)
    fig.update_layout(
        title={"text": title or "Survival of replicas", "font_size": 13}, hovermode="closest"
    )
    fig.update_xaxes(title_text="production time (ps)", rangemode="tozero")
    fig.update_yaxes(title_text="fraction of replicas alive (0–1)", range=[0, 1.05])
    return fig
