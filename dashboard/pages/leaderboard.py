"""Leaderboard: a row per potential with its criteria levels as colour; sortable, filtered
by suite, structure and temperature; speed-up against a chosen baseline; select 2-3 rows
(or click a model) to open the comparison."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import dash
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.dash_table.Format import Format, Scheme

from dashboard import api, criteria
from dashboard.components import alert, card, labelled, page_header, table
from dashboard.format import LEVEL_BACKGROUNDS, LEVEL_COLOURS, RECOMMENDATION_LEVELS, when

dash.register_page(__name__, path="/", name="Leaderboard", title="Leaderboard · mdval", order=0)

PROFILE = "m6"
_num = Format(precision=3, scheme=Scheme.decimal_or_exponent)
_pct = Format(precision=0, scheme=Scheme.percentage)
COLUMNS: list[dict[str, Any]] = [
    {"name": "model", "id": "name"},
    {"name": "kind", "id": "kind"},
    {"name": "parameters", "id": "n_params", "type": "numeric", "format": Format(group=",")},
    {"name": "runs", "id": "runs", "type": "numeric"},
    {"name": "pass rate", "id": "pass_rate", "type": "numeric", "format": _pct},
    {"name": "inconclusive", "id": "inconclusive", "type": "numeric"},
    {"name": "protocol invalid", "id": "protocol_invalid", "type": "numeric"},
    {"name": "crash rate", "id": "crash_rate", "type": "numeric", "format": _pct},
    {"name": "drift (%)", "id": "median_drift_percent", "type": "numeric", "format": _num},
    {
        "name": "|drift| (meV/ atom/ps)",
        "id": "median_abs_drift_meV_per_atom_per_ps",
        "type": "numeric",
        "format": _num,
    },
    {
        "name": "force RMSE (eV/Å)",
        "id": "median_force_rmse_eV_per_A",
        "type": "numeric",
        "format": _num,
    },
    {
        "name": "force MAE (eV/Å)",
        "id": "median_force_mae_eV_per_A",
        "type": "numeric",
        "format": _num,
    },
    {"name": "force R²", "id": "median_force_r2", "type": "numeric", "format": _num},
    {
        "name": "angle error (°)",
        "id": "median_force_angle_error_deg",
        "type": "numeric",
        "format": _num,
    },
    {
        "name": "inference (ms/step)",
        "id": "median_inference_ms_per_step",
        "type": "numeric",
        "format": _num,
    },
    {
        "name": "per replica (ms/step)",
        "id": "median_inference_ms_per_replica_step",
        "type": "numeric",
        "format": _num,
    },
    {"name": "batch size", "id": "batch"},
    {"name": "speed-up per replica (×)", "id": "speedup", "type": "numeric", "format": _num},
    {"name": "recommendation", "id": "recommendation"},
    {"name": "last finished", "id": "last"},
]
#: Coloured cells: column -> metric of the criteria profile.
LEVEL_COLUMNS = {
    "median_drift_percent": "drift_percent",
    "median_force_rmse_eV_per_A": "force_rmse_eV_per_A",
}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Location(id="lb-go", refresh="callback-nav"),
            dcc.Store(id="lb-rows"),
            page_header(
                "Leaderboard",
                "Medians over finished runs (completed + crashed). Colours: criteria levels of "
                "the m6 profile. Select 2–3 rows to compare, or click a model.",
                html.Button(
                    "Compare selected", id="lb-compare", className="btn btn-primary", disabled=True
                ),
            ),
            card(
                None,
                html.Div(
                    [
                        labelled(
                            "Suite",
                            dcc.Dropdown(
                                id="lb-suite", placeholder="all suites", className="filter"
                            ),
                        ),
                        labelled(
                            "Structure",
                            dcc.Dropdown(
                                id="lb-structure", placeholder="all structures", className="filter"
                            ),
                        ),
                        labelled(
                            "Temperature",
                            dcc.Dropdown(
                                id="lb-temperature",
                                placeholder="all temperatures",
                                className="filter",
                            ),
                        ),
                        labelled(
                            "Speed-up vs",
                            dcc.Dropdown(
                                id="lb-baseline",
                                placeholder="choose a baseline",
                                className="filter",
                            ),
                        ),
                    ],
                    className="filters",
                ),
                html.Div(id="lb-error"),
                dcc.Loading(
                    table(
                        "lb-table",
                        COLUMNS,
                        sort_action="native",
                        row_selectable="multi",
                        selected_rows=[],
                        page_size=50,
                        style_cell={
                            "padding": "6px 8px",
                            "whiteSpace": "normal",
                            "height": "auto",
                            "minWidth": "64px",
                            "maxWidth": "150px",
                        },
                        style_cell_conditional=[{"if": {"column_id": "name"}, "fontWeight": "600"}],
                    ),
                    type="dot",
                    delay_show=400,
                ),
                html.Div(id="lb-legend", className="legend"),
            ),
        ]
    )


@callback(
    Output("lb-suite", "options"),
    Output("lb-structure", "options"),
    Output("lb-temperature", "options"),
    Output("lb-baseline", "options"),
    Input("lb-rows", "id"),
    State("shell-auth", "data"),
)
async def filters(_id: Any, auth_data: Any) -> tuple:
    token = api.token_of(auth_data)
    suites, structures, models = await asyncio.gather(
        api.get("/suites", token=token),
        api.get("/structures", token=token),
        api.get("/models", token=token),
    )
    temps = sorted(
        {
            float(t)
            for s in suites["items"]
            for t in (s.get("definition") or {}).get("temperatures_K", [])
        }
        | {100.0, 300.0, 500.0}
    )
    return (
        [s["name"] for s in suites["items"]],
        [
            {"label": f"{s['name']} ({s['formula']})", "value": s["spec"]}
            for s in structures["items"]
        ],
        [{"label": f"{t:g} K", "value": t} for t in temps],
        [{"label": m["name"], "value": m["spec"]} for m in models["items"]],
    )


def batch_sizes(row: dict[str, Any]) -> str:
    """``1``, ``8`` or ``1–8``: the batch sizes of a row's runs (a batched run's
    inference time is its batch's; the per-replica column divides it by the size)."""
    low, high = row.get("batch_size_min"), row.get("batch_size_max")
    if low is None or high is None:
        return "—"
    return f"{low}" if low == high else f"{low}–{high}"


async def _styles(rows: list[dict[str, Any]], token: str | None) -> list[dict[str, Any]]:
    """Cell colours by the criteria levels the API gives for each row's medians (the
    thresholds alone: a median is not one run's evidence)."""
    items = [{metric: r.get(col) for col, metric in LEVEL_COLUMNS.items()} for r in rows]
    judged = await criteria.levels(PROFILE, items, None, token, evidence=False)
    styles: list[dict[str, Any]] = []
    for r, item_rows in zip(rows, judged or [[] for _ in rows], strict=True):
        by_metric = criteria.level_by_metric(item_rows)
        levels = {col: by_metric.get(metric) for col, metric in LEVEL_COLUMNS.items()}
        crash = r.get("crash_rate")
        levels["crash_rate"] = None if crash is None else ("target" if crash == 0 else "fail")
        levels["recommendation"] = RECOMMENDATION_LEVELS.get(r.get("recommendation") or "")
        for col, level in levels.items():
            if level and level != "not_evaluated":
                styles.append(
                    {
                        "if": {"filter_query": f"{{id}} = {r['id']}", "column_id": col},
                        "backgroundColor": LEVEL_BACKGROUNDS[level],
                        "color": LEVEL_COLOURS[level],
                        "fontWeight": "600",
                    }
                )
    return styles


@callback(
    Output("lb-table", "data"),
    Output("lb-table", "style_data_conditional"),
    Output("lb-error", "children"),
    Output("lb-rows", "data"),
    Input("lb-suite", "value"),
    Input("lb-structure", "value"),
    Input("lb-temperature", "value"),
    Input("lb-baseline", "value"),
    State("shell-auth", "data"),
)
async def load(
    suite: Any, structure: Any, temperature: Any, baseline: Any, auth_data: Any
) -> tuple:
    params = {
        k: v
        for k, v in {
            "suite": suite,
            "structure": structure,
            "temperature_K": temperature,
            "baseline": baseline,
            "sort": "pass_rate",
        }.items()
        if v not in (None, "")
    }
    try:
        body = await api.get("/leaderboard", token=api.token_of(auth_data), params=params)
    except api.ApiError as exc:
        return [], [], alert(exc.detail), []
    rows = []
    for i, r in enumerate(body["rows"]):
        rows.append(
            {**r, "id": i, "last": when(r.get("last_finished_at")), "batch": batch_sizes(r)}
        )
        rows[-1].pop("recommendation_evidence", None)
    styles = await _styles(rows, api.token_of(auth_data))
    note = None if rows else alert("No finished runs match these filters yet.", "info")
    return rows, styles, note, [r["model"] for r in rows]


@callback(
    Output("lb-compare", "disabled"),
    Input("lb-table", "selected_rows"),
)
def enable_compare(selected: list[int] | None) -> bool:
    return not selected or not 2 <= len(selected) <= 3


@callback(
    Output("lb-go", "href"),
    Input("lb-compare", "n_clicks"),
    Input("lb-table", "active_cell"),
    State("lb-table", "selected_rows"),
    State("lb-table", "data"),
    State("lb-baseline", "value"),
    prevent_initial_call=True,
)
def go_compare(
    _n: Any,
    cell: dict[str, Any] | None,
    selected: list[int],
    data: list[dict[str, Any]],
    baseline: str | None,
) -> Any:
    trigger = dash.ctx.triggered_id
    if trigger == "lb-compare" and selected:
        models = [data[i]["model"] for i in selected[:3]]
    elif trigger == "lb-table" and cell and cell.get("column_id") == "name":
        row = next((r for r in data if r["id"] == cell.get("row_id")), None)
        if row is None:
            return no_update
        # with the baseline, or else with the best-placed other model
        other = baseline or next((r["model"] for r in data if r["model"] != row["model"]), None)
        models = [row["model"]] + ([other] if other and other != row["model"] else [])
    else:
        return no_update
    return "/compare?models=" + quote(",".join(models))
