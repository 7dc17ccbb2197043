"""Shared typer options of the run-like commands, declared once (units in the help)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Model = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="Potential under test: gfn2-xtb, emt, lj, zoo:NAME, a TorchScript .pt file, "
        "a published model (ani:1x, sevennet:7net-0, chgnet:0.3.0, mace:FILE.model; options "
        "after ?, e.g. ani:1x?dtype=float64) or py:module:factory (allowlisted).",
    ),
]
Reference = Annotated[
    str | None,
    typer.Option(
        "--reference",
        "-r",
        help="Reference (teacher) potential evaluated on sampled frames of the model's own "
        "trajectory; omit to skip force accuracy.",
    ),
]
Structure = Annotated[
    str,
    typer.Option(
        "--structure",
        "-s",
        help="Built-in name (H2O, CH4, alanine, alanine-dipeptide, cu-fcc, si-diamond, "
        "water-box), a file ASE "
        "reads, or smiles:<SMILES>.",
    ),
]
TemperatureK = Annotated[
    float, typer.Option("--temperature-k", help="Initial (and NVT target) temperature in kelvin.")
]
TimestepFs = Annotated[
    float, typer.Option("--timestep-fs", help="Integration timestep in femtoseconds.")
]
DurationPs = Annotated[
    float, typer.Option("--duration-ps", help="NVE production length in picoseconds.")
]
EquilibrationPs = Annotated[
    float,
    typer.Option(
        "--equilibration-ps",
        help="Langevin NVT equilibration before production, in picoseconds (0 = none; "
        "without it NVE from a minimum settles near T/2).",
    ),
]
Seed = Annotated[
    int,
    typer.Option(
        "--seed", help="Seed of the Maxwell–Boltzmann velocities and the thermostat noise."
    ),
]
Profile = Annotated[
    str,
    typer.Option(
        "--profile", help="Acceptance-criteria profile (built-in name or YAML/JSON file)."
    ),
]
Engine = Annotated[
    str,
    typer.Option(
        "--engine", help="auto (torch engine for torch potentials when available), ase, torch."
    ),
]
Device = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu or cuda.")]
RecordEvery = Annotated[
    int, typer.Option("--record-every", help="Thermo record interval in steps.")
]
FrameEvery = Annotated[
    int, typer.Option("--frame-every", help="Trajectory frame interval in steps.")
]
ReferenceEvery = Annotated[
    int, typer.Option("--reference-every", help="Reference evaluation interval in steps.")
]
OutDir = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Output directory (default: runs/<model>_<structure>_<T>K_<dt>fs_s<seed>).",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")]
NoControl = Annotated[
    bool,
    typer.Option(
        "--no-control",
        help="Judge without a control run (the reference under the same protocol); "
        "energy criteria then cannot tell the model's faults from the protocol's.",
    ),
]
