"""Cost per call on alanine dipeptide, 1 thread (issue 15's float32 target): zoo:original in
float64 and float32 (bare model, forward + backward through ``ForceModel``) against GFN2-xTB
(its ASE calculator), interleaved rounds, wall-clock and process CPU time per call.

    python benchmarks/f32_vs_teacher.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from mdval.bench.systems import structure
from mdval.md.torch_engine.model import ForceModel
from mdval.md.torch_engine.state import state_from_atoms
from mdval.potentials.registry import resolve_potential

STUDENTS = ("zoo:original", "zoo:original?dtype=float32")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    atoms = structure("alanine-dipeptide")
    s = state_from_atoms([atoms])
    inputs = (s.positions, s.atomic_numbers, s.system_index, 1)
    models = {spec: ForceModel.from_entry(resolve_potential(spec), "cpu") for spec in STUDENTS}
    teacher_atoms = atoms.copy()
    teacher_atoms.calc = resolve_potential("gfn2-xtb").make_calculator("cpu")
    rng = np.random.default_rng(0)

    def teacher() -> None:  # moved a little each call, so the calculator recomputes
        teacher_atoms.positions = atoms.positions + rng.normal(scale=1e-3, size=(len(atoms), 3))
        teacher_atoms.get_forces()

    calls: dict[str, tuple[Callable[[], object], int]] = {
        spec: ((lambda m=m: m(*inputs)), 30) for spec, m in models.items()
    }
    calls["gfn2-xtb"] = (teacher, 10)
    for fn, _ in calls.values():
        for _ in range(30 if fn is not teacher else 2):
            fn()  # warm-up: TorchScript profiles its first calls
    wall: dict[str, list[float]] = {k: [] for k in calls}
    cpu: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(args.rounds):
        for name, (fn, n) in calls.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            wall[name].append(1000.0 * (time.perf_counter() - w0) / n)
            cpu[name].append(1000.0 * (time.process_time() - c0) / n)
    med = {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in calls}
    for name, (w, c) in med.items():
        print(f"{name:28s} ms/call: wall {w:.2f}  cpu {c:.2f}")
    for spec in STUDENTS:
        w, c = med[spec]
        tw, tc = med["gfn2-xtb"]
        print(f"{spec} / gfn2-xtb: wall {w / tw:.2f}  cpu {c / tc:.2f}")


if __name__ == "__main__":
    main()
