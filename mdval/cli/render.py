"""Tables printed by the CLI: metrics with units, criteria with levels."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

LEVEL_STYLE = {"target": "green", "acceptable": "yellow", "fail": "bold red"}

#: Metrics shown in the run table, in order (the summary holds more).
SHOWN_METRICS = (
    "stable_duration_ps",
    "drift_meV_per_atom_per_ps",
    "drift_percent",
    "max_deviation_percent",
    "fluctuation_ratio",
    "drift_percent_of_total_energy",
    "temperature_mean_K",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "energy_rmse_meV_per_atom",
    "inference_ms_per_step",
    "step_ms",
    "harness_overhead",
    "throughput_atom_steps_per_s",
    "peak_memory_MB",
    "pressure_mean_GPa",
    "pressure_std_GPa",
)


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def print_run(console: Console, summary: dict[str, Any], title: str) -> None:
    metrics = summary["metrics"]
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric (unit in name)")
    table.add_column("value", justify="right")
    for name in SHOWN_METRICS:
        if name in metrics:
            table.add_row(name, fmt(metrics[name]))
    console.print(table)
    print_criteria(console, summary["criteria"])
    status = summary["status"]
    if summary.get("failure_reason"):
        console.print(f"[bold]status[/]: {status} — {summary['failure_reason']}")
    else:
        console.print(f"[bold]status[/]: {status}")
    rec = summary.get("recommendation") or {}
    style = "green" if summary["verdict"] == "pass" else "bold red"
    console.print(f"[bold]verdict[/]: [{style}]{summary['verdict']}[/]")
    if rec:
        console.print(recommendation_line(rec))


def recommendation_line(rec: dict[str, Any]) -> str:
    """``recommendation: LEVEL — evidence``; the level once, when the evidence already
    begins with it (``inconclusive — needs …``)."""
    evidence = [str(e) for e in rec.get("evidence") or []]
    level = str(rec.get("level"))
    if evidence and evidence[0].startswith(level):
        level = ""
    return f"[bold]recommendation[/]: {level + ' — ' if level else ''}{'; '.join(evidence)}"


def print_criteria(console: Console, criteria: list[dict[str, Any]]) -> None:
    table = Table(title="criteria", header_style="bold")
    for col in ("criterion", "value", "target", "acceptable", "level"):
        table.add_column(col, justify="right" if col != "criterion" else "left")
    for c in criteria:
        level = c.get("level", "")
        # a true/false criterion names its metric in each cell ("crashed: no"), so that
        # "no_crash | no" never reads as a double negative (the dashboard says the same)
        said = f"{c.get('metric')}" if isinstance(c.get("target"), bool) else ""
        table.add_row(
            str(c.get("name")),
            f"{said}: {fmt(c.get('value'))}" if said else fmt(c.get("value")),
            f"{said} = {fmt(c.get('target'))}" if said else fmt(c.get("target")),
            f"{said} = {fmt(c.get('acceptable'))}" if said else fmt(c.get("acceptable")),
            f"[{LEVEL_STYLE.get(level, 'dim')}]{level}[/]",
        )
    console.print(table)
