"""The control cache: a batch's controls run side by side and give what one by one gives."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from mdval.controls.cache import resolve_controls
from mdval.errors import RunCancelled
from mdval.md.config import RunConfig
from mdval.md.listener import RunListener
from mdval.md.prepare import PreparedRun, prepare

#: The metrics that are times and memory (they differ between any two runs).
TIMINGS = {"peak_memory_MB", "harness_overhead", "wall_time_s", "throughput_atom_steps_per_s",
           "inference_ms_per_step", "step_ms", "inference_ms_per_replica_step"}  # fmt: skip


class _Threads(RunListener):
    """Notes the threads its control ran on; cancels when told to."""

    def __init__(self, cancel: bool = False) -> None:
        self.threads: set[str] = set()
        self.cancel = cancel

    def should_cancel(self) -> bool:
        self.threads.add(threading.current_thread().name)
        return self.cancel


def _runs(seeds: range) -> list[PreparedRun]:
    return [
        prepare(
            RunConfig(
                model="zoo:ultra-tiny",
                structure="H2O",
                reference="gfn2-xtb",
                duration_ps=0.05,
                equilibration_ps=0.0,
                seed=seed,
            )
        )
        for seed in seeds
    ]


def test_missing_controls_run_side_by_side_with_the_same_evidence(tmp_path: Path) -> None:
    runs = _runs(range(3))
    together = [_Threads() for _ in runs]
    side_by_side = resolve_controls(
        runs, directory=tmp_path / "a", listeners=together, max_workers=3
    )
    alone = resolve_controls(runs, directory=tmp_path / "b", max_workers=1)
    for a, b in zip(side_by_side, alone, strict=True):
        assert a is not None and b is not None and a.key == b.key
        assert a.frames.keys() == b.frames.keys() and a.frames  # the same trajectory
        assert all(np.array_equal(a.frames[k], b.frames[k]) for k in a.frames)
        physics = {k: v for k, v in a.summary["metrics"].items() if k not in TIMINGS}
        assert physics == {k: b.summary["metrics"][k] for k in physics}
    ran_on = set().union(*(ln.threads for ln in together))
    assert len(ran_on) == 3 and all(name.startswith("control") for name in ran_on)
    # found in the cache the second time: nothing runs, nothing is asked of the listeners
    again = [_Threads() for _ in runs]
    cached = resolve_controls(runs, directory=tmp_path / "a", listeners=again, max_workers=3)
    assert [c.key for c in cached if c] == [c.key for c in side_by_side if c]
    assert not any(ln.threads for ln in again)


def test_a_cancelled_control_is_raised_after_the_others_are_cached(tmp_path: Path) -> None:
    runs = _runs(range(3))
    listeners = [_Threads(), _Threads(cancel=True), _Threads()]
    with pytest.raises(RunCancelled):
        resolve_controls(runs, directory=tmp_path, listeners=listeners, max_workers=3)
    done = resolve_controls([runs[0], runs[2]], directory=tmp_path, max_workers=1)
    assert all(c is not None for c in done)
    assert len(list(tmp_path.glob("*/control.json"))) == 2  # the cancelled one cached nothing
