"""``mdval control``: pre-compute (or look up) control runs of the reference.

A control is the reference under a run's protocol; ``mdval run`` and ``mdval suite`` find
it in the cache, or run it first. This command fills the cache ahead of time, for one
protocol cell or for every cell of a suite, and prints where each control lies and whether
it is valid (passes the protocol criteria itself).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mdval.cli import options as o
from mdval.cli.errors import EXIT_INCONCLUSIVE, EXIT_INPUT, EXIT_PASS, exits_2_on_bad_input
from mdval.cli.progress import ProgressBoard
from mdval.controls.cache import find_or_run_controls
from mdval.controls.judgement import control_validity
from mdval.criteria import load_profile
from mdval.md.config import DEFAULT_EQUILIBRATION_PS, RunConfig
from mdval.md.protocol import prepare
from mdval.md.validation import make_config
from mdval.suites import expand, load_suite, run_key

console = Console()


@exits_2_on_bad_input
def control(
    reference: Annotated[
        str, typer.Option("--reference", "-r", help="The reference potential whose control to run.")
    ],
    structure: Annotated[
        str | None, typer.Option("--structure", "-s", help="One cell's structure.")
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option("--suite", help="Every cell of this suite (m6-quick, m6-full or a file)."),
    ] = None,
    temperature_k: o.TemperatureK = 300.0,
    timestep_fs: o.TimestepFs = 0.5,
    duration_ps: o.DurationPs = 5.0,
    equilibration_ps: o.EquilibrationPs = DEFAULT_EQUILIBRATION_PS,
    seed: o.Seed = 0,
    profile: o.Profile = "m6",
    device: o.Device = "auto",
    record_every: o.RecordEvery = 10,
    frame_every: o.FrameEvery = 100,
) -> None:
    """Run (or find in the cache) the control of a protocol cell, or of every cell of a suite.

    Exit 0 when every control is valid, 3 when some control is invalid (its cells are
    protocol invalid for every model) or undecided (its own evidence cannot tell), 2 on bad
    input.
    """
    if (structure is None) == (suite is None):
        console.print("[bold red]error:[/] give exactly one of --structure or --suite")
        raise typer.Exit(EXIT_INPUT)
    configs: list[RunConfig]
    if suite is not None:
        spec = load_suite(suite)
        configs = expand(spec, model=reference, reference=reference, device=device)
    else:
        assert structure is not None
        configs = [
            make_config(
                model=reference,
                reference=reference,
                structure=structure,
                temperature_K=temperature_k,
                timestep_fs=timestep_fs,
                duration_ps=duration_ps,
                equilibration_ps=equilibration_ps,
                seed=seed,
                profile=profile,
                device=device,
                record_every=record_every,
                frame_every=frame_every,
            )
        ]
    table = Table(title=f"controls of {reference}", header_style="bold")
    for col in ("cell", "valid", "evidence", "cached at"):
        table.add_column(col)
    prepared = [prepare(config) for config in configs]
    # missing controls run side by side on the CPUs for a one-thread reference (GFN2-xTB)
    with ProgressBoard(console, [f"control · {run_key(c)}" for c in configs]) as board:
        found = find_or_run_controls(prepared, listeners=board.listeners)
    all_valid = True
    for config, run, evidence in zip(configs, prepared, found, strict=True):
        assert evidence is not None
        valid, lines = control_validity(
            evidence.summary, load_profile(config.profile), device=run.device
        )
        all_valid = all_valid and valid is True
        table.add_row(
            run_key(config),
            _validity_label(valid),
            "; ".join(lines),
            evidence.location or "",
        )
    console.print(table)
    raise typer.Exit(EXIT_PASS if all_valid else EXIT_INCONCLUSIVE)


def _validity_label(valid: bool | None) -> str:
    if valid is None:
        return "[blue]undecided[/]"
    return "[green]yes[/]" if valid else "[yellow]no: protocol invalid[/]"
