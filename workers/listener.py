"""Streams a running validation into the database.

:class:`DbStreamingListener` buffers thermo records and force-error samples and flushes them
every ``flush_interval_s`` in one transaction: a batched insert per table (COPY on
Postgres) plus one UPDATE of progress, ETA and heartbeat that also reads the cancel flag.
:class:`Heartbeat` keeps the heartbeat fresh while a single step takes long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.crud import series
from app.crud.runs import Claim
from app.db.base import utcnow
from workers.core_bridge import ForceErrorSample, RunListener, ThermoRecord

log = logging.getLogger(__name__)


class DbStreamingListener(RunListener):
    """The worker's :class:`RunListener`: buffer, flush about every second, poll cancel."""

    def __init__(self, engine: Engine, claim: Claim, *, flush_interval_s: float = 1.0) -> None:
        self.engine = engine
        self.claim = claim
        self.flush_interval_s = flush_interval_s
        self.thermo: list[tuple[Any, ...]] = []
        self.force_errors: list[tuple[Any, ...]] = []
        self.n_thermo = 0
        self.n_force_errors = 0
        self.done_steps = 0
        self.total_steps: int | None = None
        self.n_atoms: int | None = None
        self.formula: str | None = None
        self.cancel = False
        self.lost = False  # another attempt owns the run now: stop, write nothing final
        self._last_flush = time.monotonic()
        self._first_progress: tuple[float, int] | None = None
        self.flush_seconds = 0.0  # time spent flushing (the ingest overhead of the run)
        self.last_flush_error: str | None = None
        self.rows_written = 0

    # --- RunListener hooks (engine thread) ----------------------------------------------

    def on_start(self, info: dict[str, Any]) -> None:
        self.total_steps = int(info.get("total_steps") or 0) or None
        self.n_atoms = info.get("n_atoms")
        self.formula = info.get("formula")
        self.flush()

    def on_thermo(self, record: ThermoRecord) -> None:
        self.thermo.append(
            (
                self.claim.run_id,
                self.n_thermo,
                record.phase,
                int(record.step),
                float(record.time_ps),
                float(record.epot_eV),
                float(record.ekin_eV),
                float(record.etot_eV),
                float(record.temperature_K),
                float(record.max_force_eV_per_A),
                float(record.inference_ms),
                None if record.pressure_GPa is None else float(record.pressure_GPa),
            )
        )
        self.n_thermo += 1
        self._maybe_flush()

    def on_force_errors(self, sample: ForceErrorSample) -> None:
        self.force_errors.append(
            (
                self.claim.run_id,
                self.n_force_errors,
                int(sample.step),
                float(sample.time_ps),
                float(sample.force_rmse_eV_per_A),
                float(sample.energy_error_eV),
                [float(x) for x in sample.per_atom_error_eV_per_A],
            )
        )
        self.n_force_errors += 1
        self._maybe_flush()

    def on_progress(self, done_steps: int, total_steps: int) -> None:
        self.done_steps = int(done_steps)
        self.total_steps = int(total_steps) or self.total_steps
        if self._first_progress is None:
            self._first_progress = (time.monotonic(), self.done_steps)
        self._maybe_flush()

    def should_cancel(self) -> bool:
        return self.cancel or self.lost

    def poll(self) -> None:
        """Flush when due: reads the cancel flag while no record of this run is being made
        (its control is running first)."""
        self._maybe_flush()

    # --- flushing ----------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def _eta(self) -> Any:
        if self._first_progress is None or not self.total_steps:
            return None
        t0, s0 = self._first_progress
        elapsed, done = time.monotonic() - t0, self.done_steps - s0
        if elapsed <= 0 or done <= 0:
            return None
        remaining_s = (self.total_steps - self.done_steps) * elapsed / done
        return utcnow() + timedelta(seconds=max(0.0, remaining_s))

    @property
    def pending(self) -> int:
        """Series rows buffered and not yet stored."""
        return len(self.thermo) + len(self.force_errors)

    def flush(self) -> bool:
        """Write the buffers and the progress in one transaction. A failed flush keeps the
        buffers for the next one (a database hiccup must not kill an hour-long run).
        Returns whether it was written (False: failed, or the run is not ours any more)."""
        started = time.monotonic()
        self._last_flush = started
        thermo, force_errors = self.thermo, self.force_errors
        try:
            with Session(self.engine) as session:
                series.relax_durability(session)
                series.insert_thermo(session, rows=thermo)
                series.insert_force_errors(session, rows=force_errors)
                ack = runs_crud.update_progress(
                    session,
                    claim=self.claim,
                    done_steps=self.done_steps,
                    total_steps=self.total_steps,
                    eta_at=self._eta(),
                    n_atoms=self.n_atoms,
                    formula=self.formula,
                )
                if ack.owned:
                    session.commit()
                else:
                    session.rollback()  # not ours any more: write nothing
        except Exception as exc:
            log.exception("run %s: flush failed; will retry", self.claim.run_id)
            self.last_flush_error = f"{type(exc).__name__}: {exc}"[:500]
            return False
        finally:
            self.flush_seconds += time.monotonic() - started
        if not ack.owned:
            log.warning("run %s attempt %s: ownership lost", self.claim.run_id, self.claim.attempt)
            self.lost = True
            return False
        self.rows_written += len(thermo) + len(force_errors)
        self.thermo, self.force_errors = [], []
        self.cancel = self.cancel or ack.cancel_requested
        return True

    def final_flush(self, *, attempts: int = 5, first_wait_s: float = 0.5) -> bool:
        """Store what is left, retrying a failed flush with a growing wait (0.5, 1, 2, 4 s:
        a dropped connection, a database restart). False when the series could not be
        stored (or the run is not ours any more)."""
        wait = first_wait_s
        for attempt in range(attempts):
            if self.flush():
                return True
            if self.lost or attempt == attempts - 1:
                break
            time.sleep(wait)
            wait *= 2
        return False


class Heartbeat(threading.Thread):
    """Refreshes ``runs.heartbeat_at`` of every run of a batch (one run, or the replicas of
    a batch) every ``interval_s``, whatever the engine is doing; tells a run's listener when
    the run is no longer this worker's.

    Used as a context manager around the whole attempt — the simulation *and* the final
    flush and record: a final flush that retries (up to 7.5 s) or a batch recording its
    replicas one by one must not look stale to the reaper, which would re-queue a run its
    worker is still finishing."""

    def __init__(self, engine: Engine, listeners: Sequence[DbStreamingListener], interval_s: float):
        super().__init__(name=f"heartbeat-{listeners[0].claim.run_id}", daemon=True)
        self.engine = engine
        self.listeners = list(listeners)
        self.interval_s = interval_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            for listener in [x for x in self.listeners if not x.lost]:
                try:
                    with Session(self.engine) as session, session.begin():
                        owned = runs_crud.heartbeat(session, claim=listener.claim)
                except Exception:  # try again next beat
                    log.exception("run %s: heartbeat failed", listener.claim.run_id)
                    continue
                if not owned:
                    listener.lost = True
            if all(x.lost for x in self.listeners):
                return

    def stop(self) -> None:
        self.stopping.set()

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(timeout=5)
