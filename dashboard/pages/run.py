"""Live run view: energies and temperature while the run goes (only new points are sent),
progress and ETA, the running drift, the current frame in 3D, the force-error histogram,
the criteria table filling in, cancel, and the downloads once the run has ended; then the
summary's warnings, its equilibrium observables against the control (beside the control's
own noise) and the control block."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import api, auth, criteria, live
from dashboard import observables as obs
from dashboard import run_data as data
from dashboard.components import (
    alert,
    card,
    criteria_table,
    graph,
    page_header,
    status_badge,
    tile,
)
from dashboard.figures import energy_figure, placeholder
from dashboard.format import ACTIVE_STATUSES, duration, num, short_spec, when
from dashboard.molecule import molecule_figure

dash.register_page(__name__, path_template="/runs/<run_id>", title="Run · mdval", order=10)

#: Poll interval of the live view; the worker flushes about every second.
POLL_MS = 1000
#: The 3D view reads the trajectory file's end at most this often.
FRAME_EVERY_S = 3.0


def layout(run_id: str | None = None, **_query: Any) -> html.Div:
    try:
        rid = int(run_id or "")
    except ValueError:
        return html.Div([page_header("Run"), alert(f"'{run_id}' is not a run id")])
    return html.Div(
        [
            dcc.Store(id="run-id", data=rid),
            dcc.Store(id="run-state"),
            dcc.Store(id="run-frame-time"),
            dcc.Interval(id="run-poll", interval=POLL_MS, disabled=True),
            page_header(
                f"Run #{rid}",
                None,
                html.Span(id="run-status"),
                html.Span(
                    dcc.ConfirmDialogProvider(
                        html.Button(
                            "Cancel run", id="run-cancel", className="btn btn-danger", disabled=True
                        ),
                        id="run-cancel-confirm",
                        message=f"Cancel run #{rid}? A running run stops at its next record.",
                    ),
                    id="run-actions",
                ),
            ),
            html.Div(id="run-subtitle", className="subtitle run-subtitle"),
            html.Div(id="run-message"),
            html.Div(id="run-warnings"),
            html.Div(id="run-body", children=_body()),
        ]
    )


def _body() -> list[Any]:
    """Everything below the header: hidden when there is no such run."""
    return [
        html.Div(
            [
                tile("Progress", html.Div(id="run-progress"), hint=None),
                tile("ETA", "—", tile_id="run-eta"),
                tile("Energy drift", "—", tile_id="run-drift-now"),
                tile("Force RMSE", "—", tile_id="run-fe-now"),
                tile("Inference", "—", tile_id="run-inference"),
            ],
            className="tiles",
        ),
        card("Energies and temperature", graph("run-energy", energy_figure(None), height=460)),
        html.Div(
            [
                card(None, graph("run-drift", placeholder("Loading…", height=300), height=300)),
                card(None, graph("run-hist", placeholder("Loading…", height=300), height=300)),
            ],
            className="grid-2",
        ),
        html.Div(
            [
                card(
                    "Current frame",
                    graph(
                        "run-molecule",
                        placeholder("No frame written yet", height=380),
                        height=380,
                    ),
                ),
                card("Criteria", html.Div(id="run-criteria"), html.Div(id="run-downloads")),
            ],
            className="grid-2",
        ),
        html.Div(
            [
                card(
                    "Equilibrium observables vs the control",
                    html.Div(obs.PENDING, id="run-observables", className="muted"),
                ),
                card("Control run", html.Div(id="run-control")),
            ],
            className="grid-2",
        ),
    ]


def _header(run: dict[str, Any]) -> Any:
    parts = [
        html.B(short_spec(run["model"])),
        " on ",
        html.B(
            f"{run['structure']} ({run.get('formula') or '?'}, {run.get('n_atoms') or '?'} atoms)"
        ),
        f" · {num(run['temperature_K'])} K · {num(run['timestep_fs'])} fs · "
        f"{num(run['duration_ps'])} ps NVE",
    ]
    if run.get("equilibration_ps"):
        parts.append(f" after {num(run['equilibration_ps'])} ps NVT")
    if run.get("reference"):
        parts.append(f" · reference {short_spec(run['reference'])}")
    parts.append(f" · seed {run['seed']} · profile {run['profile']}")
    if run.get("suite"):
        parts.append(f" · suite {run['suite']}")
    batch = int(((run.get("summary") or {}).get("provenance") or {}).get("batch_size") or 1)
    if batch > 1:
        parts.append(f" · ran in a batch of {batch} replicas (its timings are the batch's)")
    parts.append(f" · created {when(run.get('created_at'))}")
    return parts


def _progress(run: dict[str, Any]) -> Any:
    pct = float(run.get("progress_percent") or 0.0)
    total = run.get("total_steps") or 0
    done = max(run.get("done_steps") or 0, round(total * pct / 100))
    steps = f"{done:,} / {total:,} steps"
    return [
        html.Div(f"{pct:.0f} %", className="tile-value"),
        html.Div(html.Div(style={"width": f"{pct:.1f}%"}, className="bar-fill"), className="bar"),
        html.Div(steps, className="tile-hint"),
    ]


def _downloads(run: dict[str, Any]) -> Any:
    if run["status"] in ACTIVE_STATUSES:
        return html.P("Downloads appear when the run ends.", className="muted")
    links = [
        ("Trajectory (extxyz)", "trajectory", run.get("has_trajectory")),
        ("Thermo (CSV)", "thermo.csv", True),
        ("Summary (JSON)", "summary.json", True),
    ]
    return html.Div(
        [
            html.A(
                label,
                href=api.download_url(run["id"], what),
                className="btn btn-ghost",
                download="",
                id=f"run-download-{what.split('.')[0]}",
            )
            for label, what, ok in links
            if ok
        ],
        className="downloads",
    )


def _message(run: dict[str, Any]) -> Any:
    status = run["status"]
    if status == "queued":
        return alert("Queued: waiting for a worker.", "info")
    if status in ("crashed", "failed", "cancelled"):
        reason = run.get("failure_reason") or ""
        ttf = run.get("time_to_failure_ps")
        extra = f" at {num(ttf)} ps" if ttf is not None else ""
        return alert(f"Run {status}{extra}. {reason}", "warning" if status != "failed" else "error")
    if status == "completed":
        verdict = run.get("verdict") or "—"
        rec = run.get("recommendation")
        hint = {
            "inconclusive": " (the evidence cannot decide: see the criteria for what is needed)",
            "protocol invalid": " (the reference itself fails under this protocol: the run "
            "counts neither for nor against the model)",
        }.get(verdict, "")
        return alert(
            f"Completed · verdict {verdict}{hint}" + (f" · {rec}" if rec else ""),
            {"pass": "success", "inconclusive": "info", "protocol invalid": "info"}.get(
                verdict, "warning"
            ),
        )
    if run.get("cancel_requested"):
        return alert("Cancel requested: the worker stops at its next record.", "info")
    return None


_OUTPUTS = (
    "run-energy.figure",
    "run-drift.figure",
    "run-hist.figure",
    "run-state.data",
    "run-status.children",
    "run-subtitle.children",
    "run-message.children",
    "run-progress.children",
    "run-eta.children",
    "run-drift-now.children",
    "run-fe-now.children",
    "run-inference.children",
    "run-criteria.children",
    "run-downloads.children",
    "run-warnings.children",
    "run-observables.children",
    "run-control.children",
    "run-poll.disabled",
    "run-cancel.disabled",
    "run-body.style",
    "run-actions.style",
)
#: Style of the body and the Cancel button when the run does not exist.
HIDDEN = {"display": "none"}


def _outputs(duplicate: bool) -> list[Output]:
    return [Output(o.split(".")[0], o.split(".")[1], allow_duplicate=duplicate) for o in _OUTPUTS]


@callback(
    *_outputs(False),
    Input("run-id", "data"),
    State("shell-auth", "data"),
)
async def load(run_id: int, auth_data: Any) -> tuple:
    """First paint: every record so far; then the poll takes over."""
    return await _update(run_id, None, auth_data)


@callback(
    *_outputs(True),
    Input("run-poll", "n_intervals"),
    State("run-id", "data"),
    State("run-state", "data"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def poll(_n: Any, run_id: int, state: dict[str, Any] | None, auth_data: Any) -> tuple:
    """Every second: only the records after the last one shown (``after_seq`` cursor)."""
    if state is None:
        return tuple([no_update] * len(_OUTPUTS))
    return await _update(run_id, state, auth_data)


async def _update(run_id: int, state: dict[str, Any] | None, auth_data: Any) -> tuple:
    token = api.token_of(auth_data)
    try:
        run = await api.get(f"/runs/{run_id}", token=token)
    except api.ApiError as exc:
        if exc.status == 404:  # nothing to load, cancel or wait for
            missing = [
                f"No such run: #{run_id} does not exist. ",
                dcc.Link("All runs", href="/runs"),
            ]
            return (*([no_update] * 6), alert(missing), *([no_update] * 10), True, True,
                    HIDDEN, HIDDEN)  # fmt: skip
        return (*([no_update] * 6), alert(exc.detail), *([no_update] * 10), True, True,
                no_update, no_update)  # fmt: skip
    fresh = state is None or state.get("attempt") != run.get("attempt")
    if fresh:  # first paint, or a retried run that started its series again
        state = {**live.new_state(run), "attempt": run.get("attempt")}
    assert state is not None
    state["status"] = run["status"]
    thermo, fes = await asyncio.gather(
        data.thermo_after(run_id, state["after_seq"], token),
        data.force_errors_after(run_id, state["fe_after_seq"], token),
    )
    device = run.get("device_name") or run.get("device")
    thresholds = await criteria.profile_thresholds(run.get("profile"), device, token)
    if fresh:
        energy, drift, hist = data.full_figures(run, state, thermo, fes, thresholds)
    else:
        energy, drift, hist, _added = data.patches(state, thermo, fes)
    metrics = live.provisional_metrics(state)
    final = run.get("metrics") or {}
    rows, provisional = await data.criteria_rows(run, state, thresholds, token)
    ended = run["status"] not in ACTIVE_STATUSES
    eta = duration(run.get("eta_s")) if run["status"] == "running" else "—"
    now = final if ended else metrics
    warnings, observables, control = (
        _summary_blocks(run, ended) if ended or fresh else ((no_update,) * 3)
    )
    return (
        energy,
        drift,
        hist,
        state,
        status_badge(run["status"]),
        _header(run),
        _message(run),
        _progress(run),
        eta,
        num(now.get("drift_percent"), 3, "%"),
        num(now.get("force_rmse_eV_per_A"), 3, "eV/Å"),
        num(now.get("inference_ms_per_step"), 3, "ms/step"),
        criteria_table(rows, provisional=provisional) if rows else html.P("No criteria profile."),
        _downloads(run),
        warnings,
        observables,
        control,
        ended,
        ended or not auth.can_write(auth_data) or bool(run.get("cancel_requested")),
        {},
        {},
    )


def _summary_blocks(run: dict[str, Any], ended: bool) -> tuple[Any, Any, Any]:
    """Warnings, observables vs the control and the control block of the run's summary."""
    summary = run.get("summary") or {}
    if not ended or not summary:
        pending = html.P(obs.PENDING if not ended else "This run has no summary.")
        return None, pending, None
    return (
        obs.warnings_list(summary.get("warnings")),
        obs.observables_table(summary.get("observables"), table_id="run-observables-table"),
        obs.control_block(summary.get("control"), block_id="run-control-block"),
    )


@callback(
    Output("run-molecule", "figure"),
    Output("run-frame-time", "data"),
    Input("run-state", "data"),
    State("run-id", "data"),
    State("run-frame-time", "data"),
)
async def frame(state: dict[str, Any] | None, run_id: int, shown: Any) -> tuple[Any, Any]:
    """After each poll (so that the energies paint first): the newest frame, when it
    changed and at most every FRAME_EVERY_S."""
    if not state:
        return no_update, no_update
    now = time.monotonic()
    if shown and now - shown[-1] < FRAME_EVERY_S and state.get("status") in ACTIVE_STATUSES:
        return no_update, no_update
    current = await data.current_frame(run_id, api.token_of(None))
    if current is None:
        return no_update, no_update
    key = [state.get("attempt"), current.get("step"), current.get("time_ps")]
    if shown and key == shown[:3]:
        return no_update, [*key, now]
    title = f"step {int(current.get('step') or 0):,} · t = {num(current.get('time_ps'))} ps"
    return molecule_figure(current, title=title), [*key, now]


@callback(
    Output("run-message", "children", allow_duplicate=True),
    Input("run-cancel-confirm", "submit_n_clicks"),
    State("run-id", "data"),
    State("shell-auth", "data"),
    prevent_initial_call=True,
)
async def cancel(_n: Any, run_id: int, auth_data: Any) -> Any:
    try:
        body = await api.post(f"/runs/{run_id}/cancel", token=api.token_of(auth_data))
    except api.ApiError as exc:
        return alert(f"Not cancelled: {exc.detail}")
    return alert(body["message"], "info")
