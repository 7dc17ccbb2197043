"""``mdval suite``: run every run of a suite locally and aggregate."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from mdval.cli import options as o
from mdval.cli.errors import exits_2_on_bad_input, worst_exit_code
from mdval.cli.progress import ProgressBoard
from mdval.cli.render import recommendation_line
from mdval.cli.run import execute
from mdval.criteria import RunOutcome, recommend
from mdval.md.config import RunConfig
from mdval.md.protocol import prepare
from mdval.metrics.stability import bond_pairs
from mdval.suites import aggregate_summaries, expand, load_suite, run_key
from mdval.suites.expansion import group_key
from mdval.suites.observables import cell_observables

console = Console()

SuiteReference = Annotated[
    str | None,
    typer.Option("--reference", "-r", help="Reference potential (default: the suite's)."),
]
NoReference = Annotated[bool, typer.Option("--no-reference", help="Skip force accuracy.")]
DurationOverride = Annotated[
    float | None,
    typer.Option(
        "--duration-ps", help="Override every run's production length (ps), e.g. a smoke test."
    ),
]
SuiteOut = Annotated[
    Path, typer.Option("--out", "-o", help="Directory; one sub-directory per run.")
]


@exits_2_on_bad_input
def suite(
    name: Annotated[
        str, typer.Argument(help="Suite name (m6-quick, m6-full) or a YAML/JSON file.")
    ],
    model: o.Model,
    reference: Annotated[
        str | None,
        typer.Option("--reference", "-r", help="Reference potential (default: the suite's)."),
    ] = None,
    no_reference: Annotated[
        bool, typer.Option("--no-reference", help="Skip force accuracy.")
    ] = False,
    device: o.Device = "auto",
    engine: o.Engine = "auto",
    duration_ps: Annotated[
        float | None,
        typer.Option(
            "--duration-ps",
            help="Override every run's production length (ps), e.g. for a smoke test.",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory; one sub-directory per run.")
    ] = Path("runs/suite"),
    no_control: o.NoControl = False,
) -> None:
    """Run a suite (structures × temperatures × timesteps × durations × seeds) for MODEL.

    Each cell's control (the reference under the same protocol) is found in the cache or run
    first. Writes one directory per run and suite_summary.json with the aggregates (mean and
    95 % interval over seeds, survival curve, largest stable timestep) and the
    recommendation. Exit 0 when every run passes, 1 when one fails, 3 when none fails but
    some is inconclusive or protocol invalid.
    """
    spec = load_suite(name)
    overrides: dict[str, Any] = {"device": device, "engine": engine}
    if duration_ps is not None:
        overrides["duration_ps"] = duration_ps
    kwargs: dict[str, Any] = {}
    if no_reference:
        kwargs["reference"] = None
    elif reference is not None:
        kwargs["reference"] = reference
    configs = expand(spec, model=model, **kwargs, **overrides)
    prepare(configs[0])  # fail fast on a bad model/structure before the first run
    if not no_control:
        _controls_first(configs)
    summaries = []
    for i, config in enumerate(configs, 1):
        console.rule(f"run {i}/{len(configs)}: {run_key(config)}")
        summaries.append(execute(config, out / run_key(config), quiet=True, control=not no_control))
    aggregate = aggregate_summaries(summaries)
    _add_cell_observables(aggregate, configs, summaries, out)
    judged = [s for s in summaries if s["status"] in ("completed", "crashed")]
    recommendation = recommend([RunOutcome.from_summary(s) for s in judged]).to_dict()
    result = {
        "suite": spec.name,
        "model": model,
        "demo": spec.demo,
        "n_runs": len(summaries),
        "n_pass": sum(s["verdict"] == "pass" for s in summaries),
        "largest_stable_timestep_fs": aggregate["largest_stable_timestep_fs"],
        "aggregate": aggregate,
        "recommendation": recommendation,
        "runs": [
            {"key": run_key(c), "status": s["status"], "verdict": s["verdict"]}
            for c, s in zip(configs, summaries, strict=True)
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite_summary.json").write_text(json.dumps(result, indent=2) + "\n")
    _print(result)
    raise typer.Exit(worst_exit_code([s["verdict"] for s in summaries]))


def _controls_first(configs: list[RunConfig]) -> None:
    """Find or run every cell's control before the first run, side by side on the CPUs for
    a one-thread reference (:func:`~mdval.controls.cache.resolve_controls`, as a worker
    does for a batch); the runs then find them in the cache."""
    from mdval.controls.cache import resolve_controls

    with_reference = [c for c in configs if c.reference is not None]
    if not with_reference:
        return
    console.rule(f"controls: {len(with_reference)} cells (found in the cache or run now)")
    start = time.perf_counter()
    labels = [f"control · {run_key(c)}" for c in with_reference]
    with ProgressBoard(console, labels) as board:
        resolve_controls([prepare(c) for c in with_reference], listeners=board.listeners)
    console.print(f"controls ready in {time.perf_counter() - start:.1f} s")


def _add_cell_observables(
    aggregate: dict[str, Any],
    configs: list[RunConfig],
    summaries: list[dict[str, Any]],
    out: Path,
) -> None:
    """Each cell's observables against the distance between its control replicas."""
    by_group: dict[str, list[tuple[RunConfig, dict[str, Any]]]] = {}
    for config, summary in zip(configs, summaries, strict=True):
        by_group.setdefault(group_key(config.model_dump()), []).append((config, summary))
    for group in aggregate["groups"]:
        members = by_group.get(group["key"], [])
        frames = [f for c, s in members if (f := _control_frames(c, s, out)) is not None]
        if not members or not any(s.get("observables") for _, s in members):
            group["observables"] = None
            continue
        bonds = bond_pairs(prepare(members[0][0]).atoms)
        group["observables"] = cell_observables([s for _, s in members], frames, bonds=bonds)


def _control_frames(config: RunConfig, summary: dict[str, Any], out: Path) -> Any:
    """The frames of a run's control: its cached control, or the run itself when it is its
    own control (saved by :func:`~mdval.cli.run.execute` as ``frames.npz``)."""
    control = summary.get("control") or {}
    if control.get("is_self"):
        path = out / run_key(config) / "frames.npz"
    elif control.get("location"):
        path = Path(control["location"]) / "frames.npz"
    else:
        return None
    if not path.is_file():
        return None
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _print(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['suite']} · {result['model']}", header_style="bold")
    for col in ("run", "status", "verdict"):
        table.add_column(col)
    for r in result["runs"]:
        style = {"pass": "green", "fail": "red"}.get(r["verdict"], "yellow")
        table.add_row(r["key"], r["status"], f"[{style}]{r['verdict']}[/]")
    console.print(table)
    console.print(f"{result['n_pass']}/{result['n_runs']} runs pass")
    stable = result.get("largest_stable_timestep_fs")
    console.print(
        "largest stable timestep: "
        + (f"{stable:g} fs" if stable is not None else "none (the smallest timestep fails)")
    )
    console.print(recommendation_line(result["recommendation"]))
    if result.get("demo"):
        console.print(
            f"[bold yellow]DEMO-SIZED suite '{result['suite']}': these verdicts show how mdval "
            "judges; they are not a validation (use m6-quick or m6-full)[/]"
        )
