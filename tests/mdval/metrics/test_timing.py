"""Speed and memory helpers."""

from __future__ import annotations

import mmap
import sys
from importlib import metadata

import pytest

from mdval.metrics.timing import (
    PeakMemory,
    device_info,
    harness_overhead,
    median_ms,
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
