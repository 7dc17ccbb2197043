"""Runs one by one vs as one batch: the wall time a worker saves by batching a sweep.

    OMP_NUM_THREADS=2 python benchmarks/batch_runs.py [--model zoo:original]
        [--structure alanine-dipeptide] [--replicas 1,2,4,8,16] [--duration-ps 0.25]
        [--threads 2] [--json FILE]

For each batch size n, n runs of the same model and structure (seeds 0 .. n-1, 300 K,
0.5 fs, no reference, no files) go through the same core calls a worker makes: one by one
with ``run_validation`` and together with ``run_validations``. One by one is measured for
every run (not extrapolated). Prints one JSON object: per n the two wall times, the time per
run and the speed-up of the batch; ``MDVAL_BATCH_MAX_REPLICAS_CPU`` (default 16) is chosen
from these figures (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from mdval.md.batch_protocol import run_validations
from mdval.md.config import RunConfig
from mdval.md.protocol import run_validation


def configs(args: argparse.Namespace, n: int) -> list[RunConfig]:
    return [
        RunConfig(
            model=args.model,
            structure=args.structure,
            temperature_K=300.0,
            timestep_fs=0.5,
            duration_ps=args.duration_ps,
            seed=seed,
            device="cpu",
            record_every=10,
        )
        for seed in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="zoo:original")
    parser.add_argument("--structure", default="alanine-dipeptide")
    parser.add_argument("--replicas", default="1,2,4,8,16")
    parser.add_argument("--duration-ps", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    # warm-up of both paths (model load, TorchScript's first optimised calls), so that the
    # first measured group pays no start-up cost that the others do not
    for config in configs(args, 2):
        run_validation(config)
    run_validations(configs(args, 2))
    rows: list[dict[str, Any]] = []
    for n in [int(x) for x in args.replicas.split(",")]:
        group = configs(args, n)
        t0 = time.perf_counter()
        for config in group:
            run_validation(config)
        alone_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = run_validations(group)
        batch_s = time.perf_counter() - t0
        rows.append(
            {
                "replicas": n,
                "one_by_one_s": round(alone_s, 3),
                "batched_s": round(batch_s, 3),
                "one_by_one_s_per_run": round(alone_s / n, 4),
                "batched_s_per_run": round(batch_s / n, 4),
                "speedup": round(alone_s / batch_s, 3),
                "all_completed": all(r.status == "completed" for r in results),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    out = {
        "model": args.model,
        "structure": args.structure,
        "duration_ps": args.duration_ps,
        "steps_per_run": configs(args, 1)[0].n_production_steps,
        "threads": args.threads,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    text = json.dumps(out, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
