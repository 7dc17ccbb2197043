"""The equilibrium observables of a run against its control, the control block and the
warnings of a run summary, as the run and compare pages show them.

Everything here is read from ``summary["observables"]``, ``summary["control"]`` and
``summary["warnings"]`` as the API returns them (``GET /api/v1/runs/{id}``); the core
computed every number (mdval/controls/compare.py, mdval/controls/judgement.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

from dashboard.components import alert
from dashboard.format import num

#: (summary key, what it measures, unit) of the observables shown, in order.
OBSERVABLES: tuple[tuple[str, str, str], ...] = (
    ("rdf_w1_A", "pair distances (RDF), W1", "Å"),
    ("bond_length_w1_A", "bond lengths, W1 of the worst type", "Å"),
    ("bond_angle_w1_deg", "bond angles, W1 of the worst type", "°"),
    ("dihedral_js", "φ/ψ histograms, JS divergence", "—"),
    ("vdos_w1_THz", "vibrational DOS, W1", "THz"),
)
VS_CONTROL = "vs control"
NOISE = "control's own noise (first vs second half)"
NO_CONTROL = "no control: observables need the reference's control run"
NO_FRAMES = "no observables: the run or its control kept no frames"
PENDING = "Observables appear when the run ends."


def header(label: str, unit: str) -> str:
    """``label (unit)``: every observable's unit in its header cell."""
    return f"{label} ({unit})"


def observable_rows(observables: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per observable: key, header (with its unit), the value vs the control and
    the control's noise floor (None when the core could not compute it)."""
    obs = observables or {}
    noise = obs.get("noise") or {}
    return [
        {
            "key": key,
            "header": header(label, unit),
            "unit": unit,
            "value": obs.get(key),
            "noise": noise.get(key),
        }
        for key, label, unit in OBSERVABLES
    ]


def _cell(value: Any, unit: str) -> str:
    return num(value, 3) if unit == "—" else num(value, 3, unit)


def _frames_note(observables: Mapping[str, Any]) -> Any:
    model, control = observables.get("n_frames_model"), observables.get("n_frames_control")
    if model is None and control is None:
        return None
    return html.Caption(
        f"frames used: {num(model)} of the run, {num(control)} of the control; W1: "
        "Wasserstein-1 distance, JS: Jensen–Shannon divergence (base 2); — : too few frames "
        "or not applicable"
    )


def observables_table(
    observables: Mapping[str, Any] | None, *, table_id: str, ended: bool = True
) -> Any:
    """The observables of one run beside its control's noise, or why there are none."""
    if observables is None:
        return html.P(NO_CONTROL if ended else PENDING, className="muted", id=table_id)
    if not observables:
        return html.P(NO_FRAMES, className="muted", id=table_id)
    head = html.Thead(html.Tr([html.Th("observable (unit)"), html.Th(VS_CONTROL), html.Th(NOISE)]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(r["header"]),
                    html.Td(_cell(r["value"], r["unit"]), **{"data-key": r["key"]}),
                    html.Td(_cell(r["noise"], r["unit"])),
                ]
            )
            for r in observable_rows(observables)
        ]
    )
    return html.Table(
        [_frames_note(observables), head, body], className="criteria observables", id=table_id
    )


def runs_observables_table(runs: Sequence[tuple[str, Mapping[str, Any]]], *, table_id: str) -> Any:
    """The observables of several runs side by side: for each run (label, summary) the
    value vs its control and its control's noise; a run without observables says why."""
    if not runs:
        return html.P("No runs to compare in this cell.", className="muted", id=table_id)
    top = [html.Th("")]
    sub = [html.Th("observable (unit)")]
    columns = []
    for label, summary in runs:
        obs = summary.get("observables")
        top.append(html.Th(label, colSpan=2))
        sub.extend([html.Th(VS_CONTROL), html.Th(NOISE)])
        columns.append({r["key"]: r for r in observable_rows(obs)} if obs else None)
    rows = []
    for key, label, unit in OBSERVABLES:
        cells: list[Any] = [html.Td(header(label, unit))]
        for column in columns:
            if column is None:
                cells.extend([html.Td("—"), html.Td("—")])
            else:
                cells.extend(
                    [
                        html.Td(_cell(column[key]["value"], unit)),
                        html.Td(_cell(column[key]["noise"], unit)),
                    ]
                )
        rows.append(html.Tr(cells))
    missing = [
        f"{label}: {NO_CONTROL if s.get('observables') is None else NO_FRAMES}"
        for label, s in runs
        if not s.get("observables")
    ]
    table = html.Table(
        [html.Thead([html.Tr(top), html.Tr(sub)]), html.Tbody(rows)],
        className="criteria observables",
    )
    notes = html.Ul([html.Li(m) for m in missing], className="muted") if missing else None
    return html.Div([table, notes], id=table_id)


def control_valid_text(valid: Any) -> str:
    """``yes`` / ``no`` / ``undecided`` for the control block's ``valid``."""
    return {True: "yes", False: "no"}.get(valid, "undecided")


def control_summary(control: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the control block says, in words: expected, valid (yes/no/undecided), whether
    the run is its own control, which control, and its evidence lines."""
    block = control or {}
    expected = bool(block.get("expected"))
    out: dict[str, Any] = {
        "expected": expected,
        "valid": control_valid_text(block.get("valid")) if expected else None,
        "evidence": [str(e) for e in block.get("evidence") or []],
        "is_self": block.get("is_self"),
        "key": block.get("key"),
        "status": block.get("status"),
    }
    if not expected:
        out["own"] = "no control expected: the run has no reference"
    elif block.get("is_self"):
        out["own"] = "this run is its own control (the reference under this protocol)"
    elif block.get("key"):
        out["own"] = f"control run {str(block['key'])[:12]} ({block.get('status') or '?'})"
    else:
        out["own"] = "no control run was found or run"
    return out


def control_block(control: Mapping[str, Any] | None, *, block_id: str, ended: bool = True) -> Any:
    """The control block of a run summary: valid, whose control, the evidence lines."""
    if control is None:
        text = (
            "No control block in this summary."
            if ended
            else "The control appears when the run ends."
        )
        return html.P(text, className="muted", id=block_id)
    s = control_summary(control)
    lines: list[Any] = [html.P(s["own"], className="control-own")]
    if s["expected"]:
        lines.insert(0, html.P(["Control valid: ", html.B(s["valid"])], className="control-valid"))
    metrics = control.get("metrics") or {}
    if metrics.get("drift_percent") is not None or metrics.get("stable_duration_ps") is not None:
        lines.append(
            html.P(
                f"control drift {num(metrics.get('drift_percent'), 3, '%')} · stable for "
                f"{num(metrics.get('stable_duration_ps'), 3, 'ps')}",
                className="muted",
            )
        )
    if s["evidence"]:
        lines.append(html.Ul([html.Li(e) for e in s["evidence"]], className="control-evidence"))
    return html.Div(lines, id=block_id)


def warnings_list(warnings: Sequence[str] | None) -> Any:
    """The summary's warnings, one alert each (None: nothing to show)."""
    if not warnings:
        return None
    return html.Div([alert(str(w), "warning") for w in warnings], className="run-warnings")
