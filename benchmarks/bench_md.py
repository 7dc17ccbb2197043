"""MD speed and memory benchmark (issue 6): the same code as ``mdval bench``.

    python benchmarks/bench_md.py [--quick] [--json FILE] [--markdown FILE] [--plots DIR]
        [--threads N] [--model SPEC ...] [--no-teacher] [--replicas 1,2,4,...]
        [--device cpu|cuda|auto] [--dtype float64,float32] [--no-peer] [--peer-replicas 1,8,32]

Measures, in one process: inference ms/step of each potential (bare model, torch engine,
ASE engine), harness overhead of both engines, peak memory, batch scaling (1 … 256
replicas), long-trajectory throughput (1,000 steps), the Tiny/Original and
Ultra-tiny/Original speed-ups through both engines, cost against size for the teacher
(GFN2-xTB) and each student (22 … 300 atoms) with the crossover, and (issue 15) TorchSim's
NVE on the same models where the [bench] extra is installed. Prints progress to stderr
and the report (JSON) to stdout or ``--json``. Figures and commands: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from mdval.bench import QUICK, BenchPlan, run_suite


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small plan (< 1 min)")
    p.add_argument("--json", type=Path, help="write the report here (default: stdout)")
    p.add_argument("--plots", type=Path, help="write bench.html (+ PNGs with kaleido) here")
    p.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    p.add_argument("--model", action="append", help="torch potential (repeatable)")
    p.add_argument("--teacher", default=None, help="reference potential (default gfn2-xtb)")
    p.add_argument("--no-teacher", action="store_true")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--replicas", help="batch sizes, comma-separated")
    p.add_argument("--steps", type=int, help="steps of each single-system engine run")
    p.add_argument("--dtype", default="float64", help="model precisions: float64,float32")
    p.add_argument("--no-peer", action="store_true", help="skip the TorchSim arm")
    p.add_argument("--peer-replicas", help="batch sizes of the TorchSim arm (default 1,8,32)")
    args = p.parse_args(argv)

    plan = QUICK if args.quick else BenchPlan()
    plan = replace(plan, device=args.device, threads=args.threads)
    if args.model:
        plan = replace(plan, models=tuple(args.model))
    if args.no_teacher:
        plan = replace(plan, teacher=None)
    elif args.teacher:
        plan = replace(plan, teacher=args.teacher)
    if args.replicas:
        plan = replace(plan, replicas=tuple(int(x) for x in args.replicas.split(",")))
    if args.steps:
        plan = replace(plan, n_steps=args.steps)
    plan = replace(plan, dtypes=tuple(args.dtype.split(",")), peer=not args.no_peer)
    if args.peer_replicas:
        plan = replace(plan, peer_replicas=tuple(int(x) for x in args.peer_replicas.split(",")))

    report = run_suite(plan, progress=lambda line: print(line, file=sys.stderr, flush=True))
    doc = report.to_dict()
    text = json.dumps(doc, indent=2, allow_nan=False)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    if args.markdown:
        from mdval.bench.tables import to_markdown

        args.markdown.write_text(to_markdown(doc), encoding="utf-8")
    if args.plots:
        from mdval.bench.plots import write_plots

        for path in write_plots(doc, args.plots):
            print(f"plot -> {path}", file=sys.stderr)
    for target in doc["summary"].get("targets", []):
        mark = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        print(f"[{mark}] {target['target']}: {target['value']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
