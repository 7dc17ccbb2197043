"""Metrics of mdval: pure functions over numpy arrays, one module per family.

Every metric is defined in METRICS.md, with its unit in its name. Inputs are in eV, Å and
ps (never ASE time units).

- :mod:`.energy`: energy conservation of an NVE segment, temperature, degrees of freedom
- :mod:`.forces`: force and energy accuracy against the reference
- :mod:`.stability`: crash checks and the crash rate
- :mod:`.comparison`: model vs reference trajectories (RMSD, h(r), bonds, dihedrals)
- :mod:`.timing`: speed, memory and the context of a timing
- :mod:`.observables`: equilibrium distributions of a model vs the control (W1, JS)
- :mod:`.vdos`: vibrational density of states from the mass-weighted VACF
- :mod:`.ensemble`: NVT kinetic-energy distribution against the canonical one
- :mod:`.statistics`: correlated-series statistics and survival over replicas

The names below are loaded lazily (PEP 562): ``import mdval.metrics.statistics`` (what the
API imports) pulls neither ase nor torch; ``from mdval.metrics import bond_pairs`` still
works and imports only the module that defines it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mdval.metrics.comparison import (
        alanine_dipeptide_phi_psi_indices,
        bond_length_error_A,
        bond_length_stats,
        dihedral_deg,
        distance_histogram,
        divergence_time_ps,
        hr_error,
        js_divergence,
        kabsch_rmsd_A,
        phi_psi_js_divergence,
        rmsd_series_A,
    )
    from mdval.metrics.energy import (
        degrees_of_freedom,
        energy_conservation,
        is_linear,
        temperature_K,
    )
    from mdval.metrics.ensemble import ke_distribution_p
    from mdval.metrics.forces import force_accuracy, force_histogram, per_atom_error_norms
    from mdval.metrics.observables import (
        TrajectorySample,
        angle_triples,
        bond_angles_by_type,
        bond_lengths_by_type,
        equilibrium_observables,
        observables_noise,
        pair_distances_A,
    )
    from mdval.metrics.stability import (
        bond_pairs,
        check_frame,
        crash_rate,
        max_bond_change_A,
    )
    from mdval.metrics.timing import (
        PeakMemory,
        device_info,
        harness_overhead,
        median_ms,
        speedup,
        throughput_atom_steps_per_s,
    )
    from mdval.metrics.vdos import mass_weighted_vacf, vdos, vdos_w1_THz

#: exported name -> the submodule of :mod:`mdval.metrics` that defines it
_SUBMODULE_OF: dict[str, str] = {
    "alanine_dipeptide_phi_psi_indices": "comparison",
    "bond_length_error_A": "comparison",
    "bond_length_stats": "comparison",
    "dihedral_deg": "comparison",
    "distance_histogram": "comparison",
    "divergence_time_ps": "comparison",
    "hr_error": "comparison",
    "js_divergence": "comparison",
    "kabsch_rmsd_A": "comparison",
    "phi_psi_js_divergence": "comparison",
    "rmsd_series_A": "comparison",
    "degrees_of_freedom": "energy",
    "energy_conservation": "energy",
    "is_linear": "energy",
    "temperature_K": "energy",
    "ke_distribution_p": "ensemble",
    "force_accuracy": "forces",
    "force_histogram": "forces",
    "per_atom_error_norms": "forces",
    "TrajectorySample": "observables",
    "angle_triples": "observables",
    "bond_angles_by_type": "observables",
    "bond_lengths_by_type": "observables",
    "equilibrium_observables": "observables",
    "observables_noise": "observables",
    "pair_distances_A": "observables",
    "bond_pairs": "stability",
    "check_frame": "stability",
    "crash_rate": "stability",
    "max_bond_change_A": "stability",
    "PeakMemory": "timing",
    "device_info": "timing",
    "harness_overhead": "timing",
    "median_ms": "timing",
    "speedup": "timing",
    "throughput_atom_steps_per_s": "timing",
    "mass_weighted_vacf": "vdos",
    "vdos": "vdos",
    "vdos_w1_THz": "vdos",
}

__all__ = [
    "PeakMemory",
    "TrajectorySample",
    "alanine_dipeptide_phi_psi_indices",
    "angle_triples",
    "bond_angles_by_type",
    "bond_length_error_A",
    "bond_length_stats",
    "bond_lengths_by_type",
    "bond_pairs",
    "check_frame",
    "crash_rate",
    "degrees_of_freedom",
    "device_info",
    "dihedral_deg",
    "distance_histogram",
    "divergence_time_ps",
    "energy_conservation",
    "equilibrium_observables",
    "force_accuracy",
    "force_histogram",
    "harness_overhead",
    "hr_error",
    "is_linear",
    "js_divergence",
    "kabsch_rmsd_A",
    "ke_distribution_p",
    "mass_weighted_vacf",
    "max_bond_change_A",
    "median_ms",
    "observables_noise",
    "pair_distances_A",
    "per_atom_error_norms",
    "phi_psi_js_divergence",
    "rmsd_series_A",
    "speedup",
    "temperature_K",
    "throughput_atom_steps_per_s",
    "vdos",
    "vdos_w1_THz",
]


def __getattr__(name: str) -> object:
    # PEP 562: import the defining submodule only when one of its names is used.
    module = _SUBMODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _MetricsPackage(ModuleType):
    """Keeps an exported name that is also a submodule's name (``vdos``) bound to the
    function: importing :mod:`mdval.metrics.vdos` would otherwise rebind the package's
    ``vdos`` attribute to the submodule (it was the function when the names were eager)."""

    def __setattr__(self, name: str, value: object) -> None:
        if (
            _SUBMODULE_OF.get(name) == name
            and isinstance(value, ModuleType)
            and value.__name__ == f"{__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _MetricsPackage
