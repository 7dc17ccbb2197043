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
"""

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
