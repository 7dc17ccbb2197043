"""The 3D view of a frame as the API gives it (``GET /api/v1/runs/{id}/frames``): atoms
coloured by element and sized by their covalent radius, the bonds the core found (minimum
image: a bond across the cell boundary is drawn along its vector from atom i), the cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from dashboard.figures import FONT, GRID, empty_figure

HOVER = "%{text}<br>x %{x:.2f} Å<br>y %{y:.2f} Å<br>z %{z:.2f} Å<extra></extra>"
ELEMENT_COLOURS = {
    "H": "#e8e8e8",
    "C": "#404040",
    "N": "#3050f8",
    "O": "#ff0d0d",
    "F": "#90e050",
    "S": "#e6c619",
    "P": "#ff8000",
    "Cl": "#1ff01f",
    "Cu": "#c88033",
    "Ag": "#a8a8b0",
    "Au": "#ffd123",
    "Ni": "#50d050",
    "Pt": "#9b9ba8",
    "Pd": "#006985",
    "Al": "#a6a6a6",
    "Fe": "#e06633",
    "Si": "#f0c8a0",
    "Na": "#ab5cf2",
}


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


def molecule_figure(frame: dict[str, Any] | None, *, title: str | None = None) -> go.Figure:
    """The frame (a FrameView body) in 3D: atoms by element, the core's bonds, the cell."""
    if frame is None:
        return empty_figure("No frame written yet", height=380)
    symbols: list[str] = list(frame["symbols"])
    pos = np.asarray(frame["positions_A"], float).reshape(-1, 3)
    radii = np.asarray(frame.get("radii_A") or [0.0] * len(symbols), float)
    pairs = np.asarray(frame.get("bonds") or [], int).reshape(-1, 2)
    vectors = np.asarray(frame.get("bond_vectors_A") or [], float).reshape(-1, 3)
    cell = np.asarray(frame["cell_A"], float) if frame.get("cell_A") is not None else None
    fig = go.Figure()
    if len(pairs) and len(vectors) == len(pairs):
        seg = np.full((len(pairs) * 3, 3), np.nan)
        seg[0::3] = pos[pairs[:, 0]]
        seg[1::3] = pos[pairs[:, 0]] + vectors
        fig.add_trace(
            go.Scatter3d(
                x=seg[:, 0],
                y=seg[:, 1],
                z=seg[:, 2],
                mode="lines",
                name="bonds",
                line={"color": "#8c959f", "width": 5},
                hoverinfo="skip",
            )
        )
    if cell is not None and np.any(cell):
        xs, ys, zs = _cell_edges(cell)
        fig.add_trace(
            go.Scatter3d(
                x=xs,
                y=ys,
                z=zs,
                mode="lines",
                name="cell",
                hoverinfo="skip",
                line={"color": "#c9ced6", "width": 2},
            )
        )
    for element in sorted(set(symbols)):
        idx = [i for i, s in enumerate(symbols) if s == element]
        fig.add_trace(
            go.Scatter3d(
                x=pos[idx, 0],
                y=pos[idx, 1],
                z=pos[idx, 2],
                mode="markers",
                name=element,
                marker={
                    "size": 5 + 6 * float(radii[idx[0]]),
                    "color": ELEMENT_COLOURS.get(element, "#ff1493"),
                    "line": {"color": "#57606a", "width": 1},
                    "opacity": 1.0,
                },
                text=[f"{element}{i}" for i in idx],
                hovertemplate=HOVER,
            )
        )
    axis = {"title": {"text": ""}, "showbackground": False, "gridcolor": GRID, "zeroline": False}
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 11},
        height=380,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        uirevision="molecule",
        legend={"orientation": "h", "y": 0.02, "x": 0.02, "font_size": 11},
        title={"text": title or "", "font_size": 13, "x": 0.02},
        scene={
            "aspectmode": "data",
            "xaxis": {**axis, "title": {"text": "x (Å)"}},
            "yaxis": {**axis, "title": {"text": "y (Å)"}},
            "zaxis": {**axis, "title": {"text": "z (Å)"}},
        },
    )
    return fig
