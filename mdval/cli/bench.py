"""``mdval bench``: speed and memory of the potentials through both engines (issue 6)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mdval.cli.errors import exits_2_on_bad_input
from mdval.errors import InputError

stderr = Console(stderr=True)


@exits_2_on_bad_input
def bench(
    quick: Annotated[
        bool,
        typer.Option("--quick", help="A small plan (< 1 min): one structure, 1-16 replicas."),
    ] = False,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write the report (records, summary, context) to this JSON file; "
            "without it the JSON goes to stdout.",
        ),
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", help="Write bench.html (and PNGs if kaleido is installed) here."),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the tables as Markdown to this file."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Torch potential to measure (repeatable; the first is the "
            "speed-up baseline). Default: zoo:original, zoo:tiny, zoo:ultra-tiny.",
        ),
    ] = None,
    teacher: Annotated[
        str, typer.Option("--teacher", help="Reference potential for cost against size.")
    ] = "gfn2-xtb",
    no_teacher: Annotated[
        bool, typer.Option("--no-teacher", help="Skip the teacher measurements.")
    ] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch intra-op threads (default: torch's).")
    ] = None,
    replicas: Annotated[
        str | None,
        typer.Option("--replicas", help="Batch sizes, comma-separated (e.g. 1,8,64)."),
    ] = None,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Steps of each single-system engine run.")
    ] = None,
    structure: Annotated[
        str | None,
        typer.Option(
            "--structure",
            help="Structure of the single-system and batch experiments (default "
            "alanine-dipeptide); a periodic one (cu-fcc) for a model that takes cells.",
        ),
    ] = None,
    dtype: Annotated[
        str,
        typer.Option(
            "--dtype",
            help="Model precisions, comma-separated (float64, float32): each torch model is "
            "measured in each (SPEC?dtype=float32); the integrator stays float64.",
        ),
    ] = "float64",
    peer: Annotated[
        bool,
        typer.Option(
            "--peer/--no-peer",
            help="The TorchSim arm (mdval[bench]): TorchSim's NVE on the same model and "
            "inputs; skipped with a message where TorchSim is not installed.",
        ),
    ] = True,
    peer_replicas: Annotated[
        str | None,
        typer.Option("--peer-replicas", help="Batch sizes of the TorchSim arm (default 1,8,32)."),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            "--rounds",
            help="Interleaved rounds of the single-system and batch measurements (default 3, "
            "--quick 1); the figures are medians of the per-round medians.",
        ),
    ] = None,
    peer_frozen: Annotated[
        bool,
        typer.Option(
            "--peer-frozen",
            help="Give TorchSim the frozen module mdval's engine runs, instead of the module "
            "as torch.jit.load gives it: compares the two loops alone.",
        ),
    ] = False,
    peer_rounds: Annotated[
        int | None,
        typer.Option(
            "--peer-rounds",
            help="Interleaved rounds of each TorchSim comparison (default 3); more rounds, "
            "steadier medians on a noisy machine.",
        ),
    ] = None,
    peer_seconds: Annotated[
        float | None,
        typer.Option(
            "--peer-seconds",
            help="Time each TorchSim comparison may take, all rounds, s (default 3, --quick "
            "0.6); sets the steps per round (5-50).",
        ),
    ] = None,
) -> None:
    """Measure inference ms/step, harness overhead of both engines, peak memory, batch
    scaling, long-trajectory throughput, speed-ups and the cost against size.

    Times in ms (medians over repeats after warm-up); memory in MiB; throughput in
    atom-steps per second. One process, one run: every ratio comes from the same run.
    """
    from mdval.bench import QUICK, BenchPlan, run_suite

    plan = QUICK if quick else BenchPlan()
    changes: dict[str, object] = {"device": device, "threads": threads}
    if model:
        changes["models"] = tuple(model)
    if no_teacher:
        changes["teacher"] = None
    elif teacher != plan.teacher:
        changes["teacher"] = teacher
    if replicas:
        changes["replicas"] = _batch_sizes(replicas)
    if structure:
        changes["main_structure"] = structure
    if steps is not None:
        if steps < 1:
            raise InputError("--steps must be at least 1")
        changes["n_steps"] = steps
    dtypes = tuple(d.strip().lower() for d in dtype.split(",") if d.strip())
    if not dtypes or any(d not in ("float64", "float32") for d in dtypes):
        raise InputError(f"--dtype {dtype!r}: use float64, float32 or float64,float32")
    changes["dtypes"] = dtypes
    changes["peer"] = peer
    if peer_replicas:
        changes["peer_replicas"] = _batch_sizes(peer_replicas)
    if rounds is not None:
        if rounds < 1:
            raise InputError("--rounds must be at least 1")
        changes["rounds"] = rounds
    changes["peer_frozen"] = peer_frozen
    if peer_rounds is not None:
        if peer_rounds < 1:
            raise InputError("--peer-rounds must be at least 1")
        changes["peer_rounds"] = peer_rounds
    if peer_seconds is not None:
        if not peer_seconds > 0:
            raise InputError("--peer-seconds must be positive")
        changes["peer_budget_s"] = peer_seconds
    plan = replace(plan, **changes)  # type: ignore[arg-type]

    report = run_suite(plan, progress=lambda line: stderr.print(line, highlight=False))
    doc = report.to_dict()
    text = json.dumps(doc, indent=2, allow_nan=False)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(text + "\n", encoding="utf-8")
        stderr.print(f"report → {json_file}")
    else:
        sys.stdout.write(text + "\n")
    if markdown is not None:
        from mdval.bench.tables import to_markdown

        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(to_markdown(doc), encoding="utf-8")
        stderr.print(f"tables → {markdown}")
    if plots is not None:
        from mdval.bench.plots import write_plots

        for path in write_plots(doc, plots):
            stderr.print(f"plot → {path}")
    for target in doc["summary"].get("targets", []):
        mark = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        stderr.print(f"[{mark}] {target['target']}: {target['value']}", markup=False)


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--replicas must be comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--replicas: batch sizes must be at least 1, got {text!r}")
    return sizes
