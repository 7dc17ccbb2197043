"""Unit conversions, done once at the boundary.

Inside mdval everything is in ASE units (eV, Å, amu, ASE time). Reports use fs and ps.
One ASE time unit is about 10.18 fs; mixing the two is the classic drift-report bug.
"""

from __future__ import annotations

from ase import units

FS_PER_ASE_TIME: float = 1.0 / units.fs
PS_PER_ASE_TIME: float = FS_PER_ASE_TIME / 1000.0
KB_EV_PER_K: float = units.kB


def fs_to_ase(time_fs: float) -> float:
    """Femtoseconds to ASE time units."""
    return time_fs * units.fs


def ase_to_ps(time_ase: float) -> float:
    """ASE time units to picoseconds."""
    return time_ase * PS_PER_ASE_TIME
