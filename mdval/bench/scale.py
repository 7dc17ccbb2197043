"""Cost per atom-step against system size on the torch engine: periodic water boxes of
96 to 3,000 atoms, a zoo student on vesin's neighbour list (``python -m mdval.bench.scale``).

For each box (the 8-molecule box repeated,
:func:`mdval.structures.make_builtin.repeated_water_box`) one replica runs NVE through
:func:`~mdval.md.torch_engine.run_batch`; the figure is the median step time over the
atoms, and the neighbour search's share is timed apart on the same positions. The CPU time
of each whole run over its atom-steps is given beside the wall time (on a shared machine
the wall time also counts waiting for other processes). The all-pairs search the students
use without a cell (``torch.cdist`` inside the model, quadratic) is timed on the same atoms
for comparison, without periodic images.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch

#: Box sizes: repeats of the 8-molecule box (96, 288, 648, 1,536 and 3,000 atoms).
REPEATS = ((2, 2, 1), (3, 2, 2), (3, 3, 3), (4, 4, 4), (5, 5, 5))


@dataclass
class ScalePoint:
    n_atoms: int
    n_steps: int
    step_ms: float  # median step time (one model call with its neighbour list)
    us_per_atom_step: float
    cpu_us_per_atom_step: float  # process CPU time of the whole run over its atom-steps
    neighbour_list_ms: float  # vesin, alone, median of 5
    n_pairs: int
    all_pairs_call_ms: float | None  # the cell-free forward + backward (cdist), median of 3


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def measure(
    model_spec: str = "zoo:tiny",
    repeats: tuple[tuple[int, int, int], ...] = REPEATS,
    atom_steps: int = 60_000,
    all_pairs_up_to: int = 3_000,
) -> list[ScalePoint]:
    from mdval.md.torch_engine import run_batch
    from mdval.md.torch_engine.batch import load_model
    from mdval.md.torch_engine.neighbours import pair_list
    from mdval.structures.make_builtin import repeated_water_box

    model = load_model(model_spec)
    cutoff = float(getattr(model.module, "cutoff_A"))  # noqa: B009
    points = []
    for repeat in repeats:
        atoms = repeated_water_box(repeat)
        n = len(atoms)
        n_steps = max(10, atom_steps // n)
        cpu0 = time.process_time()
        batch = run_batch(
            model_spec, [(atoms, 300.0, 0)], n_steps=n_steps, timestep_fs=0.5,
            record_every=n_steps, detect_failures=False, time_calls=False,
        )  # fmt: skip
        cpu_s = time.process_time() - cpu0
        step_s = batch.timings["production"].step_s
        positions = torch.as_tensor(atoms.positions)
        cell = torch.as_tensor(atoms.cell.array)[None]
        pbc = torch.ones((1, 3), dtype=torch.bool)
        pairs = pair_list(positions, cell, pbc, [n], cutoff)
        numbers = torch.as_tensor(atoms.numbers)
        index = torch.zeros(n, dtype=torch.int64)
        all_pairs = (
            _median_ms(partial(model, positions, numbers, index, 1), 3)
            if n <= all_pairs_up_to
            else None
        )
        step_ms = 1000.0 * statistics.median(step_s)
        points.append(
            ScalePoint(
                n_atoms=n,
                n_steps=n_steps,
                step_ms=round(step_ms, 3),
                us_per_atom_step=round(1000.0 * step_ms / n, 3),
                cpu_us_per_atom_step=round(1e6 * cpu_s / ((n_steps + 1) * n), 3),
                neighbour_list_ms=round(
                    _median_ms(partial(pair_list, positions, cell, pbc, [n], cutoff), 5), 3
                ),
                n_pairs=int(pairs[0].shape[0]),
                all_pairs_call_ms=None if all_pairs is None else round(all_pairs, 3),
            )
        )
    return points


def table(points: list[ScalePoint]) -> str:
    lines = [
        "| atoms | steps | step (ms) | µs / atom-step (wall) | µs / atom-step (CPU) | "
        "vesin list (ms) | pairs | all-pairs call, no cell (ms) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        cdist = "—" if p.all_pairs_call_ms is None else f"{p.all_pairs_call_ms:.1f}"
        lines.append(
            f"| {p.n_atoms} | {p.n_steps} | {p.step_ms:.1f} | {p.us_per_atom_step:.1f} | "
            f"{p.cpu_us_per_atom_step:.1f} | "
            f"{p.neighbour_list_ms:.2f} | {p.n_pairs} | {cdist} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="zoo:tiny")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--atom-steps", type=int, default=60_000, help="atom-steps per size")
    parser.add_argument("--json", default=None, help="also write the points here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    points = measure(args.model, atom_steps=args.atom_steps)
    print(table(points))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([asdict(p) for p in points], fh, indent=1)


if __name__ == "__main__":
    main()
