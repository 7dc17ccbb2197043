"""The control cache: a batch's controls run side by side and give what one by one gives."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mdval.controls.cache import control_cost, resolve_controls
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


class _Clock(RunListener):
    """Notes when its control started and ended."""

    def on_start(self, info: dict[str, object]) -> None:
        self.started = time.monotonic()

    def on_end(self, summary: dict[str, object]) -> None:
        self.ended = time.monotonic()


def _runs(seeds: range, structure: str = "H2O", duration_ps: float = 0.05) -> list[PreparedRun]:
    return [
        prepare(
            RunConfig(
                model="zoo:ultra-tiny",
                structure=structure,
                reference="gfn2-xtb",
                duration_ps=duration_ps,
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


def test_the_dearest_control_starts_first(tmp_path: Path) -> None:
    """Two threads, three controls, the dearest last in the batch: it starts at once, not
    after a cheap one has finished (which would leave a thread idle at the end)."""
    runs = [*_runs(range(2)), *_runs(range(1), structure="CH4", duration_ps=0.1)]
    assert control_cost(runs[2]) > 3 * control_cost(runs[0])  # 5 atoms x 200 steps: 3 x 100
    clocks = [_Clock() for _ in runs]
    resolve_controls(runs, directory=tmp_path, listeners=clocks, max_workers=2)
    assert clocks[2].started < min(c.ended for c in clocks[:2])
