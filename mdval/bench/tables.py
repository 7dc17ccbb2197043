"""Markdown tables of a benchmark report (for docs/performance.md and the terminal)."""

from __future__ import annotations

from typing import Any


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_f(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(doc: dict[str, Any]) -> str:
    """The report ``doc`` (``BenchReport.to_dict()``) as Markdown sections."""
    recs = doc["records"]
    summary = doc["summary"]
    ctx = doc["context"]
    out = [
        f"Machine: {ctx['device_name']} ({ctx['cpu_count']} CPUs), device `{ctx['device']}`, "
        f"torch {ctx['torch_version']}, {ctx['torch_threads']} torch threads, "
        f"OMP_NUM_THREADS={ctx.get('omp_num_threads')}, load average at start "
        f"{ctx.get('load_average')}; whole run {doc['wall_s']:.0f} s.",
    ]
    single = [r for r in recs if r["experiment"] == "single"]
    if single:
        out.append("\n### Single system (" + single[0]["structure"] + ")\n")
        out.append(
            _table(
                [
                    "model",
                    "engine",
                    "inference ms/step",
                    "step ms",
                    "harness overhead",
                    "atom-steps/s",
                    "peak MB",
                ],
                [
                    [
                        r["model"],
                        r["engine"],
                        r["inference_ms_per_step"],
                        r["step_ms"],
                        r["harness_overhead"],
                        r["throughput_atom_steps_per_s"],
                        r["peak_memory_MB"],
                    ]
                    for r in single
                ],
            )
        )
    speed = summary.get("speedups", {})
    if speed:
        out.append("\n### Speed-ups (baseline ms / model ms, same run)\n")
        rows = []
        for pair, by_engine in speed.items():
            for engine, v in by_engine.items():
                rows.append([pair, engine, v["inference"], v["step"]])
        out.append(_table(["ratio", "engine", "on inference", "on step"], rows))
    for key, label in (
        ("speedups_batched", "replicas"),
        ("speedups_by_size", "atoms"),
    ):
        table = summary.get(key, {})
        if not any(table.values()):
            continue
        cols = sorted({int(n) for row in table.values() for n in row})
        title = "batch size" if label == "replicas" else "system size"
        out.append(f"\n### Speed-ups by {title} (torch engine, step time)\n")
        out.append(
            _table(
                ["ratio", *[f"{n} {label}" for n in cols]],
                [[pair, *[row.get(str(n)) for n in cols]] for pair, row in table.items()],
            )
        )
    scaling = summary.get("batch_scaling", {})
    if any(scaling.values()):
        out.append("\n### Batch scaling (torch engine vs bare forward+backward)\n")
        rows = [
            [
                m,
                r["replicas"],
                r["bare_ms"],
                r["engine_step_ms"],
                r["bare_ms_per_replica"],
                r["engine_ms_per_replica"],
                r["engine_vs_bare"],
                r["throughput_atom_steps_per_s"],
                r.get("vs_ase_one_by_one"),
            ]
            for m, rs in scaling.items()
            for r in rs
        ]
        out.append(
            _table(
                [
                    "model",
                    "replicas",
                    "bare ms",
                    "engine step ms",
                    "bare ms/replica",
                    "engine ms/replica",
                    "engine/bare − 1",
                    "atom-steps/s",
                    "× ASE one by one",
                ],
                rows,
            )
        )
    long = [r for r in recs if r["experiment"] == "long"]
    if long:
        out.append(f"\n### Long trajectories ({long[0]['n_steps']} steps, one replica)\n")
        out.append(
            _table(
                ["model", "engine", "inference ms", "step ms", "atom-steps/s", "peak MB"],
                [
                    [
                        r["model"],
                        r["engine"],
                        r["inference_ms_per_step"],
                        r["step_ms"],
                        r["throughput_atom_steps_per_s"],
                        r["peak_memory_MB"],
                    ]
                    for r in long
                ],
            )
        )
    size = [r for r in recs if r["experiment"] == "size"]
    if size:
        out.append(
            "\n### Cost against size (ms per MD step; students: torch engine, teacher: ASE)\n"
        )
        models = list(dict.fromkeys(r["model"] for r in size))
        ns = sorted({r["n_atoms"] for r in size})
        by = {(r["model"], r["n_atoms"]): r for r in size}
        rows = []
        for n in ns:
            name = next(r["structure"] for r in size if r["n_atoms"] == n)
            row: list[Any] = [f"{name} ({n})"]
            for m in models:
                rec = by.get((m, n))
                row.append(rec["step_ms"] if rec else None)
            rows.append(row)
        out.append(_table(["structure (atoms)", *models], rows))
        cross = summary.get("cost_vs_size", {}).get("crossover_atoms", {})
        if cross:
            out.append("\nCrossover (atoms from which the student is cheaper than the teacher):\n")
            out.append(
                _table(
                    ["model", "per step", "per inference"],
                    [[m, v.get("step_ms"), v.get("inference_ms")] for m, v in cross.items()],
                )
            )
    peer = summary.get("peer", [])
    skipped = (ctx.get("peer") or {}).get("skipped")
    if peer or skipped:
        out.append("\n### mdval vs TorchSim (NVE, same model and inputs, interleaved rounds)\n")
    if skipped:
        out.append(f"Peer arm skipped: {skipped}\n")
    if peer:
        version = (ctx.get("peer") or {}).get("version")
        module = {
            "frozen": "the frozen copy mdval's engine runs (only the loops differ)",
            "as loaded": "the TorchScript module as torch.jit.load gives it; mdval's engine "
            "runs a frozen copy",
        }.get((ctx.get("peer") or {}).get("module", ""), "")
        out.append(
            f"TorchSim {version}; mdval ÷ TorchSim is atom-steps/s (> 1: mdval faster), on the "
            "wall clock and on process CPU time per step (which leaves out time spent waiting "
            "for a core on a shared machine)."
            + (f" TorchSim's model: {module}." if module else "")
            + "\n"
        )
        out.append(
            _table(
                [
                    "model",
                    "dtype",
                    "replicas",
                    "mdval step ms",
                    "TorchSim step ms",
                    "mdval overhead",
                    "TorchSim overhead",
                    "mdval ÷ TorchSim",
                    "on CPU time",
                ],
                [
                    [
                        r["model"],
                        r["dtype"],
                        r["replicas"],
                        r["mdval_step_ms"],
                        r["torchsim_step_ms"],
                        r["mdval_overhead"],
                        r["torchsim_overhead"],
                        r["mdval_over_torchsim"],
                        r.get("mdval_over_torchsim_cpu"),
                    ]
                    for r in peer
                ],
            )
        )
        checks = [r for r in peer if r.get("max_dr_A") is not None]
        if checks:
            out.append(
                "\nCorrectness: max |Δr| between the two engines after "
                f"{checks[0]['max_dr_steps']} steps from an identical state: "
                + "; ".join(f"{r['model']} {r['max_dr_A']:.1e} Å" for r in checks)
                + " (float32: TorchSim's state is float32, mdval's float64).\n"
            )
    targets = summary.get("targets", [])
    if targets:
        out.append("\n### Targets (issues 6 and 15)\n")
        out.append(
            _table(
                ["target", "value", "met"],
                [
                    [t["target"], t["value"], {True: "yes", False: "**no**", None: "n/a"}[t["met"]]]
                    for t in targets
                ],
            )
        )
    return "\n".join(out) + "\n"
