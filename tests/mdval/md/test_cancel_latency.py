"""Cancel is polled on the wall clock, whatever the record interval (issue 13, item 8): a run
with a record every 64,221 steps was still running 2 min after its cancel."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ase import Atoms
from ase.build import molecule
from ase.calculators.emt import EMT

from mdval.md.listener import RunListener
from mdval.md.observers import CANCEL_POLL_S
from mdval.md.torch_engine import run_batch
from mdval.potentials.testing import export_test_potential
from tests.mdval.md.conftest import RunFn

#: A cancel is seen this long after it was requested at most (poll interval and slack).
MAX_LATENCY_S = CANCEL_POLL_S + 0.5


class CancelAfter(RunListener):
    """Requests a cancel ``after_s`` after the run starts; notes when the run saw it."""

    def __init__(self, after_s: float | None) -> None:
        self.after_s = after_s
        # run_batch does not announce the start: count from now until on_start does
        self.requested_at = None if after_s is None else time.monotonic() + after_s
        self.seen_at: float | None = None
        self.polls = 0

    def on_start(self, info: dict[str, object]) -> None:
        if self.after_s is not None:
            self.requested_at = time.monotonic() + self.after_s

    def should_cancel(self) -> bool:
        self.polls += 1
        if self.requested_at is None or time.monotonic() < self.requested_at:
            return False
        if self.seen_at is None:
            self.seen_at = time.monotonic()
        return True

    @property
    def latency_s(self) -> float:
        assert self.requested_at is not None and self.seen_at is not None
        return self.seen_at - self.requested_at


def test_ase_engine_sees_a_cancel_within_a_second(run_on: RunFn, copper: Atoms) -> None:
    listener = CancelAfter(1.0)
    started = time.monotonic()
    result = run_on(
        copper,
        lambda device: EMT(),
        listener=listener,
        timestep_fs=1.0,
        duration_ps=100.0,  # 100,000 steps: minutes
        record_every=64_221,
    )
    assert result.status == "cancelled"
    print(f"ASE engine: cancel seen {listener.latency_s:.3f} s after the request")
    assert listener.latency_s < MAX_LATENCY_S, listener.latency_s
    assert time.monotonic() - started < 1.0 + MAX_LATENCY_S + 2.0  # and it stopped


@pytest.fixture(scope="module")
def morse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_test_potential(tmp_path_factory.mktemp("ts") / "morse.pt")


def test_torch_batch_cancels_one_replica_within_a_second(morse_file: Path) -> None:
    """Replica 0 is cancelled after 0.5 s, the other two after 2 s of wall time; the run is
    far longer than that at any speed (a fixed step count finished before the cancel once
    the engine got faster), so the test measures the poll, not the machine."""
    water = molecule("H2O")
    listeners = [CancelAfter(0.5), CancelAfter(2.0), CancelAfter(2.0)]
    n_steps = 10**8  # never reached: hours at any speed
    result = run_batch(
        str(morse_file),
        [(water, 300.0, 0), (water, 300.0, 1), (water, 300.0, 2)],
        n_steps=n_steps,
        timestep_fs=0.5,
        record_every=n_steps,  # a record at the first step only
        detect_failures=False,
        listeners=listeners,
    )
    cancelled, *others = result.replicas
    assert cancelled.status == "cancelled" and 0 < cancelled.steps_done < n_steps
    print(f"torch batch: replica 0 cancel seen {listeners[0].latency_s:.3f} s after the request")
    for listener in listeners:
        assert listener.latency_s < MAX_LATENCY_S, listener.latency_s
    # the others went on after replica 0 stopped, polled between records, then stopped too
    assert [r.status for r in others] == ["cancelled", "cancelled"]
    assert all(r.steps_done > cancelled.steps_done for r in others)
    assert all(x.polls > 2 for x in listeners[1:])
