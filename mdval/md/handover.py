"""The hand-over from NVT equilibration to NVE production: start NVE at the canonical energy.

NVE conserves the total energy it starts with. A canonical state taken at one instant has a
total energy that fluctuates by ~ sqrt(1/N_dof) of its mean (12 % for alanine dipeptide), so
an NVE run started from it samples a temperature off the request by as much, at random. The
hand-over rescales the momenta once, at the end of equilibration, so that

    E_tot(start of NVE) = ⟨E_pot⟩_NVT + (N_dof / 2) k_B T,

the canonical mean energy: ⟨E_pot⟩ estimated from the second half of the equilibration
records, ⟨E_kin⟩ exact. Positions are untouched; centre-of-mass momentum stays zero (a
uniform scale). Both engines apply the same factor from :func:`handover_scale`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mdval.md.listener import ThermoRecord
from mdval.units import KB_EV_PER_K


def handover_scale(
    records: Sequence[ThermoRecord],
    *,
    epot_eV: float,
    ekin_eV: float,
    n_dof: int,
    temperature_K: float,
) -> float:
    """Factor to multiply the momenta by at the start of NVE (1.0 when undefined).

    ``records`` are the run's thermo records (only the ``equilibration`` ones count, the
    second half of them); ``epot_eV`` and ``ekin_eV`` are the energies of the state handed
    over. When the target kinetic energy would not be positive (a potential energy far above
    its NVT mean), the momenta are scaled to the canonical mean kinetic energy instead.
    """
    equilibration = [r for r in records if r.phase == "equilibration"]
    if not equilibration or ekin_eV <= 0.0 or not math.isfinite(ekin_eV):
        return 1.0
    half = equilibration[len(equilibration) // 2 :]
    mean_epot = sum(r.epot_eV for r in half) / len(half)
    mean_ekin = 0.5 * n_dof * KB_EV_PER_K * temperature_K
    target_ekin = mean_epot + mean_ekin - epot_eV
    if not math.isfinite(target_ekin) or target_ekin <= 0.0:
        target_ekin = mean_ekin
    return math.sqrt(target_ekin / ekin_eV)
