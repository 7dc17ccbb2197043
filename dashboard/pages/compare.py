"""Comparison of 2-3 potentials on one structure: drift vs timestep (a line per model and
temperature), force error vs temperature (a line per model and timestep), accuracy vs
speed (Pareto), the student-vs-teacher trajectory comparison (RMSD over time, h(r), φ/ψ
densities for alanine dipeptide) and kinetic-energy traces; for the compared cell the
survival of each model's replicas and the observables of the two runs compared."""

from __future__ import annotations

import asyncio
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import api
from dashboard import comparison_figures as cf
from dashboard.compare_data import gather_survival, gather_trajectories, runs_of, summary_series
from dashboard.components import alert, card, graph, labelled, page_header
from dashboard.figures import empty_figure
from dashboard.format import num
from dashboard.observables import runs_observables_table

dash.register_page(__name__, path="/compare", name="Compare", title="Compare · mdval", order=4)

MAX_MODELS = 3
DEFAULT_STRUCTURE = "alanine-dipeptide"


def layout(models: str | None = None, structure: str | None = None, **_q: Any) -> html.Div:
    chosen = [m for m in (models or "").split(",") if m][:MAX_MODELS]
    return html.Div(
        [
            page_header(
                "Compare potentials",
                "Two or three models side by side on one structure; the trajectory comparison "
                "pairs each student with its teacher's run from identical initial conditions.",
            ),
            card(
                None,
                html.Div(
                    [
                        labelled(
                            "Models",
                            dcc.Dropdown(
                                id="comp-models",
                                multi=True,
                                value=chosen,
                                options=chosen,
                                placeholder="choose 2–3 models",
                                className="filter wide",
                            ),
                        ),
                        labelled(
                            "Structure",
                            dcc.Dropdown(
                                id="comp-structure",
                                value=structure or DEFAULT_STRUCTURE,
                                options=[structure or DEFAULT_STRUCTURE],
                                className="filter",
                            ),
                        ),
                    ],
                    className="filters",
                ),
                html.Div(id="comp-note"),
            ),
            dcc.Loading(
                [
                    html.Div(
                        [
                            card(None, graph("comp-drift", height=320)),
                            card(None, graph("comp-force", height=320)),
                        ],
                        className="grid-2",
                    ),
                    html.Div(
                        [
                            card(None, graph("comp-pareto", height=340)),
                            card(None, graph("comp-ke", height=320)),
                        ],
                        className="grid-2",
                    ),
                    card(
                        "Student vs teacher",
                        html.Div(id="comp-pairs", className="muted"),
                        html.Div(
                            [graph("comp-rmsd", height=320), graph("comp-hr", height=320)],
                            className="grid-2",
                        ),
                        graph("comp-phipsi", height=320),
                    ),
                    card(
                        "Survival and observables in the compared cell",
                        html.Div(id="comp-cell", className="muted"),
                        graph("comp-survival", height=320),
                        html.Div(id="comp-observables"),
                    ),
                ],
                type="dot",
                delay_show=300,
            ),
        ]
    )


@callback(
    Output("comp-models", "options"),
    Output("comp-structure", "options"),
    Input("comp-models", "id"),
    State("shell-auth", "data"),
)
async def options(_id: Any, auth_data: Any) -> tuple[list[Any], list[Any]]:
    token = api.token_of(auth_data)
    models, structures = await asyncio.gather(
        api.get("/models", token=token), api.get("/structures", token=token)
    )
    return (
        [{"label": f"{m['name']} ({m['spec']})", "value": m["spec"]} for m in models["items"]],
        [{"label": s["name"], "value": s["spec"]} for s in structures["items"]],
    )


NO_TEACHER = (
    "No student run has a teacher run with the same structure, seed, temperature, timestep "
    "and equilibration yet: submit the teacher as the model with those settings."
)
TEACHER_DID_NOT_COMPLETE = {
    "crashed": "crashed",
    "failed": "failed (the system, not the model)",
    "cancelled": "was cancelled",
}


def _broken_item(m: str, s: dict[str, Any], t: dict[str, Any]) -> html.Li:
    """A student whose teacher run of the same start exists but did not complete."""
    what = TEACHER_DID_NOT_COMPLETE.get(t["status"], t["status"])
    reason = t.get("failure_reason")
    return html.Li(
        [
            f"{m}: the teacher's run ",
            dcc.Link(f"#{t['id']}", href=f"/runs/{t['id']}"),
            f" ({t['model']}) from the start of ",
            dcc.Link(f"run #{s['id']}", href=f"/runs/{s['id']}"),
            f" {what}" + (f": {reason}" if reason else "") + " — nothing to compare with; "
            "see that run rather than submitting the teacher again.",
        ],
        className="teacher-broken",
    )


def _pairs_text(pairs: dict[str, Any], broken: dict[str, Any] | None = None) -> Any:
    broken = broken or {}
    if not pairs and not broken:
        return NO_TEACHER
    items = [
        html.Li(
            [
                f"{m}: ",
                dcc.Link(f"run #{s['id']}", href=f"/runs/{s['id']}"),
                " vs teacher ",
                dcc.Link(f"run #{t['id']}", href=f"/runs/{t['id']}"),
                f" ({t['model']}, {s['structure']}, {num(s['temperature_K'])} K, "
                f"{num(s['timestep_fs'])} fs, seed {s['seed']})",
            ]
        )
        for m, (s, t) in pairs.items()
    ]
    items += [_broken_item(m, s, t) for m, (s, t) in broken.items()]
    return html.Ul(items)


@callback(
    Output("comp-drift", "figure"),
    Output("comp-force", "figure"),
    Output("comp-pareto", "figure"),
    Output("comp-note", "children"),
    Input("comp-models", "value"),
    Input("comp-structure", "value"),
    State("shell-auth", "data"),
)
async def summaries(models: list[str] | None, structure: str | None, auth_data: Any) -> tuple:
    """On the chosen structure: drift vs timestep, force error vs temperature; accuracy vs
    speed (the leaderboard's medians)."""
    models = (models or [])[:MAX_MODELS]
    if not models:
        blank = empty_figure("Choose models above")
        return blank, blank, blank, alert("Choose two or three models to compare.", "info")
    token = api.token_of(auth_data)
    try:
        runs, board = await asyncio.gather(
            runs_of(models, token),
            api.get(
                "/leaderboard", token=token, params={"structure": structure} if structure else None
            ),
        )
    except api.ApiError as exc:
        blank = empty_figure("—")
        return blank, blank, blank, alert(exc.detail)
    series = summary_series(runs, structure)
    notes = [alert("Add one or two more models to compare.", "info")] if len(models) < 2 else []
    if series["notes"]:
        notes.append(alert("Medians " + "; ".join(series["notes"]) + ".", "info"))
    return (
        cf.drift_vs_timestep(series["drift"], structure=structure),
        cf.force_vs_temperature(series["force"], structure=structure),
        cf.pareto_figure(board["rows"], models),
        notes or None,
    )


@callback(
    Output("comp-rmsd", "figure"),
    Output("comp-hr", "figure"),
    Output("comp-phipsi", "figure"),
    Output("comp-ke", "figure"),
    Output("comp-pairs", "children"),
    Input("comp-models", "value"),
    Input("comp-structure", "value"),
    State("shell-auth", "data"),
)
async def trajectories(models: list[str] | None, structure: str | None, auth_data: Any) -> tuple:
    """Student vs teacher from identical initial conditions, and E_kin traces."""
    models = (models or [])[:MAX_MODELS]
    if not models:
        blank = empty_figure("Choose models above")
        return blank, blank, blank, blank, ""
    try:
        data = await gather_trajectories(models, structure, api.token_of(auth_data))
    except api.ApiError as exc:
        blank = empty_figure("—")
        return blank, blank, blank, blank, alert(exc.detail)
    return (
        cf.rmsd_figure(data["rmsd"]),
        cf.hr_figure(data["hr"]),
        cf.phi_psi_figure(data["angles"]),
        cf.ke_traces(data["ke"]),
        _pairs_text(data["pairs"], data.get("broken")),
    )


def _cell_text(cell: dict[str, Any] | None, teacher: str | None, notes: list[str]) -> Any:
    if cell is None:
        return "No finished run of these models on this structure yet."
    text = (
        f"{cell['structure']} · {num(cell['temperature_K'])} K · {num(cell['timestep_fs'])} fs · "
        f"{num(cell['duration_ps'])} ps NVE"
        + (f" · teacher {teacher}" if teacher else " · no teacher (the runs have no reference)")
    )
    if notes:
        return [text, alert("; ".join(notes), "info")]
    return text


@callback(
    Output("comp-survival", "figure"),
    Output("comp-observables", "children"),
    Output("comp-cell", "children"),
    Input("comp-models", "value"),
    Input("comp-structure", "value"),
    State("shell-auth", "data"),
)
async def survival(models: list[str] | None, structure: str | None, auth_data: Any) -> tuple:
    """The compared cell (the student/teacher pair's, else the first model's newest run on
    the structure): each model's and the teacher's replicas alive over production time
    (``/survival``), and the observables of the runs compared (their summaries)."""
    models = (models or [])[:MAX_MODELS]
    if not models:
        return empty_figure("Choose models above"), None, ""
    try:
        data = await gather_survival(models, structure, api.token_of(auth_data))
    except api.ApiError as exc:
        return empty_figure("—"), None, alert(exc.detail)
    cell = data["cell"]
    title = (
        f"Survival of replicas · {cell['structure']}, {num(cell['temperature_K'])} K, "
        f"{num(cell['timestep_fs'])} fs"
        if cell
        else ""
    )
    return (
        cf.survival_figure(data["survival"], title=title),
        runs_observables_table(data["runs"], table_id="comp-observables-table") if cell else None,
        _cell_text(cell, data["teacher"], data["notes"]),
    )
