"""Stand-up: since the last stand-up (default 24 h), recommendations that changed
(before -> after, as the API reads them from the recommendation history), new models, new
failures with their reasons, what finished (cancelled runs apart), runs in progress with
ETA, and how the leaderboard changed — each with links to its runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import api
from dashboard.components import alert, card, page_header, table, tile
from dashboard.format import duration, num, percent, short_spec, verdict_counts, when

dash.register_page(__name__, path="/standup", name="Stand-up", title="Stand-up · mdval", order=5)

REFRESH_MS = 10_000
WINDOWS_H = ((24, "last 24 h"), (72, "last 3 days"), (168, "last 7 days"))
CHANGE_LABELS = {
    "runs": ("runs", lambda v: num(v)),
    "pass_rate": ("pass rate", percent),
    "crash_rate": ("crash rate", percent),
    "median_drift_percent": ("drift", lambda v: num(v, 3, "%")),
    "median_force_rmse_eV_per_A": ("force RMSE", lambda v: num(v, 3, "eV/Å")),
    "median_inference_ms_per_replica_step": (
        "inference per replica",
        lambda v: num(v, 3, "ms/step"),
    ),
    "recommendation": ("recommendation", lambda v: v or "—"),
}


#: Run links shown per change (the API lists them all).
MAX_LINKS = 8


def _runs(n: int | None) -> str:
    return f"{num(n)} run" if n == 1 else f"{num(n)} runs"


def _link(run_id: int) -> str:
    return f"[#{run_id}](/runs/{run_id})"


def _run_links(run_ids: list[int]) -> list[Any]:
    """``runs #12, #13 (+4 more)`` as links to the run pages."""
    if not run_ids:
        return []
    shown: list[Any] = [" · runs "]
    for k, run_id in enumerate(run_ids[:MAX_LINKS]):
        shown += [", " if k else "", dcc.Link(f"#{run_id}", href=f"/runs/{run_id}")]
    if len(run_ids) > MAX_LINKS:
        shown.append(f" (+{len(run_ids) - MAX_LINKS} more)")
    return shown


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Interval(id="su-refresh", interval=REFRESH_MS),
            page_header(
                "Stand-up",
                "What changed since the last stand-up.",
                dcc.Dropdown(
                    id="su-window",
                    options=[{"label": t, "value": h} for h, t in WINDOWS_H],
                    value=24,
                    clearable=False,
                    className="filter",
                ),
            ),
            html.Div(id="su-error"),
            html.Div(id="su-tiles", className="tiles"),
            html.Div(
                [
                    card("Recommendation changes", html.Div(id="su-recommendations")),
                    card("New models", html.Div(id="su-new-models")),
                ],
                className="grid-2",
            ),
            card(
                "New failures",
                table(
                    "su-failures",
                    [
                        {"name": "run", "id": "run", "presentation": "markdown"},
                        {"name": "status", "id": "status"},
                        {"name": "model", "id": "model"},
                        {"name": "structure", "id": "structure"},
                        {"name": "reason", "id": "reason"},
                        {"name": "finished", "id": "finished"},
                    ],
                    style_data={"whiteSpace": "normal", "height": "auto"},
                ),
            ),
            html.Div(
                [
                    card(
                        "In progress",
                        table(
                            "su-running",
                            [
                                {"name": "run", "id": "run", "presentation": "markdown"},
                                {"name": "model", "id": "model"},
                                {"name": "structure", "id": "structure"},
                                {"name": "progress", "id": "progress"},
                                {"name": "ETA", "id": "eta"},
                            ],
                        ),
                    ),
                    card("Leaderboard changes", html.Div(id="su-changes")),
                ],
                className="grid-2",
            ),
            card(
                "Finished",
                table(
                    "su-finished",
                    [
                        {"name": "run", "id": "run", "presentation": "markdown"},
                        {"name": "status", "id": "status"},
                        {"name": "verdict", "id": "verdict"},
                        {"name": "model", "id": "model"},
                        {"name": "structure", "id": "structure"},
                        {"name": "suite", "id": "suite"},
                        {"name": "finished", "id": "finished"},
                    ],
                    page_size=20,
                ),
            ),
        ]
    )


def _change(c: dict[str, Any]) -> html.Li:
    after, before = c["after"], c.get("before") or {}
    links = _run_links(c.get("run_ids") or [])
    if c["change"] == "new":
        return html.Li(
            [
                html.B(c["model"]),
                f" is new: {_runs(after['runs'])} scored, pass rate {percent(after['pass_rate'])}",
                *links,
            ]
        )
    diffs = []
    for key, (label, fmt) in CHANGE_LABELS.items():
        if before.get(key) != after.get(key):
            diffs.append(f"{label} {fmt(before.get(key))} → {fmt(after.get(key))}")
    return html.Li([html.B(c["model"]), ": " + "; ".join(diffs), *links])


def recommendation_change(c: dict[str, Any]) -> html.Li:
    """``zoo:tiny: production with caveats → not recommended · decided by #12 · runs ...``."""
    decided = c.get("decided_by_run_id")
    parts: list[Any] = [
        html.B(c["model"]),
        ": ",
        html.Span(c.get("before") or "none yet", className="before"),
        " → ",
        html.Span(c["after"], className="after"),
    ]
    if decided:
        parts += [" · decided by ", dcc.Link(f"run #{decided}", href=f"/runs/{decided}")]
    return html.Li(parts + _run_links(c.get("run_ids") or []), className="recommendation-change")


def new_model(m: dict[str, Any]) -> html.Li:
    return html.Li(
        [
            html.B(m["model"]),
            f" ({m['name']}): {_runs(m['runs'])} scored, "
            f"recommendation {m.get('recommendation') or '—'}",
            *_run_links(m.get("run_ids") or []),
        ]
    )


def _listing(items: list[Any], empty: str) -> Any:
    return html.Ul(items, className="changes") if items else html.P(empty, className="muted")


@callback(
    Output("su-tiles", "children"),
    Output("su-failures", "data"),
    Output("su-running", "data"),
    Output("su-finished", "data"),
    Output("su-changes", "children"),
    Output("su-recommendations", "children"),
    Output("su-new-models", "children"),
    Output("su-error", "children"),
    Input("su-refresh", "n_intervals"),
    Input("su-window", "value"),
    State("shell-auth", "data"),
)
async def load(_n: Any, hours: int | None, auth_data: Any) -> tuple:
    # whole minutes: polls within a minute share the API's cached "before" leaderboard
    since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=hours or 24)
    try:
        body = await api.get(
            "/standup", token=api.token_of(auth_data), params={"since": since.isoformat()}
        )
    except api.ApiError as exc:
        return [], [], [], [], None, None, None, alert(exc.detail)
    finished, failures, running = body["finished"], body["new_failures"], body["running"]
    cancelled = body.get("cancelled") or []
    rec_changes = body.get("recommendation_changes") or []
    tiles = [
        tile("Finished", num(len(finished)), hint=verdict_counts(finished)),
        tile("New failures", num(len(failures)), hint="crashed or failed"),
        tile("Recommendations changed", num(len(rec_changes))),
        tile("Running", num(len(running))),
        tile("Queued", num(body["queued"])),
        tile("Cancelled", num(len(cancelled)), hint="not counted as finished"),
    ]
    fail_rows = [
        {
            "run": _link(r["id"]),
            "status": r["status"],
            "model": short_spec(r["model"]),
            "structure": short_spec(r["structure"]),
            "reason": r.get("failure_reason") or "—",
            "finished": when(r.get("finished_at")),
        }
        for r in failures
    ]
    run_rows = [
        {
            "run": _link(r["id"]),
            "model": short_spec(r["model"]),
            "structure": short_spec(r["structure"]),
            "progress": f"{r['progress_percent']:.0f} %",
            "eta": duration(r.get("eta_s")),
        }
        for r in running
    ]
    done_rows = [
        {
            "run": _link(r["id"]),
            "status": r["status"],
            "verdict": r.get("verdict") or "—",
            "model": short_spec(r["model"]),
            "structure": short_spec(r["structure"]),
            "suite": r.get("suite") or "",
            "finished": when(r.get("finished_at")),
        }
        for r in finished
    ]
    return (
        tiles,
        fail_rows,
        run_rows,
        done_rows,
        _listing([_change(c) for c in body["leaderboard_changes"]], "No changes."),
        _listing([recommendation_change(c) for c in rec_changes], "No recommendation changed."),
        _listing([new_model(m) for m in body.get("new_models") or []], "No new models."),
        None,
    )
