"""One benchmark record (METRICS.md, "Speed and memory") and the context of a run."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from mdval.metrics.timing import device_info

#: Keys every record carries (values may be null where they do not apply, e.g. the step
#: time of the bare model).
RECORD_KEYS = (
    "model",
    "structure",
    "n_atoms",
    "engine",
    "replicas",
    "device",
    "inference_ms_per_step",
    "step_ms",
    "harness_overhead",
    "throughput_atom_steps_per_s",
    "peak_memory_MB",
    "device_name",
    "torch_version",
    "threads",
)


@dataclass
class BenchRecord:
    """One measurement. ``engine``: "ase", "torch", or "bare" (the model alone, forward +
    backward, no integrator). ``n_atoms`` is per replica; ``inference_ms_per_step`` and
    ``step_ms`` are per batched call/step (all replicas together); medians over ``n_steps``
    repeats after ``warmup`` discarded ones."""

    model: str
    structure: str
    n_atoms: int
    engine: str
    replicas: int
    device: str
    inference_ms_per_step: float | None
    step_ms: float | None
    harness_overhead: float | None
    throughput_atom_steps_per_s: float | None
    peak_memory_MB: float | None
    device_name: str = ""
    torch_version: str | None = None
    threads: int | None = None
    experiment: str = ""  # "single" | "batch" | "long" | "size"
    n_steps: int = 0
    warmup: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        extra = out.pop("extra")
        out.update(extra)
        return out


def run_context(device: str) -> dict[str, Any]:
    """Device name, torch version, thread counts (torch, OpenMP), CPU count, load average."""
    info = device_info(device)
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    info["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    info["load_average"] = [round(x, 2) for x in load]
    return info


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN/inf as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
