"""From records to the figures the issue asks for: speed-ups, overheads, scaling, crossover,
and the targets met or missed. Every ratio is between records of one run."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from mdval.bench.records import BenchRecord
from mdval.metrics.timing import speedup

#: Issue 6 targets.
MAX_TORCH_OVERHEAD = 0.25
MAX_BATCH_EXCESS = 0.10
BATCH_TARGET_REPLICAS = 64
CHEAPER_FROM_ATOMS = 50
GPU_REPLICAS = 256
GPU_MIN_GAIN = 20.0
#: Issue 15 targets.
MAX_OVERHEAD_15 = 0.05
MIN_PEER_RATIO = 1.0  # mdval atom-steps/s over TorchSim's
MAX_F32_VS_TEACHER = 0.5  # zoo:original in float32, cost per call over GFN2-xTB's


def summarise(
    records: Sequence[BenchRecord],
    models: Sequence[str],
    teacher: str | None,
    main_structure: str,
) -> dict[str, Any]:
    single = {
        (r.model, r.engine): r
        for r in records
        if r.experiment == "single" and r.structure == main_structure
    }
    return {
        "harness_overhead": {
            m: {e: single[(m, e)].harness_overhead for e in ("torch", "ase") if (m, e) in single}
            for m in models
        },
        "speedups": _speedups(single, models),
        "speedups_batched": _speedups_batched(records, models),
        "speedups_by_size": _speedups_by_size(records, models),
        "batch_scaling": _batch_scaling(records, models),
        "long_trajectory": {
            f"{r.model} {r.engine}": r.throughput_atom_steps_per_s
            for r in records
            if r.experiment == "long"
        },
        "cost_vs_size": _cost_vs_size(records, models, teacher),
        "peer": peer_rows(records),
        "targets": _targets(records, single, models, teacher)
        + _targets_15(records, single, models, teacher),
    }


def peer_rows(records: Sequence[BenchRecord]) -> list[dict[str, Any]]:
    """mdval ÷ TorchSim per model, dtype and replica count: atom-steps/s of mdval's engine
    over TorchSim's (> 1: mdval faster), both from interleaved rounds of this run, and the
    correctness line (max |dr| after N steps from an identical state) where measured."""
    peer = {
        (r.model, r.replicas, r.engine): r
        for r in records
        if r.experiment == "peer" and r.engine in ("torch", "torchsim")
    }
    rows = []
    for model, n, engine in peer:
        if engine != "torch" or (model, n, "torchsim") not in peer:
            continue
        ours, theirs = peer[(model, n, "torch")], peer[(model, n, "torchsim")]
        a, b = ours.throughput_atom_steps_per_s, theirs.throughput_atom_steps_per_s
        rows.append(
            {
                "model": model,
                "dtype": ours.extra.get("dtype"),
                "replicas": n,
                "mdval_step_ms": ours.step_ms,
                "torchsim_step_ms": theirs.step_ms,
                "mdval_overhead": ours.harness_overhead,
                "torchsim_overhead": theirs.harness_overhead,
                "mdval_atom_steps_per_s": a,
                "torchsim_atom_steps_per_s": b,
                "mdval_over_torchsim": a / b if a and b else None,
                "mdval_over_torchsim_cpu": _cpu_ratio(theirs, ours),
                "max_dr_A": theirs.extra.get("max_dr_A"),
                "max_dr_steps": theirs.extra.get("max_dr_steps"),
            }
        )
    return rows


def _cpu_ratio(slow: BenchRecord, fast: BenchRecord) -> float | None:
    """CPU ms per step of ``slow`` over ``fast`` (the same ratio as atom-steps/s of ``fast``
    over ``slow``, on process CPU time rather than the wall clock)."""
    a, b = slow.extra.get("cpu_ms_per_step"), fast.extra.get("cpu_ms_per_step")
    return float(a) / float(b) if a and b else None


def _targets_15(
    records: Sequence[BenchRecord],
    single: dict[tuple[str, str], BenchRecord],
    models: Sequence[str],
    teacher: str | None,
) -> list[dict[str, Any]]:
    out = _overhead_targets(single, models, MAX_OVERHEAD_15, "harness overhead", "; issue 15")
    for row in peer_rows(records):
        value = row["mdval_over_torchsim"]
        out.append(
            {
                "target": f"mdval >= {MIN_PEER_RATIO:g}x TorchSim atom-steps/s ({row['model']}, "
                f"{row['replicas']} replicas)",
                "value": value,
                "met": None if value is None else value >= MIN_PEER_RATIO,
            }
        )
    f32 = next((m for m in models if m.startswith("zoo:original?dtype=float32")), None)
    model_rec = single.get((f32, "bare")) if f32 else None
    teacher_rec = single.get((teacher, "ase")) if teacher else None
    value = None
    if model_rec and teacher_rec and teacher_rec.inference_ms_per_step:
        value = (model_rec.inference_ms_per_step or 0.0) / teacher_rec.inference_ms_per_step
    out.append(
        {
            "target": f"zoo:original float32 <= {MAX_F32_VS_TEACHER}x {teacher} cost per call",
            "value": value,
            "met": None if value is None else value <= MAX_F32_VS_TEACHER,
        }
    )
    return out


def _speedups(single: dict[tuple[str, str], BenchRecord], models: Sequence[str]) -> dict[str, Any]:
    """``model / baseline`` speed-up (baseline ms / model ms) per engine, on inference time
    and on step time: the step ratio is what a user of that engine sees."""
    if not models:
        return {}
    base = models[0]
    out: dict[str, Any] = {}
    for m in models[1:]:
        row: dict[str, Any] = {}
        for engine in ("bare", "torch", "ase"):
            b, x = single.get((base, engine)), single.get((m, engine))
            if b is None or x is None:
                continue
            row[engine] = {
                "inference": speedup(b.inference_ms_per_step, x.inference_ms_per_step),
                "step": speedup(b.step_ms, x.step_ms),
            }
        out[f"{m} vs {base}"] = row
    return out


def _speedups_batched(records: Sequence[BenchRecord], models: Sequence[str]) -> dict[str, Any]:
    """``model vs baseline`` step-time speed-up through the torch engine per batch size."""
    step = {
        (r.model, r.replicas): r.step_ms
        for r in records
        if r.experiment == "batch" and r.engine == "torch"
    }
    out: dict[str, Any] = {}
    if not models:
        return out
    base = models[0]
    for m in models[1:]:
        out[f"{m} vs {base}"] = {
            str(n): speedup(step[(base, n)], step[(m, n)])
            for (mm, n) in sorted(step)
            if mm == m and (base, n) in step
        }
    return out


def _speedups_by_size(records: Sequence[BenchRecord], models: Sequence[str]) -> dict[str, Any]:
    """``model vs baseline`` step-time speed-up through the torch engine per system size."""
    step = {(r.model, r.n_atoms): r.step_ms for r in records if r.experiment == "size"}
    out: dict[str, Any] = {}
    if not models:
        return out
    base = models[0]
    for m in models[1:]:
        out[f"{m} vs {base}"] = {
            str(n): speedup(step[(base, n)], step[(m, n)])
            for (mm, n) in sorted(step)
            if mm == m and (base, n) in step
        }
    return out


def _batch_scaling(records: Sequence[BenchRecord], models: Sequence[str]) -> dict[str, Any]:
    """Per model and batch size: the engine against the bare model, and the speed-up of
    batching (``vs_ase_one_by_one``: the batch's atom-steps/s over the single-system ASE
    engine's, same model and structure — replicas run one after another with ASE)."""
    out: dict[str, Any] = {}
    for m in models:
        rows = []
        batch = [r for r in records if r.experiment == "batch" and r.model == m]
        ase = next(
            (r for r in records if (r.experiment, r.model, r.engine) == ("single", m, "ase")),
            None,
        )
        ase_rate = ase.throughput_atom_steps_per_s if ase else None
        for n in sorted({r.replicas for r in batch}):
            bare = next((r for r in batch if r.replicas == n and r.engine == "bare"), None)
            eng = next((r for r in batch if r.replicas == n and r.engine == "torch"), None)
            bare_ms = bare.inference_ms_per_step if bare else None
            step_ms = eng.step_ms if eng else None
            rows.append(
                {
                    "replicas": n,
                    "bare_ms": bare_ms,
                    "engine_step_ms": step_ms,
                    "bare_ms_per_replica": bare_ms / n if bare_ms else None,
                    "engine_ms_per_replica": step_ms / n if step_ms else None,
                    "engine_vs_bare": step_ms / bare_ms - 1.0 if bare_ms and step_ms else None,
                    "throughput_atom_steps_per_s": eng.throughput_atom_steps_per_s if eng else None,
                    "vs_ase_one_by_one": eng.throughput_atom_steps_per_s / ase_rate
                    if eng and eng.throughput_atom_steps_per_s and ase_rate
                    else None,
                }
            )
        out[m] = rows
    return out


def crossover(sizes: Sequence[int], model_ms: Sequence[float], teacher_ms: Sequence[float]) -> Any:
    """Atoms where the model becomes cheaper than the teacher (log-log interpolation between
    measured sizes); "below N" / "above N" when it does not cross in the measured range."""
    points = sorted(zip(sizes, model_ms, teacher_ms, strict=True))
    if not points:
        return None
    ratios = [(n, m / t) for n, m, t in points]
    if all(r < 1 for _, r in ratios):
        return f"below {ratios[0][0]}"
    if ratios[-1][1] >= 1:
        return f"above {ratios[-1][0]}"
    for (n0, r0), (n1, r1) in itertools.pairwise(ratios):
        if r0 >= 1 > r1:
            x0, x1, y0, y1 = math.log(n0), math.log(n1), math.log(r0), math.log(r1)
            return round(math.exp(x0 + (0.0 - y0) * (x1 - x0) / (y1 - y0)), 1)
    return None


def _cost_vs_size(
    records: Sequence[BenchRecord], models: Sequence[str], teacher: str | None
) -> dict[str, Any]:
    size = [r for r in records if r.experiment == "size"]
    table: dict[str, dict[int, dict[str, float | None]]] = {}
    for r in size:
        table.setdefault(r.model, {})[r.n_atoms] = {
            "inference_ms": r.inference_ms_per_step,
            "step_ms": r.step_ms,
        }
    out: dict[str, Any] = {"table": table, "crossover_atoms": {}}
    if teacher is None or teacher not in table:
        return out
    for m in models:
        if m not in table:
            continue
        common = sorted(set(table[m]) & set(table[teacher]))
        entry = {}
        for key in ("step_ms", "inference_ms"):
            ms = [table[m][n][key] for n in common]
            ts = [table[teacher][n][key] for n in common]
            if all(x is not None for x in ms + ts):
                entry[key] = crossover(common, ms, ts)  # type: ignore[arg-type]
        out["crossover_atoms"][m] = entry
    return out


def _overhead_targets(
    single: dict[tuple[str, str], BenchRecord],
    models: Sequence[str],
    limit: float,
    what: str,
    note: str = "",
) -> list[dict[str, Any]]:
    """The torch engine's harness overhead of each model (single system) against ``limit``."""
    out: list[dict[str, Any]] = []
    for m in models:
        rec = single.get((m, "torch"))
        value = rec.harness_overhead if rec else None
        out.append(
            {
                "target": f"{what} <= {limit} ({m}, single{note})",
                "value": value,
                "met": None if value is None else value <= limit,
            }
        )
    return out


def _targets(
    records: Sequence[BenchRecord],
    single: dict[tuple[str, str], BenchRecord],
    models: Sequence[str],
    teacher: str | None,
) -> list[dict[str, Any]]:
    out = _overhead_targets(single, models, MAX_TORCH_OVERHEAD, "torch engine harness_overhead")
    for m in models:
        rows = _batch_scaling(records, [m])[m]
        row = next((x for x in rows if x["replicas"] == BATCH_TARGET_REPLICAS), None)
        value = row["engine_vs_bare"] if row else None
        out.append(
            {
                "target": f"batched step within {MAX_BATCH_EXCESS:.0%} of bare forward+backward "
                f"at {BATCH_TARGET_REPLICAS} replicas ({m})",
                "value": value,
                "met": None if value is None else value <= MAX_BATCH_EXCESS,
            }
        )
    if models:
        out.append(_gpu_target(records, single, models[0]))
    if teacher and models:
        base = models[0]
        by_n: dict[int, dict[str, float | None]] = {}
        for r in records:
            if r.experiment == "size" and r.model in (base, teacher):
                by_n.setdefault(r.n_atoms, {})[r.model] = r.step_ms
        checked = {
            n: v[base] < v[teacher]  # type: ignore[operator]
            for n, v in sorted(by_n.items())
            if n >= CHEAPER_FROM_ATOMS and v.get(base) and v.get(teacher)
        }
        out.append(
            {
                "target": f"{base} cheaper per step than {teacher} from "
                f"{CHEAPER_FROM_ATOMS} atoms up",
                "value": {str(n): ok for n, ok in checked.items()},
                "met": all(checked.values()) if checked else None,
            }
        )
    return out


def _gpu_target(
    records: Sequence[BenchRecord], single: dict[tuple[str, str], BenchRecord], base: str
) -> dict[str, Any]:
    """Throughput of 256 batched replicas (torch engine) over one-by-one ASE; a GPU target,
    so on a CPU the ratio is shown and the target is not applicable."""
    batch = next(
        (
            r
            for r in records
            if r.experiment == "batch"
            and r.model == base
            and r.engine == "torch"
            and r.replicas == GPU_REPLICAS
        ),
        None,
    )
    ase = single.get((base, "ase"))
    value = None
    if batch and ase and batch.throughput_atom_steps_per_s and ase.throughput_atom_steps_per_s:
        value = batch.throughput_atom_steps_per_s / ase.throughput_atom_steps_per_s
    on_gpu = batch is not None and batch.device.startswith("cuda")
    return {
        "target": f"GPU: {GPU_REPLICAS} replicas of {base} (torch engine) at >= "
        f"{GPU_MIN_GAIN:g}x the atom-steps/s of one-by-one ASE",
        "value": value,
        "met": (value >= GPU_MIN_GAIN) if (on_gpu and value is not None) else None,
    }
