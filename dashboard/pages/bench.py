"""Benchmarks: ``mdval bench`` run on a worker — the speed-up table of the students through
the bare model and both engines, the single-system figures, batch scaling and harness
overhead plots, and the issue's targets, for a chosen job (default: the newest completed)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import api, auth
from dashboard.bench_figures import (
    LONG_COLUMNS,
    SINGLE_COLUMNS,
    SPEEDUP_COLUMNS,
    TARGET_COLUMNS,
    batch_scaling_figure,
    context_line,
    long_rows,
    main_structure,
    overhead_figure,
    single_rows,
    speedup_rows,
    target_rows,
)
from dashboard.components import alert, card, graph, labelled, page_header, status_badge, table
from dashboard.figures import placeholder
from dashboard.format import ACTIVE_STATUSES, when

dash.register_page(__name__, path="/bench", name="Benchmarks", title="Benchmarks · mdval", order=7)

REFRESH_MS = 3000
JOBS_SHOWN = 50
#: What *Run quick benchmark* sends: the core's quick plan, its defaults (three students).
QUICK_REQUEST: dict[str, Any] = {"quick": True}
CURL = (
    'curl -X POST "$MDVAL_SERVER/api/v1/bench" -H "Authorization: Bearer $MDVAL_TOKEN" \\\n'
    '     -H "Content-Type: application/json" -d \'{"quick": true}\''
)


def layout(job: str | None = None, **_query: Any) -> html.Div:
    chosen = int(job) if job and job.isdigit() else None
    return html.Div(
        [
            dcc.Interval(id="bench-refresh", interval=REFRESH_MS, disabled=True),
            dcc.Store(id="bench-queued"),
            dcc.Store(id="bench-shown"),
            page_header(
                "Benchmarks",
                "Speed and memory of the potentials: the model alone (bare), the torch engine "
                "and the ASE engine, measured in one process on a worker (mdval bench).",
                html.Button("Run quick benchmark", id="bench-run", className="btn btn-primary"),
            ),
            html.Div(id="bench-run-message"),
            html.Div(id="bench-error"),
            html.Div(id="bench-empty"),
            html.Div(
                [
                    card(
                        None,
                        html.Div(
                            [
                                labelled(
                                    "Benchmark",
                                    dcc.Dropdown(
                                        id="bench-job",
                                        value=chosen,
                                        clearable=False,
                                        placeholder="choose a benchmark",
                                        className="filter",
                                        style={"minWidth": "420px"},
                                    ),
                                ),
                                html.Div(id="bench-status"),
                            ],
                            className="filters",
                        ),
                        html.P(id="bench-context", className="muted"),
                    ),
                    card(
                        "Speed-ups against the baseline (the first model), same run",
                        table("bench-speedups", SPEEDUP_COLUMNS),
                    ),
                    card(
                        None,
                        html.H2(id="bench-single-title", className="card-title"),
                        table("bench-single", SINGLE_COLUMNS),
                    ),
                    html.Div(
                        [
                            card(None, graph("bench-scaling", placeholder("…"), height=360)),
                            card(None, graph("bench-overhead", placeholder("…"), height=360)),
                        ],
                        className="grid-2",
                    ),
                    card(
                        "Long trajectories: one replica, throughput over the whole run",
                        table("bench-long", LONG_COLUMNS),
                        id="bench-long-card",
                        style={"display": "none"},
                    ),
                    card(
                        "Targets (issue 6)",
                        table(
                            "bench-targets",
                            TARGET_COLUMNS,
                            style_data={"whiteSpace": "normal", "height": "auto"},
                        ),
                    ),
                ],
                id="bench-body",
            ),
        ]
    )


def empty_state() -> html.Div:
    """What to do when no benchmark has run through the service yet."""
    return html.Div(
        [
            html.H2("No benchmark yet", className="card-title"),
            html.P(
                [
                    "Start one with ",
                    html.B("Run quick benchmark"),
                    " above (sign in with a submitter token first), or through the API:",
                ]
            ),
            html.Pre(CURL, className="code"),
            html.P(
                "The quick plan times zoo:original, zoo:tiny and zoo:ultra-tiny on alanine "
                "dipeptide (1, 4 and 16 replicas) and GFN2-xTB through the ASE engine — about "
                "a minute on a CPU worker. POST /api/v1/bench takes models, structure, "
                "replicas, steps and device; see docs/service.md.",
                className="muted",
            ),
        ],
        className="card",
    )


def _label(job: dict[str, Any]) -> str:
    models = ", ".join(job.get("models") or [])
    return f"#{job['id']} · {job['status']} · {when(job.get('created_at'))} · {models}"


def _choose(jobs: list[dict[str, Any]], current: Any, queued: Any, trigger: Any) -> Any:
    ids = [j["id"] for j in jobs]
    if trigger == "bench-queued" and queued in ids:
        return queued
    if current in ids:
        return current
    completed = [j["id"] for j in jobs if j["status"] == "completed"]
    return completed[0] if completed else ids[0]


@callback(
    Output("bench-job", "options"),
    Output("bench-job", "value"),
    Output("bench-refresh", "disabled"),
    Output("bench-empty", "children"),
    Output("bench-body", "style"),
    Output("bench-error", "children"),
    Input("bench-refresh", "n_intervals"),
    Input("bench-queued", "data"),
    State("bench-job", "value"),
    State("shell-auth", "data"),
)
async def jobs(_n: Any, queued: Any, current: Any, auth_data: Any) -> tuple:
    try:
        body = await api.get("/bench", token=api.token_of(auth_data), params={"limit": JOBS_SHOWN})
    except api.ApiError as exc:
        return [], None, True, None, {"display": "none"}, alert(exc.detail)
    items = body["items"]
    if not items:
        return [], None, True, empty_state(), {"display": "none"}, None
    options = [{"label": _label(j), "value": j["id"]} for j in items]
    value = _choose(items, current, queued, dash.ctx.triggered_id)
    active = any(j["status"] in ACTIVE_STATUSES for j in items)
    return options, value, not active, None, {}, None


def _status(job: dict[str, Any]) -> list[Any]:
    parts: list[Any] = [status_badge(job["status"])]
    if job["status"] == "running" and job.get("progress"):
        parts.append(html.Span(f" {job['progress']}", className="muted"))
    elif job["status"] == "queued":
        parts.append(html.Span(f" waiting {where(job)}", className="muted"))
    if job["status"] != "queued" and job.get("device_name"):
        parts.append(html.Span(f" on {job['device_name']}", className="muted"))
    if job.get("failure_reason"):
        parts.append(alert(job["failure_reason"]))
    return parts


@callback(
    Output("bench-status", "children"),
    Output("bench-context", "children"),
    Output("bench-speedups", "data"),
    Output("bench-single-title", "children"),
    Output("bench-single", "data"),
    Output("bench-long", "data"),
    Output("bench-long-card", "style"),
    Output("bench-targets", "data"),
    Output("bench-scaling", "figure"),
    Output("bench-overhead", "figure"),
    Output("bench-shown", "data"),
    Input("bench-job", "value"),
    Input("bench-refresh", "n_intervals"),
    State("bench-shown", "data"),
    State("shell-auth", "data"),
)
async def show(job_id: Any, _n: Any, shown: Any, auth_data: Any) -> tuple:
    if job_id is None:
        hidden = {"display": "none"}
        return (None, None, [], None, [], [], hidden, [], placeholder(""), placeholder(""), None)
    try:
        job = await api.get(f"/bench/{job_id}", token=api.token_of(auth_data))
    except api.ApiError as exc:
        return (alert(exc.detail), *([no_update] * 10))
    mark = {"id": job["id"], "status": job["status"], "progress": job.get("progress")}
    if dash.ctx.triggered_id == "bench-refresh" and mark == shown:
        return tuple([no_update] * 11)  # nothing new: keep the figures as they are
    summary = job.get("summary")
    structure = main_structure(job)
    atoms = next((r["n_atoms"] for r in job.get("records") or [] if r["structure"] == structure), 0)
    title = f"Single system: {structure}" + (f" ({atoms} atoms), one replica" if atoms else "")
    long = long_rows(job)
    return (
        _status(job),
        context_line(job) if job["status"] == "completed" else None,
        speedup_rows(summary),
        title,
        single_rows(job),
        long,
        {} if long else {"display": "none"},
        target_rows(summary),
        batch_scaling_figure(summary),
        overhead_figure(job),
        mark,
    )


@callback(
    Output("bench-run-message", "children"),
    Output("bench-queued", "data"),
    Input("bench-run", "n_clicks"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def run(_clicks: Any, auth_data: Any) -> tuple:
    if not auth.can_write(auth_data):
        return alert("Sign in with a submitter token (top right) to start a benchmark."), no_update
    try:
        job = await api.post("/bench", token=api.token_of(auth_data), json=QUICK_REQUEST)
    except api.ApiError as exc:
        return alert(exc.detail), no_update
    served = await serving_workers(job["queue"], api.token_of(auth_data))
    message = f"Benchmark #{job['id']} queued {where(job, served)}; it appears below when done."
    return alert(message, "success"), job["id"]


def where(job: dict[str, Any], served: list[str] | None = None) -> str:
    """Where a queued job waits: the queue it really went to, what decides its device, and
    (when known) the live workers that serve that queue. The queue's name is no device: a
    CPU server's worker may serve the queue called 'gpu' (device auto resolves on it)."""
    device = job.get("device") or "auto"
    decides = (
        "device auto: the worker that takes it uses CUDA if it has a GPU, else its CPU"
        if device == "auto"
        else f"device {device}"
    )
    text = f"on queue '{job['queue']}' ({decides})"
    if served is not None:
        text += f"; served by {', '.join(served)}" if served else "; no live worker serves it"
    return text


async def serving_workers(queue: str, token: str | None) -> list[str] | None:
    """Names of the live workers consuming ``queue`` (``GET /health``); None if unknown."""
    try:
        health = await api.get("/health", token=token)
    except api.ApiError:
        return None
    return [w["name"] for w in health.get("workers") or [] if queue in (w.get("queues") or [])]
