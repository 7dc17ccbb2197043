"""Speed and memory metrics (METRICS.md, "Speed and memory") and the context of a timing.

Timings come in as seconds and go out as milliseconds. This module never imports torch: it
uses torch only when the caller has already imported it (``"torch" in sys.modules``), so
that the API process and CPU-only callers stay light.

MB here means 2**20 bytes (MiB), as torch and ``/proc`` report memory.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from importlib import metadata
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

_BYTES_PER_MB = 2**20


def median_ms(samples_s: ArrayLike) -> float | None:
    """Median of wall-time samples given in seconds, in ms; None when there are none."""
    samples = np.asarray(samples_s, dtype=np.float64).ravel()
    if samples.size == 0:
        return None
    return 1000.0 * float(np.median(samples))


def harness_overhead(step_ms: float | None, inference_ms: float | None) -> float | None:
    """step_ms / inference_ms_per_step - 1: the share of a step spent outside the model."""
    if step_ms is None or inference_ms is None or inference_ms <= 0.0:
        return None
    return step_ms / inference_ms - 1.0


def _paired(step_s: ArrayLike, call_s: ArrayLike) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, calls) of the same steps: the last ``len(step_s)`` calls are the steps' own
    (calls before them, such as the initial forces, belong to no step). None when there are
    no steps or fewer calls than steps."""
    steps = np.asarray(step_s, dtype=np.float64).ravel()
    calls = np.asarray(call_s, dtype=np.float64).ravel()
    if steps.size == 0 or calls.size < steps.size:
        return None
    return steps, calls[calls.size - steps.size :]


def harness_ms_per_step(step_s: ArrayLike, call_s: ArrayLike) -> float | None:
    """Median over steps of (the step − its own model call), in ms: the time a step spends
    outside the model. ``step_s`` one whole step each, ``call_s`` one call per step at its end
    (see :func:`_paired`), seconds. None when they cannot be paired."""
    paired = _paired(step_s, call_s)
    if paired is None:
        return None
    steps, calls = paired
    return 1000.0 * float(np.median(steps - calls))


def paired_harness_overhead(step_s: ArrayLike, call_s: ArrayLike) -> float | None:
    """``harness_overhead`` with every step paired with its own call:
    :func:`harness_ms_per_step` ÷ the median call.

    With steady calls it equals :func:`harness_overhead` of the two medians. On a host whose
    speed moves within a run it does not: the median step and the median call may then come
    from different steps, and one step slowed in its harness can carry the median step from
    a fast mode of the calls into a slow one (a closed case in the tests: 0.02 becomes 0.37).
    Pairing keeps the calls' own variation out of the share spent outside them.
    """
    paired = _paired(step_s, call_s)
    if paired is None:
        return None
    steps, calls = paired
    call = float(np.median(calls))
    return float(np.median(steps - calls)) / call if call > 0.0 else None


def mean_harness_overhead(step_s: ArrayLike, call_s: ArrayLike) -> float | None:
    """Σ (step − its call) ÷ Σ call: every step at its full weight, the steps that record
    included — what the harness costs in throughput (a preempted step counts in full)."""
    paired = _paired(step_s, call_s)
    if paired is None:
        return None
    steps, calls = paired
    total = float(calls.sum())
    return float((steps - calls).sum()) / total if total > 0.0 else None


def throughput_atom_steps_per_s(
    n_atoms: int, n_steps: int, wall_s: float, replicas: int = 1
) -> float | None:
    """Atoms x steps / wall time over all replicas; ``n_atoms`` is per replica."""
    if wall_s <= 0.0:
        return None
    return n_atoms * n_steps * replicas / wall_s


def speedup(inference_ms_baseline: float | None, inference_ms_model: float | None) -> float | None:
    """How many times faster the model is than the baseline (ratio of inference_ms_per_step).

    Only meaningful for two models on the same structure and device in the same process.
    """
    if inference_ms_baseline is None or inference_ms_model is None or inference_ms_model <= 0:
        return None
    return inference_ms_baseline / inference_ms_model


def _proc_status_kB(field: str) -> int | None:
    """A ``Vm*`` field of /proc/self/status in kB (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _peak_rss_kB() -> int:
    """Peak RSS of this process in kB: VmHWM, or ru_maxrss where /proc is missing."""
    hwm = _proc_status_kB("VmHWM")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss // 1024 if sys.platform == "darwin" else maxrss  # bytes on macOS


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """Peak memory of a block of code, in MB (MiB)::

        with PeakMemory(device="cpu") as mem:
            run()
        mem.peak_MB

    On CPU this is the growth of the peak resident set size over the block: peak RSS during
    the block minus RSS at its start. The kernel's VmHWM (and ``ru_maxrss``) is a peak over
    the whole life of the process, so on entry it is reset to the current RSS where Linux
    allows (``/proc/self/clear_refs``); then ``exact`` is True. Where it cannot be reset the
    growth of the lifetime peak is reported instead, a lower bound (0 if the process peaked
    before the block), and ``exact`` is False. Resetting touches only this process's peak
    counter; another measurement nested in this one would be disturbed.

    On CUDA (``device`` starting with "cuda", and only if torch is already imported) it is
    ``torch.cuda.max_memory_allocated`` after resetting the peak statistics on entry: the
    largest memory allocated by tensors during the block, including what was allocated
    before it.
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.peak_MB: float | None = None
        self.exact: bool = False
        self._start_kB = 0
        self._torch: Any = None

    def _cuda_torch(self) -> Any:
        torch = sys.modules.get("torch")
        if self.device.startswith("cuda") and torch is not None and torch.cuda.is_available():
            return torch
        return None

    def __enter__(self) -> PeakMemory:
        self._torch = self._cuda_torch()
        if self._torch is not None:
            self._torch.cuda.synchronize(self.device)
            self._torch.cuda.reset_peak_memory_stats(self.device)
            self.exact = True
            return self
        rss = _proc_status_kB("VmRSS")
        if rss is not None and _reset_peak_rss():
            self._start_kB = rss
            self.exact = True
        else:
            self._start_kB = _peak_rss_kB()
            self.exact = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._torch is not None:
            self._torch.cuda.synchronize(self.device)
            allocated = self._torch.cuda.max_memory_allocated(self.device)
            self.peak_MB = allocated / _BYTES_PER_MB
            return
        growth_kB = max(_peak_rss_kB() - self._start_kB, 0)
        self.peak_MB = growth_kB * 1024 / _BYTES_PER_MB


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def device_info(device: str = "cpu") -> dict[str, Any]:
    """What to record with every timing: device name, torch version, thread count.

    Keys: ``device`` (as given), ``device_name``, ``torch_version`` (None if torch is not
    installed; read from package metadata, torch is not imported), ``torch_threads``
    (``torch.get_num_threads()`` if torch is already imported, else None), ``cpu_count``
    (CPUs this process may run on), ``python_version``. The caller adds the batch size.
    """
    torch = sys.modules.get("torch")
    try:
        torch_version: str | None = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    name = _cpu_name()
    if device.startswith("cuda") and torch is not None and torch.cuda.is_available():
        name = str(torch.cuda.get_device_name(device))
    return {
        "device": device,
        "device_name": name,
        "torch_version": torch_version,
        "torch_threads": int(torch.get_num_threads()) if torch is not None else None,
        "cpu_count": _cpu_count(),
        "python_version": platform.python_version(),
    }
