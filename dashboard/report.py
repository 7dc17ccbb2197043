"""The M6 report of a suite as one self-contained HTML file: executive summary,
methodology, results per potential, performance, recommendations — with the plots inline
(plotly.js embedded once, no network needed to open it)."""

from __future__ import annotations

import html
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from dashboard import comparison_figures as cf
from dashboard.compare_data import grouped_median
from dashboard.format import (
    LEVEL_BACKGROUNDS,
    LEVEL_COLOURS,
    RECOMMENDATION_LEVELS,
    num,
    percent,
)

#: Order of the recommendation levels, best first (METRICS.md rules 1-5).
RANKING = (
    "production",
    "production with caveats",
    "pre-equilibration only",
    "energy screening only",
    "not recommended",
)


#: A case of the results tables: (structure, temperature K, timestep fs).
Case = tuple[str, float, float]
#: The medians of a case shown in the results tables (coloured by their levels).
CASE_METRICS = ("drift_percent", "force_rmse_eV_per_A", "force_r2", "inference_ms_per_step")


@dataclass
class ReportData:
    """What one report shows. ``runs`` maps a model spec to its finished runs (RunRead
    bodies); ``rows`` are the suite's leaderboard rows; ``profile`` the criteria profile as
    registered; ``levels`` the API's criteria levels of each case's medians, model ->
    case (structure, T, Δt) -> metric -> level (see :func:`case_medians`)."""

    suite: str | None
    suite_definition: dict[str, Any] | None
    profile: dict[str, Any] | None
    rows: list[dict[str, Any]]
    runs: dict[str, list[dict[str, Any]]]
    baseline: str | None = None
    levels: dict[str, dict[Case, dict[str, str]]] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def e(text: Any) -> str:
    return html.escape(str(text))


def _badge(level: str | None, text: str) -> str:
    lv = level or "pending"
    return (
        f'<span class="badge" style="color:{LEVEL_COLOURS.get(lv, "#6b7280")};'
        f'background:{LEVEL_BACKGROUNDS.get(lv, "#eef0f3")}">{e(text)}</span>'
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Figures:
    """Inline figures; the first one carries plotly.js."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure) -> str:
        out = fig.to_html(
            full_html=False,
            include_plotlyjs=self.first,
            config={"displaylogo": False, "responsive": True},
        )
        self.first = False
        return f'<div class="figure">{out}</div>'


def _rank(row: dict[str, Any]) -> tuple[int, float]:
    rec = row.get("recommendation")
    level = RANKING.index(rec) if rec in RANKING else len(RANKING)
    return level, row.get("median_inference_ms_per_step") or float("inf")


def executive_summary(data: ReportData) -> str:
    n_runs = sum(len(v) for v in data.runs.values())
    if not data.rows:
        return "<p>No finished runs in this suite yet.</p>"
    best = min(data.rows, key=_rank)
    lead = (
        f"<p>{len(data.rows)} potentials, {n_runs} finished runs. Best candidate: "
        f"<b>{e(best['name'])}</b> ({e(best.get('recommendation') or 'no recommendation yet')}"
        f", force RMSE {e(num(best.get('median_force_rmse_eV_per_A'), 3, 'eV/Å'))}, "
        f"{e(num(best.get('median_inference_ms_per_step'), 3, 'ms/step'))}).</p>"
    )
    rows = [
        [
            e(r["name"]),
            _badge(
                RECOMMENDATION_LEVELS.get(r.get("recommendation") or ""),
                r.get("recommendation") or "—",
            ),
            e(percent(r.get("pass_rate"))),
            e(percent(r.get("crash_rate"))),
            e(num(r.get("median_drift_percent"), 3, "%")),
            e(num(r.get("median_force_rmse_eV_per_A"), 3, "eV/Å")),
            e(num(r.get("median_inference_ms_per_step"), 3, "ms/step")),
            e(num(r.get("speedup"), 3, "×")),
        ]
        for r in sorted(data.rows, key=_rank)
    ]
    return lead + _table(
        [
            "potential",
            "recommendation",
            "pass rate",
            "crash rate",
            "drift",
            "force RMSE",
            "inference",
            f"speed-up vs {data.baseline or '—'}",
        ],
        rows,
    )


#: The protocol rows of the methodology: (label, RunRead field, suite field, unit).
PROTOCOL_ROWS = (
    ("structures", "structure", "structures", ""),
    ("temperatures", "temperature_K", "temperatures_K", " K"),
    ("timesteps", "timestep_fs", "timesteps_fs", " fs"),
    ("NVE production", "duration_ps", "durations_ps", " ps"),
    ("NVT equilibration (Langevin)", "equilibration_ps", "equilibration_ps", " ps"),
    ("seeds", "seed", "seeds", ""),
    ("reference (teacher)", "reference", "reference", ""),
    ("profile", "profile", "profile", ""),
)


def protocol_values(data: ReportData, run_field: str, suite_field: str) -> list[Any]:
    """The distinct values of ``run_field`` over the report's runs, as the API recorded
    them; the suite definition's ``suite_field`` when there are no runs."""
    found = {r.get(run_field) for runs in data.runs.values() for r in runs}
    if not any(data.runs.values()):
        value = (data.suite_definition or {}).get(suite_field)
        found = set(value) if isinstance(value, list) else {value}
    values = [v for v in found if v is not None]
    numbers = all(isinstance(v, int | float) for v in values)
    return sorted(values) if numbers else sorted(values, key=str)


def _protocol_cell(values: list[Any], unit: str) -> str:
    if not values:
        return "none"
    return e(", ".join(f"{v:g}{unit}" if isinstance(v, int | float) else str(v) for v in values))


def methodology(data: ReportData) -> str:
    d = data.suite_definition or {}
    protocol = [
        [label, _protocol_cell(protocol_values(data, run_field, suite_field), unit)]
        for label, run_field, suite_field, unit in PROTOCOL_ROWS
    ]
    protocol.append(
        [
            "integrator",
            "velocity Verlet (NVE); Maxwell–Boltzmann start, centre-of-mass momentum removed",
        ]
    )
    crit_rows = []
    for c in (data.profile or {}).get("criteria", []):
        target, acceptable = c.get("target"), c.get("acceptable")
        if c.get("by_device"):
            target = "; ".join(f"{k}: {v.get('target')}" for k, v in c["by_device"].items())
            acceptable = "; ".join(f"{k}: {v.get('acceptable')}" for k, v in c["by_device"].items())
        crit_rows.append(
            [
                e(c["name"]),
                e(c["metric"]),
                e(c.get("comparison")),
                e(target),
                e(acceptable),
                e(c.get("unit") or ""),
                e(c.get("description") or ""),
            ]
        )
    return (
        f"<p>{e(d.get('description') or 'Runs of the suite, as recorded.')}</p>"
        + _table(["", "protocol (as the runs recorded it)"], protocol)
        + f"<h3>Acceptance criteria (profile {e((data.profile or {}).get('name', '—'))})</h3>"
        + _table(
            ["criterion", "metric", "comparison", "target", "acceptable", "unit", ""], crit_rows
        )
        + "<p>Energy drift is the slope of a least-squares line through E<sub>tot</sub>(t) of "
        "the NVE segment, as % of the mean kinetic energy over the run; force errors are "
        "against the reference on frames of the model's own trajectory. A run passes when "
        "every criterion is at least acceptable; the recommendation applies rules 1–5 of "
        "the M6 plan to all runs of a model.</p>"
    )


def _cases(runs: list[dict[str, Any]]) -> dict[Case, list[dict[str, Any]]]:
    cases: dict[Case, list[dict[str, Any]]] = {}
    for r in runs:
        cases.setdefault((r["structure"], r["temperature_K"], r["timestep_fs"]), []).append(r)
    return dict(sorted(cases.items()))


def case_medians(runs: list[dict[str, Any]]) -> dict[Case, dict[str, float | None]]:
    """Per case of a model's runs, the medians shown (what the levels are asked for)."""
    return {
        case: {m: _median([(r.get("metrics") or {}).get(m) for r in group]) for m in CASE_METRICS}
        for case, group in _cases(runs).items()
    }


def _case_rows(runs: list[dict[str, Any]], levels: dict[Case, dict[str, str]]) -> list[list[str]]:
    """One row per case (structure, temperature, timestep): runs, passed, crashed and the
    medians over them, each coloured by its criteria level (from the API)."""
    all_medians = case_medians(runs)
    out = []
    for (structure, temperature, timestep), group in _cases(runs).items():
        medians = all_medians[(structure, temperature, timestep)]
        levels_of_case = levels.get((structure, temperature, timestep), {})

        def cell(metric: str, unit: str, *, _m: Any = medians, _lv: Any = levels_of_case) -> str:
            text = num(_m.get(metric), 3, unit)
            return _badge(_lv.get(metric), text) if _m.get(metric) is not None else e(text)

        out.append(
            [
                e(structure),
                e(f"{temperature:g} K"),
                e(f"{timestep:g} fs"),
                e(len(group)),
                e(sum(1 for r in group if r.get("verdict") == "pass")),
                e(sum(1 for r in group if r.get("verdict") == "inconclusive")),
                _badge("protocol invalid", str(n_invalid))
                if (n_invalid := sum(1 for r in group if r.get("verdict") == "protocol invalid"))
                else e(0),
                e(sum(1 for r in group if r["status"] == "crashed")),
                cell("drift_percent", "%"),
                cell("force_rmse_eV_per_A", "eV/Å"),
                e(num(medians["force_r2"])),
                e(num(medians["inference_ms_per_step"], 3, "ms")),
            ]
        )
    return out


def _median(values: list[Any]) -> float | None:
    clean = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return statistics.median(clean) if clean else None


def _by_structure(runs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The runs of each model split by structure ("model · structure" when several
    structures are in the report): a median never mixes structures."""
    structures = {r["structure"] for group in runs.values() for r in group}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for model, group in runs.items():
        for r in group:
            out[f"{model} · {r['structure']}" if len(structures) > 1 else model].append(r)
    return dict(out)


def results(data: ReportData, fig: _Figures) -> str:
    series = _by_structure(data.runs)
    drift = {
        m: grouped_median(r, "timestep_fs", "drift_percent", absolute=True)
        for m, r in series.items()
    }
    force = {
        m: grouped_median(r, "temperature_K", "force_rmse_eV_per_A") for m, r in series.items()
    }
    parts = [
        fig(cf.drift_vs_timestep(drift)),
        fig(cf.force_vs_temperature(force)),
        "<p class='note'>One line per model and structure; the drift medians pool the "
        "temperatures of a timestep, the force medians the timesteps of a temperature. The "
        "tables below give every case (structure, T, Δt) apart.</p>",
    ]
    for row in sorted(data.rows, key=_rank):
        runs = data.runs.get(row["model"], [])
        parts.append(
            f"<h3>{e(row['name'])} <small>{e(row['model'])} · {e(row.get('kind'))} · "
            f"{e(num(row.get('n_params')))} parameters</small></h3>"
            f"<p>{row['runs']} scored runs ({row['completed']} completed, {row['crashed']} "
            f"crashed, {row['failed']} failed, {row['cancelled']} cancelled); force MAE "
            f"{e(num(row.get('median_force_mae_eV_per_A'), 3, 'eV/Å'))}, R² "
            f"{e(num(row.get('median_force_r2')))}, angle error "
            f"{e(num(row.get('median_force_angle_error_deg'), 3, '°'))}.</p>"
            + _table(
                [
                    "structure",
                    "T",
                    "Δt",
                    "runs",
                    "passed",
                    "inconclusive",
                    "protocol invalid",
                    "crashed",
                    "median drift",
                    "median force RMSE",
                    "median force R²",
                    "median inference",
                ],
                _case_rows(runs, data.levels.get(row["model"], {})),
            )
        )
    return "".join(parts)


def performance(data: ReportData, fig: _Figures) -> str:
    return fig(cf.speed_figure(data.rows)) + fig(cf.pareto_figure(data.rows, []))


def recommendations(data: ReportData) -> str:
    items = []
    for r in sorted(data.rows, key=_rank):
        evidence = r.get("recommendation_evidence") or []
        if isinstance(evidence, dict):
            evidence = evidence.get("evidence") or []
        ev = "".join(f"<li>{e(x)}</li>" for x in evidence) or "<li>no evidence recorded</li>"
        rec = r.get("recommendation") or "not yet decided"
        items.append(
            f"<h3>{e(r['name'])}: {_badge(RECOMMENDATION_LEVELS.get(rec), rec)}</h3><ul>{ev}</ul>"
        )
    return "".join(items) or "<p>No recommendations yet.</p>"


CSS = """
body{font-family:Inter,system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;
max-width:1100px;margin:2rem auto;padding:0 1.5rem;line-height:1.5}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{border-bottom:2px solid #eaeef2;padding-bottom:.3rem;
margin-top:2.5rem}h3 small{color:#6b7280;font-weight:400;font-size:.8rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.8rem 0}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}.badge{padding:.1rem .5rem;border-radius:1rem;font-weight:600;
font-size:.8rem;white-space:nowrap}.meta{color:#6b7280}.figure{margin:1rem 0}
nav a{margin-right:1rem}@media print{.figure{page-break-inside:avoid}}
"""


def build_report(data: ReportData) -> str:
    """The whole report, one HTML document."""
    fig = _Figures()
    title = f"mdval M6 report — {data.suite or 'all runs'}"
    sections = [
        ("summary", "Executive summary", executive_summary(data)),
        ("methodology", "Methodology", methodology(data)),
        ("results", "Results per potential", results(data, fig)),
        ("performance", "Performance", performance(data, fig)),
        ("recommendations", "Recommendations", recommendations(data)),
    ]
    nav = "".join(f'<a href="#{k}">{e(t)}</a>' for k, t, _ in sections)
    body = "".join(
        f'<section id="{k}"><h2>{e(t)}</h2>{content}</section>' for k, t, content in sections
    )
    stamp = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body><h1>{e(title)}</h1>"
        f'<p class="meta">Generated {stamp} by mdval · profile '
        f"{e((data.profile or {}).get('name', '—'))}</p><nav>{nav}</nav>{body}</body></html>"
    )
