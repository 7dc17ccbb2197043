"""Seeded initial velocities: Maxwell–Boltzmann, momentum and rotation removed, exact T."""

from __future__ import annotations

import numpy as np
from ase import Atoms, units
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

from mdval.metrics.energy import degrees_of_freedom as _dof
from mdval.metrics.energy import is_linear


def removes_rotation(atoms: Atoms) -> bool:
    """Rotation is removed for isolated (non-periodic), non-linear molecules.

    A linear molecule keeps its rotation (ASE's ZeroRotation needs a non-singular inertia
    tensor), so its N_dof is 3N − 3, stated in the provenance like every other case.
    """
    return not any(atoms.pbc) and len(atoms) > 2 and not is_linear(atoms.get_positions())


def degrees_of_freedom(atoms: Atoms, *, thermostatted: bool = False) -> int:
    """N_dof of the dynamics mdval runs: 3N − 3 (COM removed), 3N − 6 with rotation removed.

    ``thermostatted``: a Langevin equilibration thermalises the rotation again (only the
    centre of mass stays fixed), so such a run has 3N − 3 in both of its phases.
    """
    return max(
        1,
        _dof(
            len(atoms),
            com_removed=len(atoms) > 1,
            rotation_removed=removes_rotation(atoms) and not thermostatted,
            linear=False,
        ),
    )


def initialize_velocities(
    atoms: Atoms,
    temperature_K: float,
    rng: np.random.Generator,
    *,
    thermostatted: bool = False,
) -> None:
    """Set momenta on ``atoms`` in place.

    Draws Maxwell–Boltzmann velocities at ``temperature_K`` from ``rng``, removes the
    centre-of-mass momentum (and the rotation of an isolated molecule), then rescales so that
    the instantaneous temperature over the run's :func:`degrees_of_freedom` (``thermostatted``
    as the run is) is exactly the target: the first record reads the requested T.
    """
    thermalize_momenta(atoms, temperature_K, rng=rng)
    if len(atoms) > 1:
        Stationary(atoms)
        if removes_rotation(atoms):
            ZeroRotation(atoms)
    ekin = atoms.get_kinetic_energy()
    if ekin <= 0:
        return
    target = 0.5 * degrees_of_freedom(atoms, thermostatted=thermostatted) * units.kB * temperature_K
    atoms.set_momenta(atoms.get_momenta() * np.sqrt(target / ekin))
