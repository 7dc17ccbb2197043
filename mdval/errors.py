"""Typed errors of the core.

``InputError`` is bad user input: the CLI maps it to exit code 2 and the API to a 4xx.
Its message must name the problem so that a person can act on it.
"""

from __future__ import annotations

from typing import Any


class MdvalError(Exception):
    """Base class of every error mdval raises on purpose."""


class InputError(MdvalError, ValueError):
    """The request cannot be run as given (unknown model, bad structure, out-of-range number)."""


class StructureError(InputError):
    """A structure spec could not be read or failed a sanity check."""


class PotentialError(InputError):
    """A potential spec is unknown, unreadable or not allowed."""


class UnsupportedElementsError(InputError):
    """The structure holds elements that the potential or the reference does not support."""


class RunStopped(MdvalError):  # noqa: N818 - a signal, not a failure
    """A run stopped early (crash or cancel). ``timing`` is the engine's timing of the phase
    so far (a :class:`mdval.md.engine.PhaseTiming`), set by the engine as it re-raises, so
    that a stopped run keeps its timings."""

    timing: Any = None


class RunCancelled(RunStopped):
    """Raised by a cancel observer between steps; the run ends ``cancelled``."""


class SimulationCrashed(RunStopped):
    """The model broke (NaN, explosion, bond collapse ...): a result, not a system error."""

    def __init__(self, reason: str, time_ps: float, step: int) -> None:
        super().__init__(f"{reason} at t = {time_ps:.4f} ps (step {step})")
        self.reason = reason
        self.time_ps = time_ps
        self.step = step
