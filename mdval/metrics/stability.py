"""Crash checks ("did it crash?") for a failure-detector observer, and the crash rate.

Definitions follow METRICS.md ("Stability"). The checks are pure: they look at one step (and
the total energy at the start of the NVE segment) and return a reason, or None. Raising
:class:`mdval.errors.SimulationCrashed` is the observer's job, not this module's.

Explosion is judged from quantities that do not fluctuate by design, never from a ratio of
instantaneous temperatures (a 3-atom molecule's T swings between ~0 and ~2T in NVE):

* in NVE, the total energy departing from its value at the start of the segment by more than
  ``explosion_energy_kT`` × N k_B T (a conserved quantity; the margin scales with N; T is
  the target, at least :data:`ENERGY_MARGIN_MIN_K`);
* in any phase, the kinetic temperature exceeding the target by ``explosion_excess_K``
  (10,000 K by default: a canonical 3-atom system reaches it with probability ~e^-50).

Bonds are covalent: a pair of two metal atoms is a neighbour, not a bond. A metal's
neighbours exchange and stretch by half an ångström at a few hundred kelvin (SevenNet-0, the
teacher, "collapsed" a bond of fcc Cu at 600 K against itself), so for them only an overlap
counts: closer than :data:`METAL_OVERLAP_FRACTION` of their covalent radii sum.

Reason strings start with a fixed word so that code can classify them: ``non-finite``,
``explosion``, ``bond collapse`` or ``force``.
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms
from ase.geometry import find_mic
from numpy.typing import ArrayLike

from mdval.metrics.geometry import (
    BOND_SKIN_A,
    COVALENT_RADII_A,
    Pairs,
    as_pair_indices,
    bond_pairs_of,
)
from mdval.settings import get_settings
from mdval.units import KB_EV_PER_K

#: ASE's NeighborList default skin (Å). Plain natural cutoffs (skin 0) miss real bonds: the
#: C-H bond of ASE's own methane is 1.09 Å against radii summing to 1.07 Å. In alanine
#: dipeptide, ethanol, water and methane every bond lies within +0.03 Å of the radii sum and
#: every non-bonded pair beyond +0.88 Å, so the +0.6 Å of the default separates them.
NEIGHBOR_SKIN_A: float = BOND_SKIN_A

#: The energy-departure margin uses at least this temperature (K), so that a run started
#: cold (0 K, all energy potential) is not called an explosion for moving at all.
ENERGY_MARGIN_MIN_K: float = 300.0


#: The semantics of the crash checks; part of a control's cache key, so that a control
#: judged by older checks is run again (2: metal-metal neighbours are not bonds).
CRASH_CHECKS_VERSION = 2

#: Elements that are not metals: nonmetals, noble gases and the metalloids (B, Si, Ge, As,
#: Sb, Te: covalent in their own solids, so their neighbours are bonds). Every other element
#: is a metal.
NON_METALS: frozenset[int] = frozenset(
    (1, 2, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 33, 34, 35, 36, 51, 52, 53, 54, 86)
)

#: Two metal neighbours overlap (a collapse) closer than this fraction of their covalent
#: radii sum: 1.58 Å for Cu-Cu, whose nearest-neighbour distance is 2.55 Å and whose
#: repulsive wall keeps thermal approaches above ~2.2 Å at 600 K.
METAL_OVERLAP_FRACTION = 0.6


def is_metal(numbers: ArrayLike) -> np.ndarray:
    """(N,) bool: which atomic numbers are metals (not in :data:`NON_METALS`)."""
    z = np.asarray(numbers, dtype=int).ravel()
    return ~np.isin(z, list(NON_METALS))


def crash_pairs(
    atoms: Atoms,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairs the collapse check watches, from the starting structure:
    ``(bonds, metallic)``. ``bonds`` = ``(i, j, b0_A)``: the :func:`bond_pairs` with at least
    one non-metal atom, judged by their change; ``metallic`` = ``(i, j, min_A)``: neighbour
    pairs of two metal atoms, judged only by an overlap below ``min_A``
    (:data:`METAL_OVERLAP_FRACTION` of their covalent radii sum)."""
    i, j, b0 = bond_pairs(atoms)
    metal = is_metal(atoms.get_atomic_numbers())
    both = metal[i] & metal[j]
    radii = np.asarray(COVALENT_RADII_A)[atoms.get_atomic_numbers()]
    limit = METAL_OVERLAP_FRACTION * (radii[i[both]] + radii[j[both]])
    return (i[~both], j[~both], b0[~both]), (i[both], j[both], limit)


def bond_pairs(
    atoms: Atoms, *, mult: float = 1.0, skin_A: float = NEIGHBOR_SKIN_A
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bonds of the starting structure: neighbours by ASE's natural cutoffs.

    A pair is bonded when its distance is below mult (r_i + r_j) + 2 * skin_A (covalent
    radii r; 0.6 Å over the radii at the default skin), as ASE's ``build_neighbor_list``
    finds them. In a periodic cell the minimum image counts, and an atom bonded to its own
    image is left out. Returns ``(i, j, b0_A)``: (P,) int arrays with i < j, sorted, and
    (P,) starting bond lengths in Å. One implementation with the API's (ase-free)
    :func:`mdval.metrics.geometry.bond_pairs_of`.
    """
    return bond_pairs_of(
        atoms.get_atomic_numbers(),
        atoms.get_positions(),
        np.asarray(atoms.get_cell()),
        atoms.get_pbc(),
        mult=mult,
        skin_A=skin_A,
    )


def bond_lengths_A(
    positions_A: ArrayLike,
    pairs: Pairs,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> np.ndarray:
    """(P,) lengths in Å of the bonds ``pairs`` in one frame of (N, 3) positions in Å.

    With a cell and any periodic direction, the minimum image is used.
    """
    pos = np.asarray(positions_A, dtype=np.float64)
    i, j = as_pair_indices(pairs)
    vec = pos[j] - pos[i]
    if cell is not None and pbc is not None and any(np.ravel(pbc)) and vec.size:
        _, lengths = find_mic(vec, np.asarray(cell, dtype=np.float64), np.asarray(pbc, bool))
        return np.asarray(lengths, dtype=np.float64)
    return np.sqrt(_row_squares(vec))


def _row_squares(vectors: np.ndarray) -> np.ndarray:
    """(P,) squared lengths of (P, 3) vectors (one pass; no temporary array of squares)."""
    return np.einsum("ij,ij->i", vectors, vectors)


def _bond_changes_A(
    positions_A: ArrayLike,
    pairs: Pairs,
    b0_A: ArrayLike,
    cell: ArrayLike | None,
    pbc: ArrayLike | None,
) -> np.ndarray:
    b0 = np.asarray(b0_A, dtype=np.float64).ravel()
    lengths = bond_lengths_A(positions_A, pairs, cell, pbc)
    if lengths.shape != b0.shape:
        raise ValueError(f"{lengths.size} pairs but {b0.size} starting lengths")
    return np.abs(lengths - b0)


def max_bond_change_A(
    positions_A: ArrayLike,
    pairs: Pairs,
    b0_A: ArrayLike,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> float:
    """max over bonds of |b_ij(t) - b_ij,0| in Å; 0.0 when there are no bonds.

    ``positions_A`` (N, 3) Å; ``pairs`` and ``b0_A`` as returned by :func:`bond_pairs`.
    """
    changes = _bond_changes_A(positions_A, pairs, b0_A, cell, pbc)
    return float(changes.max()) if changes.size else 0.0


def _or_default(value: float | None, default: float) -> float:
    return default if value is None else value


def check_frame(
    *,
    epot_eV: float,
    forces_eV_per_A: ArrayLike,
    positions_A: ArrayLike,
    temperature_K: float,
    target_temperature_K: float | None = None,
    etot_eV: float | None = None,
    start_etot_eV: float | None = None,
    bonds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    metallic: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
    explosion_excess_K: float | None = None,
    explosion_energy_kT: float | None = None,
    bond_collapse_A: float | None = None,
    max_force_eV_per_A: float | None = None,
) -> str | None:
    """Why this record counts as a crash, or None when it looks sound.

    Parameters
    ----------
    epot_eV
        Potential energy (eV).
    forces_eV_per_A, positions_A
        (N, 3) forces (eV/Å) and positions (Å).
    temperature_K
        Kinetic temperature of this record (K).
    target_temperature_K
        Requested temperature (K); the excess and energy checks are skipped when None.
    etot_eV, start_etot_eV
        Total energy now and at the start of the NVE segment (eV); the energy-departure
        check runs only when both are given (never in a thermostatted phase).
    bonds
        ``(i, j, b0_A)`` from :func:`bond_pairs` (or the ``bonds`` of :func:`crash_pairs`)
        on the starting structure; the collapse check is skipped when None.
    metallic
        ``(i, j, min_A)`` from :func:`crash_pairs`: metal neighbours, a collapse only when
        closer than ``min_A``; skipped when None.
    cell, pbc
        (3, 3) cell in Å and periodic flags, for minimum-image bond lengths.
    explosion_excess_K, explosion_energy_kT, bond_collapse_A, max_force_eV_per_A
        Thresholds; each defaults to the setting of the same name in
        :func:`mdval.settings.get_settings`.

    The checks run in this order and the first that fires is reported: non-finite values,
    force limit, temperature excess, energy departure, bond collapse.
    """
    settings = get_settings()
    excess = settings.explosion_excess_K if explosion_excess_K is None else explosion_excess_K
    energy_kT = settings.explosion_energy_kT if explosion_energy_kT is None else explosion_energy_kT
    collapse = settings.bond_collapse_A if bond_collapse_A is None else bond_collapse_A
    f_max = settings.max_force_eV_per_A if max_force_eV_per_A is None else max_force_eV_per_A

    forces = np.asarray(forces_eV_per_A, dtype=np.float64).reshape(-1, 3)
    positions = np.asarray(positions_A, dtype=np.float64)
    reason = _non_finite(epot_eV, forces, positions, temperature_K)
    if reason is not None:
        return reason

    if forces.size:
        norm, worst = largest_force(forces)
        if norm > f_max:
            return f"force limit: |F| = {norm:.1f} eV/Å on atom {worst} exceeds {f_max:g} eV/Å"
    if target_temperature_K is not None and temperature_K > target_temperature_K + excess:
        return (
            f"explosion: T = {temperature_K:.1f} K exceeds the target "
            f"{target_temperature_K:g} K by more than {excess:g} K"
        )
    if (
        target_temperature_K is not None
        and etot_eV is not None
        and start_etot_eV is not None
        and positions.size
    ):
        n_atoms = positions.reshape(-1, 3).shape[0]
        scale_K = max(target_temperature_K, ENERGY_MARGIN_MIN_K)
        margin = energy_kT * n_atoms * KB_EV_PER_K * scale_K
        departure = abs(etot_eV - start_etot_eV)
        if not np.isfinite(departure) or departure > margin:
            return (
                f"explosion: E_tot departed {departure:.3g} eV from its NVE start, more than "
                f"{energy_kT:g} N k_B T = {margin:.3g} eV (T = {scale_K:g} K)"
            )
    if bonds is not None:
        i, j, b0 = bonds
        changes = _bond_changes_A(positions, (i, j), b0, cell, pbc)
        if changes.size:
            k = int(changes.argmax())
            if changes[k] > collapse:
                return (
                    f"bond collapse: bond {int(i[k])}-{int(j[k])} changed by "
                    f"{changes[k]:.2f} Å from {float(b0[k]):.2f} Å (limit {collapse:g} Å)"
                )
    if metallic is not None and metallic[0].size:
        i, j, min_A = metallic
        short = min_A - bond_lengths_A(positions, (i, j), cell, pbc)
        k = int(short.argmax())
        if short[k] > 0:
            return (
                f"bond collapse: metal atoms {int(i[k])}-{int(j[k])} overlap at "
                f"{float(min_A[k] - short[k]):.2f} Å, closer than {METAL_OVERLAP_FRACTION:g} "
                f"of their covalent radii sum ({float(min_A[k]):.2f} Å)"
            )
    return None


def largest_force(forces_eV_per_A: np.ndarray) -> tuple[float, int]:
    """``(|F|, atom)``: the largest force norm of (N, 3) forces in eV/Å, and its atom (the
    first of equals; N >= 1)."""
    squares = _row_squares(np.asarray(forces_eV_per_A, dtype=np.float64).reshape(-1, 3))
    worst = int(squares.argmax())
    return math.sqrt(squares[worst]), worst


def _non_finite(
    epot_eV: float, forces: np.ndarray, positions: np.ndarray, temperature_K: float
) -> str | None:
    """The first non-finite value of a frame (energy, forces, positions, temperature), or
    None. A finite sum has only finite terms (NaN and ±inf propagate through it), so a sound
    frame costs two sums; only a frame that fails them is searched value by value (a sum
    that overflows with every value finite is searched and passes)."""
    if (
        math.isfinite(epot_eV)
        and math.isfinite(temperature_K)
        and math.isfinite(forces.sum())
        and math.isfinite(positions.sum())
    ):
        return None
    if not math.isfinite(epot_eV):
        return f"non-finite energy (E_pot = {epot_eV})"
    if not np.isfinite(forces).all():
        return "non-finite forces"
    if not np.isfinite(positions).all():
        return "non-finite positions"
    if not math.isfinite(temperature_K):
        return f"non-finite temperature (T = {temperature_K})"
    return None


def crash_rate(n_crashed: int, n_finished: int) -> float | None:
    """Crashed runs / finished runs (completed + crashed); None when none finished."""
    if n_crashed < 0 or n_finished < 0 or n_crashed > n_finished:
        raise ValueError(
            f"need 0 <= n_crashed <= n_finished, got n_crashed={n_crashed}, n_finished={n_finished}"
        )
    if n_finished == 0:
        return None
    return n_crashed / n_finished
