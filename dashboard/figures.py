"""Figure builders of the run view, shared by the pages and the report.

Every builder returns a figure (a :class:`plotly.graph_objects.Figure`, or its JSON where
long arrays are filled in after validation) with units on every axis. Live figures keep
``uirevision`` constant so that zoom and camera survive the appended points.

WebGL or SVG: a long run (more than :data:`WEBGL_MIN_POINTS` records per trace) is drawn
with ``Scattergl``. Below that, SVG lines are faster everywhere: plotly simplifies a line
path, and a browser without a GPU renders WebGL in software — in headless Chromium on two
cores 4 × 10,000 points take 2.2 s as Scattergl and 0.2 s as Scatter (docs/dashboard.md).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.format import LEVEL_COLOURS

FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
PALETTE = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4", "#cf222e"]
GRID = "#e6e8eb"
#: Records per trace above which the energy traces are WebGL (``Scattergl``).
WEBGL_MIN_POINTS = 20_000
#: Trace order of :func:`energy_figure` (the live view extends them by index).
ENERGY_TRACES = ("detot_meV", "epot_eV", "ekin_eV", "temperature_K")
#: (x, y) point keys of each energy trace.
ENERGY_XY = tuple(zip(("t_prod", "t", "t", "t"), ENERGY_TRACES, strict=True))


def with_data(fig: go.Figure, columns: dict[int, dict[str, Sequence[Any]]]) -> dict[str, Any]:
    """The figure as plotly JSON with long arrays put in afterwards: plotly's validation of
    a 10,000-point list costs ~0.5 s per trace, the plain assignment nothing."""
    out: dict[str, Any] = fig.to_plotly_json()
    for index, arrays in columns.items():
        for key, values in arrays.items():
            out["data"][index][key] = list(values)
    return out


def base_layout(fig: go.Figure, *, height: int = 320, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#1f2328"},
        height=height,
        margin={"l": 64, "r": 16, "t": 44, "b": 48},
        showlegend=legend,
        legend={
            "orientation": "h",
            "y": 1.0,
            "yanchor": "bottom",
            "x": 1,
            "xanchor": "right",
            "font_size": 11,
            "bgcolor": "rgba(255,255,255,0.8)",
        },
        title={"x": 0.0, "xanchor": "left", "xref": "paper", "y": 0.98, "font_size": 13},
        hovermode="x unified",
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    fig.update_xaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor="#c9ced6")
    fig.update_yaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor="#c9ced6")
    return fig


def empty_figure(message: str, *, height: int = 320) -> go.Figure:
    """A blank figure carrying a message (nothing to plot yet)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 14, "color": "#6b7280"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, height=height, legend=False)


@functools.lru_cache(maxsize=32)
def _placeholder(message: str, height: int) -> str:
    return str(empty_figure(message, height=height).to_json())


def placeholder(message: str, *, height: int = 320) -> dict[str, Any]:
    """:func:`empty_figure` as plotly JSON, built once (page layouts are built per visit)."""
    fig: dict[str, Any] = json.loads(_placeholder(message, height))
    return fig


def energy_figure(
    points: Mapping[str, Sequence[float]] | None = None, *, webgl: bool = False
) -> dict[str, Any]:
    """2 × 2 panels over time (ps): E_tot − E_tot(0) (meV, production), E_pot (eV),
    E_kin (eV), T (K). ``points`` as returned by :func:`dashboard.live.absorb_thermo`.
    The equilibration (NVT) segment sits at negative times (see :func:`shade_equilibration`);
    ``webgl`` for runs longer than :data:`WEBGL_MIN_POINTS` records."""
    p = points or {}
    fig = copy.deepcopy(_energy_skeleton(webgl))
    for trace, (x_key, y_key) in zip(fig["data"], ENERGY_XY, strict=True):
        trace["x"], trace["y"] = list(p.get(x_key, [])), list(p.get(y_key, []))
    return fig


@functools.lru_cache(maxsize=2)
def _energy_skeleton(webgl: bool) -> dict[str, Any]:
    """The empty 2 × 2 figure (make_subplots costs ~0.1 s; built once per trace type)."""
    trace = go.Scattergl if webgl else go.Scatter
    fig = make_subplots(
        rows=2,
        cols=2,
        horizontal_spacing=0.1,
        vertical_spacing=0.2,
        subplot_titles=(
            "E<sub>tot</sub> − E<sub>tot</sub>(0), NVE",
            "Potential energy E<sub>pot</sub>",
            "Kinetic energy E<sub>kin</sub>",
            "Temperature T",
        ),
    )
    specs = [
        ("ΔE_tot", 1, 1, PALETTE[0]),
        ("E_pot", 1, 2, PALETTE[3]),
        ("E_kin", 2, 1, PALETTE[1]),
        ("T", 2, 2, PALETTE[2]),
    ]
    for name, row, col, colour in specs:
        fig.add_trace(
            trace(x=[], y=[], name=name, mode="lines", line={"width": 1.4, "color": colour}),
            row=row,
            col=col,
        )
    base_layout(fig, height=460, legend=False)
    fig.update_layout(uirevision="energy", hovermode="closest", margin={"t": 40})
    fig.update_annotations(font_size=12)
    fig.update_xaxes(title_text="time (ps)", title_standoff=4)
    fig.update_yaxes(title_text="ΔE (meV)", row=1, col=1)
    fig.update_yaxes(title_text="E<sub>pot</sub> (eV)", row=1, col=2)
    fig.update_yaxes(title_text="E<sub>kin</sub> (eV)", row=2, col=1)
    fig.update_yaxes(title_text="T (K)", row=2, col=2)
    skeleton: dict[str, Any] = fig.to_plotly_json()
    return skeleton


def shade_equilibration(fig: dict[str, Any], equilibration_ps: float) -> dict[str, Any]:
    """Shade the NVT segment [-equilibration_ps, 0) in the panels that show it (E_pot,
    E_kin, T; the ΔE_tot panel is production only)."""
    if equilibration_ps <= 0:
        return fig
    layout = fig["layout"]
    for n in (2, 3, 4):
        layout.setdefault("shapes", []).append(
            {
                "type": "rect",
                "xref": f"x{n}",
                "x0": -equilibration_ps,
                "x1": 0,
                "yref": f"y{n} domain",
                "y0": 0,
                "y1": 1,
                "fillcolor": "#8250df",
                "opacity": 0.07,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    layout.setdefault("annotations", []).append(
        {
            "text": "NVT",
            "x": -equilibration_ps,
            "xref": "x2",
            "xanchor": "left",
            "y": 1,
            "yref": "y2 domain",
            "yanchor": "top",
            "showarrow": False,
            "font": {"size": 10, "color": "#8250df"},
        }
    )
    return fig


def drift_figure(
    t_ps: Sequence[float],
    drift_percent: Sequence[float],
    *,
    target: float | None = None,
    acceptable: float | None = None,
) -> dict[str, Any]:
    """Running drift: drift_percent of the production segment up to t (log axis: a sound
    run sits orders of magnitude below the thresholds, and both should show), with the
    profile's target and acceptable lines."""
    fig = copy.deepcopy(_drift_skeleton(target, acceptable))
    fig["data"][0]["x"], fig["data"][0]["y"] = list(t_ps), list(drift_percent)
    return fig


@functools.lru_cache(maxsize=8)
def _drift_skeleton(target: float | None, acceptable: float | None) -> dict[str, Any]:
    fig = go.Figure(
        go.Scatter(
            x=[],
            y=[],
            mode="lines+markers",
            name="drift so far",
            marker={"size": 4},
            line={"color": PALETTE[0], "width": 1.6},
        )
    )
    for value, level in ((target, "target"), (acceptable, "acceptable")):
        if value is not None and value > 0:
            colour = LEVEL_COLOURS[level]
            fig.add_shape(
                type="line",
                xref="x domain",
                x0=0,
                x1=1,
                yref="y",
                y0=value,
                y1=value,
                line={"color": colour, "dash": "dash", "width": 1},
            )
            fig.add_annotation(  # annotations on a log axis take log10 of the value
                text=f"{level} < {value:g} %",
                xref="x domain",
                x=0,
                xanchor="left",
                yref="y",
                y=math.log10(value),
                yanchor="bottom",
                showarrow=False,
                font={"size": 10, "color": colour},
            )
    base_layout(fig, height=300, legend=False)
    fig.update_layout(uirevision="drift", title={"text": "Running energy drift", "font_size": 13})
    fig.update_xaxes(title_text="production time (ps)")
    fig.update_yaxes(
        title_text="drift (% of ⟨E<sub>kin</sub>⟩)", type="log", dtick=1, exponentformat="power"
    )
    skeleton: dict[str, Any] = fig.to_plotly_json()
    return skeleton


def histogram_bars(counts: Sequence[int], width: float) -> dict[str, list[float]]:
    """Bar centres and heights of counts in bins [k w, (k + 1) w) (eV/Å)."""
    return {"x": [round((k + 0.5) * width, 9) for k in range(len(counts))], "y": list(counts)}


def force_error_histogram(
    counts: Sequence[int],
    width: float,
    *,
    target: float | None = None,
    acceptable: float | None = None,
) -> dict[str, Any]:
    """Per-atom force-error norms |F_i − G_i| of every sampled frame, binned on the server
    (bins of ``width`` eV/Å from 0; see :func:`dashboard.live.bin_values`)."""
    fig = copy.deepcopy(_histogram_skeleton(target, acceptable))
    bars = histogram_bars(counts, width)
    fig["data"][0].update(x=bars["x"], y=bars["y"], width=width)
    fig["layout"]["xaxis"]["range"] = histogram_range(counts, width, acceptable)
    return fig


def histogram_range(counts: Sequence[int], width: float, acceptable: float | None) -> list[float]:
    """x range (eV/Å) from 0 past the last bin and the acceptable line."""
    return [0.0, max(len(counts) * width, 1.15 * (acceptable or 0.0), width)]


@functools.lru_cache(maxsize=8)
def _histogram_skeleton(target: float | None, acceptable: float | None) -> dict[str, Any]:
    fig = go.Figure(
        go.Bar(
            x=[],
            y=[],
            name="atoms × frames",
            marker={"color": PALETTE[3], "line": {"color": "white", "width": 0.5}},
            hovertemplate="%{x:.3g} eV/Å: %{y} atoms × frames<extra></extra>",
        )
    )
    for value, level in ((target, "target"), (acceptable, "acceptable")):
        if value is not None:
            fig.add_vline(
                x=value,
                line={"color": LEVEL_COLOURS[level], "dash": "dot", "width": 1},
                annotation_text=f"RMSE {level} {value:g}",
                annotation_font_size=10,
                annotation_position="top left" if level == "target" else "top right",
            )
    base_layout(fig, height=300, legend=False)
    fig.update_layout(
        uirevision="hist",
        bargap=0.02,
        hovermode="closest",
        title={"text": "Force error on sampled frames", "font_size": 13},
    )
    fig.update_xaxes(title_text="|F<sub>i</sub> − G<sub>i</sub>| (eV/Å)", rangemode="tozero")
    fig.update_yaxes(title_text="count (atoms × frames)")
    skeleton: dict[str, Any] = fig.to_plotly_json()
    return skeleton


def level_colour(level: str | None) -> str:
    return LEVEL_COLOURS.get(level or "pending", LEVEL_COLOURS["pending"])


def as_list(values: Any) -> list[float]:
    return [float(v) for v in values]
