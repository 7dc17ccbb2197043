"""Runs: the newest runs with their state; a click on an id opens the live view."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import api
from dashboard.components import alert, card, labelled, page_header, table
from dashboard.format import num, short_spec, when

dash.register_page(__name__, path="/runs", name="Runs", title="Runs · mdval", order=3)

STATUSES = ("queued", "running", "completed", "crashed", "failed", "cancelled")
PAGE = 100
REFRESH_MS = 5000

COLUMNS = [
    {"name": "run", "id": "run", "presentation": "markdown"},
    {"name": "status", "id": "status"},
    {"name": "model", "id": "model"},
    {"name": "structure", "id": "structure"},
    {"name": "T (K)", "id": "temperature_K", "type": "numeric"},
    {"name": "Δt (fs)", "id": "timestep_fs", "type": "numeric"},
    {"name": "NVE (ps)", "id": "duration_ps", "type": "numeric"},
    {"name": "progress", "id": "progress"},
    {"name": "verdict", "id": "verdict"},
    {"name": "suite", "id": "suite"},
    {"name": "created", "id": "created"},
]


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Interval(id="runs-refresh", interval=REFRESH_MS),
            page_header(
                "Runs",
                "Newest first. Open a run to follow it live.",
                dcc.Link("Submit a run", href="/submit", className="btn btn-primary"),
            ),
            card(
                None,
                html.Div(
                    [
                        labelled(
                            "Status",
                            dcc.Dropdown(
                                id="runs-status",
                                options=list(STATUSES),
                                multi=True,
                                placeholder="any status",
                                className="filter",
                            ),
                        ),
                        labelled(
                            "Model",
                            dcc.Input(
                                id="runs-model",
                                placeholder="spec, e.g. zoo:tiny",
                                debounce=True,
                                className="filter-input",
                            ),
                        ),
                        html.Span(id="runs-total", className="muted"),
                    ],
                    className="filters",
                ),
                html.Div(id="runs-error"),
                table("runs-table", COLUMNS, page_size=25, sort_action="native"),
            ),
        ]
    )


def _row(r: dict[str, Any]) -> dict[str, Any]:
    status = r["status"]
    return {
        "run": f"[#{r['id']}](/runs/{r['id']})",
        "status": status,
        "model": short_spec(r["model"], 28),
        "structure": short_spec(r["structure"], 28),
        "temperature_K": r["temperature_K"],
        "timestep_fs": r["timestep_fs"],
        "duration_ps": r["duration_ps"],
        "progress": f"{r['progress_percent']:.0f} %" if status == "running" else "",
        "verdict": r.get("verdict") or "",
        "suite": r.get("suite") or "",
        "created": when(r.get("created_at")),
    }


@callback(
    Output("runs-table", "data"),
    Output("runs-total", "children"),
    Output("runs-error", "children"),
    Input("runs-refresh", "n_intervals"),
    Input("runs-status", "value"),
    Input("runs-model", "value"),
    State("shell-auth", "data"),
)
async def load(_n: Any, status: list[str] | None, model: str | None, auth_data: Any) -> tuple:
    params: dict[str, Any] = {"limit": PAGE}
    if status:
        params["status"] = status
    if model:
        params["model"] = model.strip()
    try:
        body = await api.get("/runs", token=api.token_of(auth_data), params=params)
    except api.ApiError as exc:
        return [], "", alert(exc.detail)
    shown = len(body["items"])
    return [_row(r) for r in body["items"]], f"{shown} of {num(body['total'])} runs", None
