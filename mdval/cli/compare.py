"""``mdval compare``: trajectory comparison of two runs from the same start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mdval.cli.errors import exits_2_on_bad_input
from mdval.cli.render import fmt
from mdval.compare import compare_runs

console = Console()


@exits_2_on_bad_input
def compare(
    model_run: Annotated[Path, typer.Argument(help="Run directory of the model under test.")],
    reference_run: Annotated[
        Path, typer.Argument(help="Run directory of the reference, same structure and seed.")
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the result here.")
    ] = None,
) -> None:
    """Compare two runs started from identical conditions (same structure, seed, velocities).

    Reports Kabsch RMSD over time (Å), the divergence time (first t with RMSD > 0.5 Å, ps),
    the h(r) error (0–2), bond-length errors per bond type (Å) and, for alanine dipeptide,
    the Jensen–Shannon divergence of the φ/ψ densities.
    """
    result = compare_runs(model_run, reference_run)
    table = Table(title=f"{model_run} vs {reference_run}", header_style="bold")
    table.add_column("metric (unit in name)")
    table.add_column("value", justify="right")
    rmsd = result["rmsd_A"]
    table.add_row("final rmsd_A", fmt(rmsd[-1] if rmsd else None))
    table.add_row("divergence_time_ps", fmt(result["divergence_time_ps"]))
    table.add_row("hr_error", fmt(result["hr_error"]))
    if "phi_psi_js_divergence" in result:
        table.add_row("phi_psi_js_divergence", fmt(result["phi_psi_js_divergence"]))
    for bond, err in result["bond_length_error_A"].items():
        table.add_row(f"bond_length_error_A {bond}", fmt(err))
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2, default=float) + "\n")
