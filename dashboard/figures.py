"""Figure builders of the run view, shared by the pages and the report.

Every builder returns a :class:`plotly.graph_objects.Figure` with units on every axis.
Long series use WebGL traces (``Scattergl``); live figures keep ``uirevision`` constant so
that zoom and camera survive the appended points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.format import LEVEL_COLOURS
from dashboard.trajectory import Frame, bonds, radius

FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
PALETTE = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4", "#cf222e"]
GRID = "#e6e8eb"
#: Trace order of :func:`energy_figure` (the live view extends them by index).
ENERGY_TRACES = ("detot_meV", "epot_eV", "ekin_eV", "temperature_K")
ELEMENT_COLOURS = {
    "H": "#e8e8e8", "C": "#404040", "N": "#3050f8", "O": "#ff0d0d", "F": "#90e050",
    "S": "#e6c619", "P": "#ff8000", "Cl": "#1ff01f", "Cu": "#c88033", "Ag": "#a8a8b0",
    "Au": "#ffd123", "Ni": "#50d050", "Pt": "#9b9ba8", "Pd": "#006985", "Al": "#a6a6a6",
    "Fe": "#e06633", "Si": "#f0c8a0", "Na": "#ab5cf2",
}  # fmt: skip


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
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right",
                "font_size": 11, "bgcolor": "rgba(255,255,255,0.8)"},
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
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
        font={"size": 14, "color": "#6b7280"},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, height=height, legend=False)


def energy_figure(points: dict[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """2 × 2 panels over time (ps): E_tot − E_tot(0) (meV, production), E_pot (eV),
    E_kin (eV), T (K). ``points`` as returned by :func:`dashboard.live.absorb_thermo`.
    The equilibration (NVT) segment sits at negative times, shaded."""
    p = points or {}
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
        ("ΔE_tot", p.get("t_prod", []), p.get("detot_meV", []), 1, 1, PALETTE[0]),
        ("E_pot", p.get("t", []), p.get("epot_eV", []), 1, 2, PALETTE[3]),
        ("E_kin", p.get("t", []), p.get("ekin_eV", []), 2, 1, PALETTE[1]),
        ("T", p.get("t", []), p.get("temperature_K", []), 2, 2, PALETTE[2]),
    ]
    for name, _x, _y, row, col, colour in specs:
        fig.add_trace(
            go.Scattergl(x=[], y=[], name=name, mode="lines", line={"width": 1.4, "color": colour}),
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
    return with_data(fig, {i: {"x": x, "y": y} for i, (_n, x, y, *_r) in enumerate(specs)})


def shade_equilibration(fig: dict[str, Any], equilibration_ps: float) -> dict[str, Any]:
    """Shade the NVT segment [-equilibration_ps, 0) in the panels that show it (E_pot,
    E_kin, T; the ΔE_tot panel is production only)."""
    if equilibration_ps <= 0:
        return fig
    layout = fig["layout"]
    for n in (2, 3, 4):
        layout.setdefault("shapes", []).append(
            {"type": "rect", "xref": f"x{n}", "x0": -equilibration_ps, "x1": 0,
             "yref": f"y{n} domain", "y0": 0, "y1": 1, "fillcolor": "#8250df", "opacity": 0.07,
             "line": {"width": 0}, "layer": "below"}
        )  # fmt: skip
    layout.setdefault("annotations", []).append(
        {"text": "NVT", "x": -equilibration_ps, "xref": "x2", "xanchor": "left", "y": 1,
         "yref": "y2 domain", "yanchor": "top", "showarrow": False,
         "font": {"size": 10, "color": "#8250df"}}
    )  # fmt: skip
    return fig


def drift_figure(
    t_ps: Sequence[float],
    drift_percent: Sequence[float],
    *,
    target: float | None = None,
    acceptable: float | None = None,
) -> dict[str, Any]:
    """Running drift: drift_percent of the production segment up to t, with the profile's
    target and acceptable lines."""
    fig = go.Figure(
        go.Scattergl(
            x=[], y=[], mode="lines+markers", name="drift so far",
            marker={"size": 4}, line={"color": PALETTE[0], "width": 1.6},
        )
    )  # fmt: skip
    for value, level in ((target, "target"), (acceptable, "acceptable")):
        if value is not None and value > 0:
            colour = LEVEL_COLOURS[level]
            fig.add_shape(
                type="line", xref="x domain", x0=0, x1=1, yref="y", y0=value, y1=value,
                line={"color": colour, "dash": "dash", "width": 1},
            )  # fmt: skip
            fig.add_annotation(  # annotations on a log axis take log10 of the value
                text=f"{level} < {value:g} %", xref="x domain", x=0, xanchor="left",
                yref="y", y=math.log10(value), yanchor="bottom", showarrow=False,
                font={"size": 10, "color": colour},
            )  # fmt: skip
    base_layout(fig, height=300, legend=False)
    fig.update_layout(uirevision="drift", title={"text": "Running energy drift", "font_size": 13})
    fig.update_xaxes(title_text="production time (ps)")
    # log: a sound run sits orders of magnitude below the thresholds, and both should show
    fig.update_yaxes(title_text="drift (% of ⟨E<sub>kin</sub>⟩)", type="log", dtick=1,
                     exponentformat="power")  # fmt: skip
    return with_data(fig, {0: {"x": t_ps, "y": drift_percent}})


def force_error_histogram(
    values: Sequence[float], *, target: float | None = None, acceptable: float | None = None
) -> dict[str, Any]:
    """Per-atom force-error norms |F_i − G_i| of every sampled frame."""
    fig = go.Figure(
        go.Histogram(
            x=[], nbinsx=40, name="atoms × frames",
            # all-zero errors (a model against itself) would get one bar 1 eV/Å wide
            xbins={"start": 0, "size": 0.01} if values and max(values) == 0 else {"start": 0},
            marker={"color": PALETTE[3], "line": {"color": "white", "width": 0.5}},
        )
    )  # fmt: skip
    for value, level in ((target, "target"), (acceptable, "acceptable")):
        if value is not None:
            fig.add_vline(
                x=value, line={"color": LEVEL_COLOURS[level], "dash": "dot", "width": 1},
                annotation_text=f"RMSE {level} {value:g}", annotation_font_size=10,
            )  # fmt: skip
    base_layout(fig, height=300, legend=False)
    fig.update_layout(
        uirevision="hist", bargap=0.02, hovermode="closest",
        title={"text": "Force error on sampled frames", "font_size": 13},
    )  # fmt: skip
    fig.update_xaxes(title_text="|F<sub>i</sub> − G<sub>i</sub>| (eV/Å)", rangemode="tozero")
    fig.update_yaxes(title_text="count (atoms × frames)")
    return with_data(fig, {0: {"x": values}})


def _cell_edges(cell: np.ndarray) -> tuple[list[float | None], ...]:
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
    pts = corners @ cell
    xs: list[float | None] = []
    ys: list[float | None] = []
    zs: list[float | None] = []
    for a in range(8):
        for b in range(a + 1, 8):
            if np.sum(np.abs(corners[a] - corners[b])) == 1:
                for axis, out in zip(range(3), (xs, ys, zs), strict=True):
                    out.extend([float(pts[a, axis]), float(pts[b, axis]), None])
    return xs, ys, zs


def molecule_figure(frame: Frame | None, *, title: str | None = None) -> go.Figure:
    """The frame in 3D: atoms coloured by element, bonds within covalent radii, the cell."""
    if frame is None:
        return empty_figure("No frame written yet", height=380)
    pos = frame.positions
    fig = go.Figure()
    pairs = bonds(frame.symbols, pos)
    if len(pairs):
        seg = np.full((len(pairs) * 3, 3), np.nan)
        seg[0::3], seg[1::3] = pos[pairs[:, 0]], pos[pairs[:, 1]]
        fig.add_trace(
            go.Scatter3d(
                x=seg[:, 0], y=seg[:, 1], z=seg[:, 2], mode="lines", name="bonds",
                line={"color": "#8c959f", "width": 5}, hoverinfo="skip",
            )
        )  # fmt: skip
    if frame.cell is not None and np.any(frame.cell):
        xs, ys, zs = _cell_edges(frame.cell)
        fig.add_trace(
            go.Scatter3d(
                x=xs, y=ys, z=zs, mode="lines", name="cell", hoverinfo="skip",
                line={"color": "#c9ced6", "width": 2},
            )
        )  # fmt: skip
    for element in sorted(set(frame.symbols)):
        idx = [i for i, s in enumerate(frame.symbols) if s == element]
        fig.add_trace(
            go.Scatter3d(
                x=pos[idx, 0], y=pos[idx, 1], z=pos[idx, 2], mode="markers", name=element,
                marker={
                    "size": 5 + 6 * radius(element), "color": ELEMENT_COLOURS.get(element, "#ff1493"),
                    "line": {"color": "#57606a", "width": 1}, "opacity": 1.0,
                },
                text=[f"{element}{i}" for i in idx],
                hovertemplate="%{text}<br>x %{x:.2f} Å<br>y %{y:.2f} Å<br>z %{z:.2f} Å<extra></extra>",
            )
        )  # fmt: skip
    axis = {"title": {"text": ""}, "showbackground": False, "gridcolor": GRID, "zeroline": False}
    fig.update_layout(
        template="plotly_white", font={"family": FONT, "size": 11}, height=380,
        margin={"l": 0, "r": 0, "t": 30, "b": 0}, uirevision="molecule",
        legend={"orientation": "h", "y": 0.02, "x": 0.02, "font_size": 11},
        title={"text": title or "", "font_size": 13, "x": 0.02},
        scene={
            "aspectmode": "data",
            "xaxis": {**axis, "title": {"text": "x (Å)"}},
            "yaxis": {**axis, "title": {"text": "y (Å)"}},
            "zaxis": {**axis, "title": {"text": "z (Å)"}},
        },
    )  # fmt: skip
    return fig


def level_colour(level: str | None) -> str:
    return LEVEL_COLOURS.get(level or "pending", LEVEL_COLOURS["pending"])


def as_list(values: Any) -> list[float]:
    return [float(v) for v in values]
