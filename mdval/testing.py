"""Potentials with known behaviour, for testing mdval and for testing a harness with mdval.

* :class:`HarmonicPairs` — every pair bound by a harmonic spring: the closed-form case of the
  integrator tests (velocity-Verlet energy fluctuation scales with dt²).
* :class:`InconsistentEnergy` — exact forces, an energy that is not their potential.
* :class:`BrokenAfter` — wraps a calculator and breaks it after a number of calls: returns
  NaN (``mode="nan"``), inflates the forces (``mode="explode"``) or raises (``mode="raise"``).

The ``*_factory`` functions are ``py:`` factories (``py:mdval.testing:nan_after_40``) for the
CLI tests, which allowlist them through ``MDVAL_PY_FACTORY_ALLOWLIST``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT


class HarmonicPairs(Calculator):
    """E = Σ_{i<j} ½ k (r_ij − r0_ij)², k in eV/Å², r0 in Å (non-periodic).

    With ``r0_A=None`` every pair's rest length is its length in the first structure seen
    (an elastic network: the start is the minimum, so any geometry stays bound).
    """

    implemented_properties = ["energy", "free_energy", "forces"]  # noqa: RUF012 - ASE API

    def __init__(self, k_eV_per_A2: float = 10.0, r0_A: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = k_eV_per_A2
        self.r0: float | np.ndarray | None = r0_A

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        assert self.atoms is not None
        pos = self.atoms.get_positions()
        i, j = np.triu_indices(len(pos), k=1)
        d = pos[j] - pos[i]
        r = np.linalg.norm(d, axis=1)
        if self.r0 is None:
            self.r0 = r.copy()
        stretch = r - self.r0
        energy = 0.5 * self.k * float(np.sum(stretch**2))
        pair_force = (self.k * stretch / r)[:, None] * d  # force on i, pulling towards j
        forces = np.zeros_like(pos)
        np.add.at(forces, i, pair_force)
        np.add.at(forces, j, -pair_force)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}


class BrokenAfter(Calculator):
    """Delegates to ``inner`` for ``good_calls`` calls, then breaks as ``mode`` says."""

    implemented_properties = ["energy", "free_energy", "forces"]  # noqa: RUF012 - ASE API

    def __init__(self, inner: Calculator, good_calls: int, mode: str = "nan") -> None:
        super().__init__()
        if mode not in ("nan", "explode", "raise"):
            raise ValueError(f"mode must be nan, explode or raise, not {mode!r}")
        self.inner, self.good_calls, self.mode = inner, good_calls, mode
        self.calls = 0

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        energy = float(self.inner.get_property("energy", self.atoms))
        forces = np.array(self.inner.get_property("forces", self.atoms))
        if self.calls > self.good_calls:
            if self.mode == "raise":
                raise RuntimeError("model blew a fuse")
            if self.mode == "nan":
                energy, forces = float("nan"), np.full_like(forces, np.nan)
            else:  # explode: a runaway force that pumps energy in
                forces = forces + 500.0 * np.sign(forces + 1e-12)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}


class InconsistentEnergy(Calculator):
    """Exact forces of ``inner`` with an energy that is not their potential: ``energy_scale``
    times ``inner``'s energy. Force accuracy is perfect; energy conservation is not (the
    case METRICS.md's energy criteria must catch "even when its forces are accurate")."""

    implemented_properties = ["energy", "free_energy", "forces"]  # noqa: RUF012 - ASE API

    def __init__(self, inner: Calculator, energy_scale: float = 1.5) -> None:
        super().__init__()
        self.inner, self.energy_scale = inner, energy_scale

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        energy = self.energy_scale * float(self.inner.get_property("energy", self.atoms))
        forces = np.array(self.inner.get_property("forces", self.atoms))
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}


def harmonic_factory(device: str = "cpu") -> Calculator:
    return HarmonicPairs()


def nan_after_40(device: str = "cpu") -> Calculator:
    return BrokenAfter(HarmonicPairs(k_eV_per_A2=5.0), 40, "nan")


def explode_after_40(device: str = "cpu") -> Calculator:
    return BrokenAfter(EMT(), 40, "explode")


def raise_after_40(device: str = "cpu") -> Calculator:
    return BrokenAfter(EMT(), 40, "raise")


def fails_to_load(device: str = "cpu") -> Calculator:
    """A factory whose checkpoint is broken: it raises while loading, before any step."""
    raise RuntimeError("invalid load key, '\\x00' (a corrupt checkpoint)")
