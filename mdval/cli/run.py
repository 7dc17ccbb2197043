"""``mdval run``: one validation run on this machine."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console

from mdval.cli import options as o
from mdval.cli.errors import exit_code, exits_2_on_bad_input
from mdval.cli.progress import ProgressListener
from mdval.cli.render import print_run
from mdval.controls.cache import cache_self_run, resolve_control, store_frames
from mdval.md.config import DEFAULT_EQUILIBRATION_PS, RunConfig
from mdval.md.protocol import prepare, run_validation
from mdval.md.validation import make_config

console = Console()


def default_out_dir(config: RunConfig) -> Path:
    model = re.sub(
        r"[^A-Za-z0-9.-]+",
        "-",
        Path(config.model).stem if config.model.endswith(".pt") else config.model,
    )
    structure = re.sub(r"[^A-Za-z0-9.-]+", "-", config.structure)[:40]
    return Path("runs") / (
        f"{model}_{structure}_{config.temperature_K:g}K_{config.timestep_fs:g}fs_s{config.seed}"
    )


def execute(
    config: RunConfig, out: Path | None, *, quiet: bool = False, control: bool = True
) -> dict:
    """Run ``config`` with a progress bar (its control first, when it has a reference and
    the control is not cached); print the tables; return the summary."""
    prepared = prepare(config)  # raises InputError before anything starts
    out_dir = out or default_out_dir(config)
    label = f"{config.model} · {config.structure} · {config.temperature_K:g} K"
    evidence = None
    if control:
        evidence = resolve_control(
            prepared, listener=ProgressListener(console, f"control: {config.reference}")
        )
    result = run_validation(
        config,
        out_dir=out_dir,
        listener=ProgressListener(console, label),
        prepared=prepared,
        control=evidence,
    )
    store_frames(out_dir, result.frames)  # for a suite's replica floor of the observables
    if control and evidence is not None and evidence.is_self:
        cache_self_run(prepared, result.summary, result.frames)  # students reuse it
    if quiet:
        console.print(f"{result.summary['verdict']} ({result.status}) → {out_dir}")
    else:
        print_run(console, result.summary, title=f"{label} → {out_dir}")
    return result.summary


@exits_2_on_bad_input
def run(
    model: o.Model,
    structure: o.Structure,
    reference: o.Reference = None,
    temperature_k: o.TemperatureK = 300.0,
    timestep_fs: o.TimestepFs = 0.5,
    duration_ps: o.DurationPs = 5.0,
    equilibration_ps: o.EquilibrationPs = DEFAULT_EQUILIBRATION_PS,
    seed: o.Seed = 0,
    profile: o.Profile = "m6",
    engine: o.Engine = "auto",
    device: o.Device = "auto",
    record_every: o.RecordEvery = 10,
    frame_every: o.FrameEvery = 100,
    reference_every: o.ReferenceEvery = 100,
    out: o.OutDir = None,
    quiet: o.Quiet = False,
    no_control: o.NoControl = False,
) -> None:
    """Run MODEL in NVE molecular dynamics on STRUCTURE and judge it against PROFILE.

    Units: temperatures in K, timesteps in fs, durations in ps; energies in eV, forces in
    eV/Å. Writes summary.json, thermo.csv and trajectory.extxyz to --out. Exit code 0 when
    the verdict passes, 1 when it fails (a crash is a failed verdict), 2 on bad input, 3 when
    it is inconclusive or the protocol is invalid (the summary says what evidence is
    missing), 4 on an internal error. With --reference, the reference's control run under
    the same protocol is found in the cache or run first, and the verdict judged against it.
    """
    config = make_config(
        model=model,
        structure=structure,
        reference=reference,
        temperature_K=temperature_k,
        timestep_fs=timestep_fs,
        duration_ps=duration_ps,
        equilibration_ps=equilibration_ps,
        seed=seed,
        profile=profile,
        engine=engine,
        device=device,
        record_every=record_every,
        frame_every=frame_every,
        reference_every=reference_every,
    )
    summary = execute(config, out, quiet=quiet, control=not no_control)
    raise typer.Exit(exit_code(summary["verdict"]))
