"""Geometry of atoms without ase: element tables, minimum image, bonds.

numpy only, so that the API process (which never imports ase or torch) can compute what the
dashboard shows with the same functions the worker uses. The tables are ASE's
(``ase.data.chemical_symbols`` and ``covalent_radii``, Cordero et al. 2008; a test checks
that they still agree). Positions and cells are in Å.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

#: Bonds as ``(i, j)``, ``(i, j, b0_A)`` (from :func:`bond_pairs_of`) or a (P, 2) index array.
Pairs = tuple[np.ndarray, ...] | np.ndarray

#: ASE's neighbour-list skin (Å): a bond when d < r_i + r_j + 2 * skin (see
#: :data:`mdval.metrics.stability.NEIGHBOR_SKIN_A`).
BOND_SKIN_A: float = 0.3

#: Displacement vectors handled per block in the all-pairs searches (bounds memory).
_CHUNK: int = 1 << 18

CHEMICAL_SYMBOLS: tuple[str, ...] = (
    "X",
    "H",
    "He",
    "Li",
    "Be",
    "B",
    "C",
    "N",
    "O",
    "F",
    "Ne",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "Ar",
    "K",
    "Ca",
    "Sc",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
    "Cu",
    "Zn",
    "Ga",
    "Ge",
    "As",
    "Se",
    "Br",
    "Kr",
    "Rb",
    "Sr",
    "Y",
    "Zr",
    "Nb",
    "Mo",
    "Tc",
    "Ru",
    "Rh",
    "Pd",
    "Ag",
    "Cd",
    "In",
    "Sn",
    "Sb",
    "Te",
    "I",
    "Xe",
    "Cs",
    "Ba",
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Pm",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Hf",
    "Ta",
    "W",
    "Re",
    "Os",
    "Ir",
    "Pt",
    "Au",
    "Hg",
    "Tl",
    "Pb",
    "Bi",
    "Po",
    "At",
    "Rn",
    "Fr",
    "Ra",
    "Ac",
    "Th",
    "Pa",
    "U",
    "Np",
    "Pu",
    "Am",
    "Cm",
    "Bk",
    "Cf",
    "Es",
    "Fm",
    "Md",
    "No",
    "Lr",
    "Rf",
    "Db",
    "Sg",
    "Bh",
    "Hs",
    "Mt",
    "Ds",
    "Rg",
    "Cn",
    "Nh",
    "Fl",
    "Mc",
    "Lv",
    "Ts",
    "Og",
)

COVALENT_RADII_A: tuple[float, ...] = (
    0.2,
    0.31,
    0.28,
    1.28,
    0.96,
    0.84,
    0.76,
    0.71,
    0.66,
    0.57,
    0.58,
    1.66,
    1.41,
    1.21,
    1.11,
    1.07,
    1.05,
    1.02,
    1.06,
    2.03,
    1.76,
    1.7,
    1.6,
    1.53,
    1.39,
    1.39,
    1.32,
    1.26,
    1.24,
    1.32,
    1.22,
    1.22,
    1.2,
    1.19,
    1.2,
    1.2,
    1.16,
    2.2,
    1.95,
    1.9,
    1.75,
    1.64,
    1.54,
    1.47,
    1.46,
    1.42,
    1.39,
    1.45,
    1.44,
    1.42,
    1.39,
    1.39,
    1.38,
    1.39,
    1.4,
    2.44,
    2.15,
    2.07,
    2.04,
    2.03,
    2.01,
    1.99,
    1.98,
    1.98,
    1.96,
    1.94,
    1.92,
    1.92,
    1.89,
    1.9,
    1.87,
    1.87,
    1.75,
    1.7,
    1.62,
    1.51,
    1.44,
    1.41,
    1.36,
    1.36,
    1.32,
    1.45,
    1.46,
    1.48,
    1.4,
    1.5,
    1.5,
    2.6,
    2.21,
    2.15,
    2.06,
    2.0,
    1.96,
    1.9,
    1.87,
    1.8,
    1.69,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
    2.0,
)

_NUMBER_OF = {symbol: z for z, symbol in enumerate(CHEMICAL_SYMBOLS)}


def atomic_numbers(symbols: Sequence[str]) -> np.ndarray:
    """(N,) atomic numbers of element symbols; ValueError naming an unknown symbol."""
    try:
        return np.array([_NUMBER_OF[s] for s in symbols], dtype=int)
    except KeyError as exc:
        raise ValueError(f"unknown element symbol {exc.args[0]!r}") from None


def as_pair_indices(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) index arrays from a tuple ``(i, j)`` / ``(i, j, b0)`` or a (P, 2) array."""
    if isinstance(pairs, tuple):
        i, j = pairs[0], pairs[1]
    else:
        arr = np.asarray(pairs)
        if arr.size == 0:
            arr = arr.reshape(0, 2)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"pairs must be (i, j) or have shape (P, 2), got {arr.shape}")
        i, j = arr[:, 0], arr[:, 1]
    i_arr = np.asarray(i, dtype=np.intp).ravel()
    j_arr = np.asarray(j, dtype=np.intp).ravel()
    if i_arr.shape != j_arr.shape:
        raise ValueError(f"pair index arrays differ in length: {i_arr.size} vs {j_arr.size}")
    return i_arr, j_arr


def is_periodic(cell: ArrayLike | None, pbc: ArrayLike | None) -> bool:
    """Minimum image applies when a cell is given and some direction of ``pbc`` is periodic."""
    return cell is not None and pbc is not None and bool(np.any(pbc))


def minimum_image(vectors: ArrayLike, cell: ArrayLike | None, pbc: ArrayLike | None) -> np.ndarray:
    """(..., 3) displacement vectors in Å as their shortest periodic images.

    Orthorhombic cells: each periodic component wrapped (exact). Other cells: wrapped in
    fractional coordinates, then the shortest of the 27 neighbouring images (exact for
    cells that are not extremely skewed, as ASE's ``find_mic`` after its reduction).
    Without a periodic direction the vectors are returned as they are.
    """
    vec = np.asarray(vectors, dtype=np.float64)
    if not is_periodic(cell, pbc) or vec.size == 0:
        return vec
    cell_arr = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    pbc_arr = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    lengths = np.linalg.norm(cell_arr, axis=1)
    periodic = pbc_arr & (lengths > 0.0)
    if not periodic.any():
        return vec
    if np.allclose(cell_arr, np.diag(np.diag(cell_arr))):
        out = vec.copy()
        box = np.diag(cell_arr)[periodic]
        out[..., periodic] -= box * np.round(out[..., periodic] / box)
        return out
    frac = vec @ np.linalg.pinv(cell_arr)
    frac[..., periodic] -= np.round(frac[..., periodic])
    base = frac @ cell_arr
    ranges = [(-1, 0, 1) if p else (0,) for p in periodic]
    shifts = np.array(list(itertools.product(*ranges)), dtype=np.float64) @ cell_arr  # (S, 3)
    flat = base.reshape(-1, 3)
    out_flat = np.empty_like(flat)
    step = max(1, _CHUNK // len(shifts))
    for start in range(0, len(flat), step):
        cand = flat[start : start + step, None, :] + shifts[None]  # (c, S, 3)
        best = np.argmin(np.einsum("csk,csk->cs", cand, cand), axis=1)
        out_flat[start : start + step] = cand[np.arange(len(cand)), best]
    return out_flat.reshape(vec.shape)


def bond_pairs_of(
    numbers: ArrayLike,
    positions_A: ArrayLike,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
    *,
    mult: float = 1.0,
    skin_A: float = BOND_SKIN_A,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bonds of one frame: pairs closer than mult (r_i + r_j) + 2 skin_A (covalent radii r).

    As ASE's ``NeighborList(natural_cutoffs(atoms, mult), skin=skin_A)`` (what METRICS.md
    names the bonds), with the minimum image in a periodic cell; an atom is never bonded to
    its own image. Returns ``(i, j, d_A)``: (P,) int arrays with i < j, sorted, and (P,)
    bond lengths in Å.
    """
    z = np.asarray(numbers, dtype=int).ravel()
    pos = np.asarray(positions_A, dtype=np.float64).reshape(-1, 3)
    if z.size != len(pos):
        raise ValueError(f"{z.size} atomic numbers for {len(pos)} atoms")
    radii = mult * np.asarray(COVALENT_RADII_A)[z] + skin_A
    n = len(pos)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    rows = max(1, _CHUNK // max(1, n))
    for start in range(0, max(0, n - 1), rows):
        a = np.arange(start, min(n - 1, start + rows))
        vec = minimum_image(pos[None, :, :] - pos[a, None, :], cell, pbc)  # (c, N, 3)
        d = np.linalg.norm(vec, axis=-1)
        upper = np.arange(n)[None, :] > a[:, None]
        hit = upper & (d < radii[a, None] + radii[None, :])
        ii, jj = np.nonzero(hit)
        out_i.append(a[ii])
        out_j.append(jj)
        out_d.append(d[ii, jj])
    if not out_i:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy(), np.zeros(0, dtype=np.float64)
    i = np.concatenate(out_i).astype(np.intp)
    j = np.concatenate(out_j).astype(np.intp)
    dist = np.concatenate(out_d)
    order = np.lexsort((j, i))
    return i[order], j[order], dist[order]
