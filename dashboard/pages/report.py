"""Report: the M6 report of a suite — executive summary, methodology, results per
potential, performance, recommendations — exported as one self-contained HTML file."""

from __future__ import annotations

import asyncio
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import api, criteria
from dashboard.compare_data import finished_runs
from dashboard.components import alert, card, labelled, page_header, recommendation_badge
from dashboard.format import num, percent
from dashboard.report import RANKING, ReportData, build_report, case_medians

dash.register_page(__name__, path="/report", name="Report", title="Report · mdval", order=6)

ALL_RUNS = "__all__"


def layout(suite: str | None = None, **_q: Any) -> html.Div:
    return html.Div(
        [
            dcc.Download(id="report-download"),
            page_header(
                "Report",
                "The M6 report of a suite as one self-contained HTML file (plots included, "
                "opens offline).",
                html.Button(
                    "Download HTML report", id="report-export", className="btn btn-primary"
                ),
            ),
            card(
                None,
                html.Div(
                    [
                        labelled(
                            "Suite",
                            dcc.Dropdown(
                                id="report-suite",
                                value=suite or ALL_RUNS,
                                clearable=False,
                                options=[{"label": "all runs", "value": ALL_RUNS}],
                                className="filter",
                            ),
                        ),
                        labelled(
                            "Speed-up vs",
                            dcc.Dropdown(
                                id="report-baseline",
                                placeholder="choose a baseline",
                                className="filter",
                            ),
                        ),
                    ],
                    className="filters",
                ),
                html.Div(id="report-status"),
            ),
            card(
                "Executive summary (preview)",
                dcc.Loading(html.Div(id="report-preview"), type="dot"),
            ),
        ]
    )


@callback(
    Output("report-suite", "options"),
    Output("report-baseline", "options"),
    Output("report-baseline", "value"),
    Input("report-suite", "id"),
    State("shell-auth", "data"),
)
async def options(_id: Any, auth_data: Any) -> tuple:
    token = api.token_of(auth_data)
    suites, models = await asyncio.gather(
        api.get("/suites", token=token), api.get("/models", token=token)
    )
    specs = [m["spec"] for m in models["items"]]
    baseline = "zoo:original" if "zoo:original" in specs else None
    return (
        [{"label": "all runs", "value": ALL_RUNS}]
        + [{"label": s["name"], "value": s["name"]} for s in suites["items"]],
        [{"label": m["name"], "value": m["spec"]} for m in models["items"]],
        baseline,
    )


async def collect(suite: str | None, baseline: str | None, token: str | None) -> ReportData:
    """The suite's leaderboard, its finished runs per model, its definition and profile."""
    params = {k: v for k, v in {"suite": suite, "baseline": baseline}.items() if v}
    board, suites = await asyncio.gather(
        api.get("/leaderboard", token=token, params=params), api.get("/suites", token=token)
    )
    rows = board["rows"]
    runs_lists = await asyncio.gather(*(finished_runs(r["model"], token) for r in rows))
    runs = {
        r["model"]: [x for x in lst if suite is None or x.get("suite") == suite]
        for r, lst in zip(rows, runs_lists, strict=True)
    }
    definition = next((s.get("definition") for s in suites["items"] if s["name"] == suite), None)
    profile_name = (definition or {}).get("profile") or "m6"
    profile, levels = await asyncio.gather(
        criteria.profile_definition(profile_name, token), _case_levels(profile_name, runs, token)
    )
    return ReportData(
        suite=suite,
        suite_definition=definition,
        profile=profile,
        rows=rows,
        runs=runs,
        baseline=baseline,
        levels=levels,
    )


async def _case_levels(
    profile: str, runs: dict[str, list[dict[str, Any]]], token: str | None
) -> dict[str, dict[Any, dict[str, str]]]:
    """The API's criteria levels of every case's medians (thresholds alone: medians are no
    one run's evidence), model -> case -> metric -> level."""
    keys, items = [], []
    for model, model_runs in runs.items():
        for case, medians in case_medians(model_runs).items():
            keys.append((model, case))
            items.append(medians)
    judged = await criteria.levels(profile, items, None, token, evidence=False)
    out: dict[str, dict[Any, dict[str, str]]] = {}
    for (model, case), rows in zip(keys, judged or [[] for _ in keys], strict=True):
        out.setdefault(model, {})[case] = criteria.level_by_metric(rows)
    return out


def _suite(value: str | None) -> str | None:
    return None if value in (None, ALL_RUNS) else value


@callback(
    Output("report-preview", "children"),
    Input("report-suite", "value"),
    Input("report-baseline", "value"),
    State("shell-auth", "data"),
)
async def preview(suite: str | None, baseline: str | None, auth_data: Any) -> Any:
    params = {k: v for k, v in {"suite": _suite(suite), "baseline": baseline}.items() if v}
    try:
        board = await api.get("/leaderboard", token=api.token_of(auth_data), params=params)
    except api.ApiError as exc:
        return alert(exc.detail)
    rows = sorted(
        board["rows"],
        key=lambda r: (
            RANKING.index(r["recommendation"])
            if r.get("recommendation") in RANKING
            else len(RANKING)
        ),
    )
    if not rows:
        return alert("No finished runs in this suite yet.", "info")
    head = [
        "potential",
        "recommendation",
        "runs",
        "pass rate",
        "crash rate",
        "drift",
        "force RMSE",
        "inference",
        "speed-up",
    ]
    body = [
        html.Tr(
            [
                html.Td(r["name"]),
                html.Td(recommendation_badge(r.get("recommendation"))),
                html.Td(num(r["runs"])),
                html.Td(percent(r.get("pass_rate"))),
                html.Td(percent(r.get("crash_rate"))),
                html.Td(num(r.get("median_drift_percent"), 3, "%")),
                html.Td(num(r.get("median_force_rmse_eV_per_A"), 3, "eV/Å")),
                html.Td(num(r.get("median_inference_ms_per_step"), 3, "ms/step")),
                html.Td(num(r.get("speedup"), 3, "×")),
            ]
        )
        for r in rows
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], className="criteria"
    )


@callback(
    Output("report-download", "data"),
    Output("report-status", "children"),
    Input("report-export", "n_clicks"),
    State("report-suite", "value"),
    State("report-baseline", "value"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def export(_n: Any, suite: str | None, baseline: str | None, auth_data: Any) -> tuple:
    try:
        data = await collect(_suite(suite), baseline, api.token_of(auth_data))
    except api.ApiError as exc:
        return None, alert(exc.detail)
    document = await asyncio.to_thread(build_report, data)
    name = f"mdval-report-{_suite(suite) or 'all-runs'}-{data.generated_at:%Y%m%d-%H%M}.html"
    size = f"{len(document.encode()) / 1e6:.1f} MB"
    return (
        {"content": document, "filename": name, "type": "text/html"},
        alert(f"Report ready: {name} ({size}).", "success"),
    )
