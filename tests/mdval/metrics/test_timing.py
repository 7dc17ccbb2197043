"""Speed and memory helpers."""

from __future__ import annotations

import mmap
import sys
from importlib import metadata

import numpy as np
import pytest

from mdval.metrics.timing import (
    PeakMemory,
    device_info,
    harness_ms_per_step,
    harness_overhead,
    mean_harness_overhead,
    median_ms,
    paired_harness_overhead,
    speedup,
    throughput_atom_steps_per_s,
)


def test_median_ms() -> None:
    assert median_ms([0.001, 0.003, 0.002, 10.0, 0.0025]) == pytest.approx(2.5)
    assert median_ms([]) is None


def test_harness_overhead() -> None:
    assert harness_overhead(12.0, 10.0) == pytest.approx(0.2)
    assert harness_overhead(12.0, 0.0) is None
    assert harness_overhead(None, 10.0) is None


def test_the_paired_overhead_keeps_a_slow_step_out_of_the_share() -> None:
    """A host in two modes: 150 calls of 1 ms with 0.03 ms around each, 150 of 2 ms with
    0.06 ms around each, and one fast step whose harness was preempted for 1.2 ms. The median
    step then falls in the slow mode (2.06 ms) while the median call sits between the modes
    (1.5 ms): the ratio of medians says 0.37. Paired, the median harness is 0.06 ms: 0.04."""
    calls = [0.001] * 150 + [0.002] * 150
    around = [0.00003] * 149 + [0.0012] + [0.00006] * 150
    steps = [c + h for c, h in zip(calls, around, strict=True)]
    unpaired = harness_overhead(1000 * float(np.median(steps)), 1000 * float(np.median(calls)))
    assert unpaired == pytest.approx(2.06 / 1.5 - 1)
    assert harness_ms_per_step(steps, calls) == pytest.approx(0.06)
    assert paired_harness_overhead(steps, calls) == pytest.approx(0.06 / 1.5)
    total_around = 149 * 0.03 + 1.2 + 150 * 0.06
    assert mean_harness_overhead(steps, calls) == pytest.approx(total_around / 450.0)


def test_steps_pair_with_the_last_calls() -> None:
    """Calls before the steps' own (the initial forces) belong to no step."""
    steps, calls = [0.0011, 0.0012], [0.005, 0.001, 0.001]
    assert harness_ms_per_step(steps, calls) == pytest.approx(0.15)
    assert paired_harness_overhead(steps, calls) == pytest.approx(0.15)
    assert paired_harness_overhead([], calls) is None
    assert paired_harness_overhead(steps, [0.001]) is None  # fewer calls than steps
    assert mean_harness_overhead(steps, [0.0, 0.0]) is None


def test_throughput_counts_all_replicas() -> None:
    assert throughput_atom_steps_per_s(22, 1000, 2.0, replicas=4) == pytest.approx(44_000.0)
    assert throughput_atom_steps_per_s(22, 1000, 2.0) == pytest.approx(11_000.0)
    assert throughput_atom_steps_per_s(22, 1000, 0.0) is None


def test_speedup() -> None:
    assert speedup(10.0, 2.5) == pytest.approx(4.0)
    assert speedup(10.0, 0.0) is None


def test_peak_memory_sees_an_allocation() -> None:
    # 64 MiB of fresh pages straight from the kernel, every page touched: through malloc
    # the block could reuse heap pages an earlier test freed and the process kept resident
    # (mdval keeps freed model buffers: mdval/md/torch_engine/host_memory.py), and RSS
    # would rightly not grow
    size = 64 * 2**20
    with PeakMemory("cpu") as mem:
        block = mmap.mmap(-1, size)
        for offset in range(0, size, mmap.PAGESIZE):
            block[offset] = 1
        block.close()
    assert mem.peak_MB is not None
    if mem.exact:
        assert 60.0 <= mem.peak_MB < 200.0
    else:  # lifetime peak could not be reset: a lower bound only
        assert mem.peak_MB >= 0.0


def test_peak_memory_without_torch_on_cuda_falls_back_to_rss() -> None:
    if "torch" in sys.modules:
        pytest.skip("torch already imported by another test")
    with PeakMemory("cuda:0") as mem:
        pass
    assert mem.peak_MB is not None and mem.peak_MB >= 0.0
    assert "torch" not in sys.modules


def test_device_info_does_not_import_torch() -> None:
    torch_before = "torch" in sys.modules
    info = device_info()
    assert ("torch" in sys.modules) == torch_before
    assert info["device"] == "cpu"
    assert isinstance(info["device_name"], str) and info["device_name"]
    assert info["cpu_count"] >= 1
    try:
        expected = metadata.version("torch")
    except metadata.PackageNotFoundError:
        expected = None
    assert info["torch_version"] == expected
