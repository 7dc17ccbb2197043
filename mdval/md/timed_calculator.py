"""An ASE calculator wrapper that times each potential call and types its failures."""

from __future__ import annotations

import time
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from mdval.errors import MdvalError


class PotentialCallError(MdvalError):
    """The potential raised while computing energy/forces (a model failure, not ours)."""


class TimedCalculator(Calculator):
    """Delegates to ``inner`` and keeps the wall time (s) of every call in ``call_times_s``.

    ``want_stress`` adds the stress to every call (periodic systems whose potential has it),
    so a recording step never triggers a second call.
    """

    def __init__(self, inner: Calculator, *, want_stress: bool = False) -> None:
        super().__init__()
        self.inner = inner
        self.want_stress = want_stress and "stress" in inner.implemented_properties
        props = ["energy", "forces"] + (["stress"] if self.want_stress else [])
        self.implemented_properties = [*props, "free_energy"]
        self.call_times_s: list[float] = []
        self.last_call_s: float | None = None  # the call behind ``results`` (kept by pop_times)

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        wanted = ["energy", "forces"] + (["stress"] if self.want_stress else [])
        t0 = time.perf_counter()
        try:
            results: dict[str, Any] = {k: self.inner.get_property(k, self.atoms) for k in wanted}
        except Exception as exc:  # any failure inside the model is the model's
            raise PotentialCallError(f"{type(exc).__name__}: {exc}") from exc
        self.last_call_s = time.perf_counter() - t0
        self.call_times_s.append(self.last_call_s)
        self.results = {k: results[k] for k in wanted}
        self.results["free_energy"] = self.results["energy"]

    def pop_times(self) -> list[float]:
        times, self.call_times_s = self.call_times_s, []
        return times
