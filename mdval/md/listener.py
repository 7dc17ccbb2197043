"""How a caller (CLI progress bar, Celery worker) follows a run while it goes.

Subclass :class:`RunListener` and override what you need; every hook is a no-op by default.
The hooks run in the engine's thread between steps: keep them cheap (buffer, then flush).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ThermoRecord:
    """One row of ``thermo.csv`` (and of the ``thermo`` table)."""

    phase: str
    step: int
    time_ps: float
    epot_eV: float
    ekin_eV: float
    etot_eV: float
    temperature_K: float
    max_force_eV_per_A: float
    inference_ms: float
    pressure_GPa: float | None = None  # −trace(σ)/3, periodic systems with a stress

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ForceErrorSample:
    """Model vs reference on one sampled frame of the model's own trajectory."""

    step: int
    time_ps: float
    per_atom_error_eV_per_A: np.ndarray  # (N,) |F_i - G_i|
    force_rmse_eV_per_A: float
    energy_error_eV: float  # E_model - E_ref (offset not removed)


class RunListener:
    """No-op base; see module docstring."""

    def on_start(self, info: dict[str, Any]) -> None:
        """Called once before the first step. ``info`` holds n_atoms, total_steps, formula."""

    def on_thermo(self, record: ThermoRecord) -> None:
        """Called for every thermo record, in step order."""

    def on_force_errors(self, sample: ForceErrorSample) -> None:
        """Called for every reference-evaluated frame."""

    def on_progress(self, done_steps: int, total_steps: int) -> None:
        """Called at every record with steps done over all phases."""

    def should_cancel(self) -> bool:
        """Polled between steps (at every record, and about every
        :data:`mdval.md.observers.CANCEL_POLL_S` of wall time whatever the record interval);
        True ends the run ``cancelled``."""
        return False

    def poll(self) -> None:
        """Called just before the wall-clock ``should_cancel`` poll (between records): a
        listener that reads its cancel flag from elsewhere refreshes it here, when due."""

    def on_end(self, summary: dict[str, Any]) -> None:
        """Called once with the final summary (also for crashed / cancelled runs)."""
