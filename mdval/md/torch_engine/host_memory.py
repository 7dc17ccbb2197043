"""The host allocator behind CPU tensors: keep freed model buffers for the next step.

A model call allocates the same large intermediates at every step (a zoo student at 32
replicas of alanine dipeptide: tens of MB of pair features). With glibc's default malloc the
free top of the heap is trimmed back to the OS after each call and the next call faults the
pages in again: measured on the 2-core CPU of docs/performance.md (Tiny, 32 replicas, 1
thread), about 10,000 minor page faults and a third of the CPU time of a step, in mdval's
engine and in TorchSim's alike. Raising glibc's trim threshold and top pad (and fixing the
mmap threshold, which setting either of those otherwise pins at 128 KiB) keeps the pages:
no faults, ~35 % less CPU per step.

:func:`keep_freed_pages` does that once per process with ``mallopt`` (glibc only; elsewhere,
or where the user set any ``MALLOC_*`` tuning variable, it changes nothing). The cost is
memory: the process keeps up to ``TRIM_THRESHOLD_B`` of freed heap instead of returning it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

TRIM_THRESHOLD_B = 256 << 20  # free heap top kept before trimming
TOP_PAD_B = 16 << 20  # extra heap requested per sbrk
MMAP_THRESHOLD_B = 64 << 20  # allocations above this still get their own mapping

_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
_state: str | None = None


def keep_freed_pages() -> str:
    """Tune glibc's malloc once for this process; returns what was done (for provenance):
    ``"tuned"``, ``"user-set"`` (a MALLOC_* variable is set: left alone), or
    ``"unsupported"`` (not glibc)."""
    global _state
    if _state is not None:
        return _state
    if any(os.environ.get(k) for k in _ENV):
        _state = "user-set"
        return _state
    mallopt = _mallopt()
    if mallopt is None:
        _state = "unsupported"
        return _state
    ok = all(
        mallopt(option, value) == 1
        for option, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_B),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD_B),
            (M_TOP_PAD, TOP_PAD_B),
        )
    )
    _state = "tuned" if ok else "unsupported"
    return _state


def state() -> str | None:
    """What :func:`keep_freed_pages` did in this process (None: not called yet)."""
    return _state


def _mallopt() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.mallopt
        if not _is_glibc():
            return None
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def _is_glibc() -> bool:
    import platform

    return platform.libc_ver()[0] == "glibc"
