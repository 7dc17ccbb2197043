"""Equilibrium observables: a model's NVE production trajectory against the control's.

Definitions follow METRICS.md ("Equilibrium observables"). The control is the reference
potential run under the same protocol; unlike :mod:`.comparison`, the two trajectories are
compared as samples of distributions, not frame by frame. Positions are in Å, (frames, N, 3);
velocities in Å/fs; masses in amu; times in ps; angles in degrees.

Distances between distributions are Wasserstein-1 (:func:`scipy.stats.wasserstein_distance`,
in the unit of the quantity) between the pooled samples of all frames, and the Jensen-Shannon
divergence (base 2) of the phi/psi histograms of alanine dipeptide. Each is finite-sample
noisy: :func:`observables_noise` gives the same distances between the two halves of the
control, the floor below which a model's distance means nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from ase import Atoms, units
from ase.cell import Cell
from ase.data import atomic_masses, chemical_symbols
from ase.geometry import find_mic
from numpy.typing import ArrayLike
from scipy.stats import wasserstein_distance

from mdval.metrics.comparison import (
    alanine_dipeptide_phi_psi_indices,
    as_frames,
    dihedral_deg,
    phi_psi_js_divergence,
)
from mdval.metrics.stability import Pairs, as_pair_indices
from mdval.metrics.vdos import VDOS_MIN_FRAMES, vdos, vdos_w1_THz

#: The keys of :func:`equilibrium_observables` and :func:`observables_noise`, in report order.
OBSERVABLE_METRICS: tuple[str, ...] = (
    "rdf_w1_A",
    "bond_length_w1_A",
    "bond_length_w1_A_by_type",
    "bond_angle_w1_deg",
    "bond_angle_w1_deg_by_type",
    "dihedral_js",
    "vdos_w1_THz",
    "n_frames_model",
    "n_frames_control",
)

#: Fewest frames in each trajectory for the distances to be computed (else they are None).
OBSERVABLES_MIN_FRAMES: int = 2

#: Displacement vectors per call of :func:`ase.geometry.find_mic` (bounds its memory).
_MIC_CHUNK: int = 1 << 18


def _frames(positions_A: ArrayLike, name: str = "positions") -> np.ndarray:
    """(frames, N, 3) from (N, 3) or (frames, N, 3)."""
    return as_frames(positions_A, name)


def _numbers(numbers: ArrayLike, n_atoms: int) -> np.ndarray:
    z = np.asarray(numbers, dtype=int).ravel()
    if z.size != n_atoms:
        raise ValueError(f"{z.size} atomic numbers for {n_atoms} atoms")
    return z


def _is_periodic(cell: ArrayLike | None, pbc: ArrayLike | None) -> bool:
    """Minimum image applies when a cell is given and some direction of ``pbc`` is periodic."""
    return cell is not None and pbc is not None and bool(np.any(pbc))


def _mic(vectors: np.ndarray, cell: ArrayLike | None, pbc: ArrayLike | None) -> np.ndarray:
    """(..., 3) displacement vectors in Å, as minimum images when the cell is periodic."""
    if not _is_periodic(cell, pbc) or vectors.size == 0:
        return vectors
    cell_arr = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    pbc_arr = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    if Cell(cell_arr).orthorhombic:
        # Exact and fast: wrap each periodic component. (find_mic would fall back to its
        # 27-image search for every vector longer than half the shortest cell length,
        # which most all-pair vectors are.)
        lengths = np.diag(cell_arr)
        periodic = pbc_arr & (lengths > 0.0)
        out_ortho = vectors.copy()
        box = lengths[periodic]
        out_ortho[..., periodic] -= box * np.round(out_ortho[..., periodic] / box)
        return out_ortho
    flat = vectors.reshape(-1, 3)
    out = np.empty_like(flat)
    for start in range(0, flat.shape[0], _MIC_CHUNK):
        out[start : start + _MIC_CHUNK], _ = find_mic(
            flat[start : start + _MIC_CHUNK], cell_arr, pbc_arr
        )
    return out.reshape(vectors.shape)


def pair_label(z_a: int, z_b: int) -> str:
    """Element-pair label, symbols sorted: ``pair_label(8, 1) == "H-O"``."""
    a, b = sorted((chemical_symbols[int(z_a)], chemical_symbols[int(z_b)]))
    return f"{a}-{b}"


def angle_label(z_outer_a: int, z_centre: int, z_outer_b: int) -> str:
    """Angle-type label, centre in the middle and outer symbols sorted: ``"H-C-H"``, ``"C-C-H"``."""
    a, b = sorted((chemical_symbols[int(z_outer_a)], chemical_symbols[int(z_outer_b)]))
    return f"{a}-{chemical_symbols[int(z_centre)]}-{b}"


def _pooled_by_label(values: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """(F, P) values and P column labels -> {label: all values of its columns}, keys sorted."""
    label_arr = np.asarray(labels, dtype=object)
    return {str(label): values[:, label_arr == label].ravel() for label in sorted(set(labels))}


@overload
def pair_distances_A(
    positions: ArrayLike,
    cell: ArrayLike | None = ...,
    pbc: ArrayLike | None = ...,
    pairs_of: None = ...,
    *,
    r_max_A: float | None = ...,
) -> np.ndarray: ...


@overload
def pair_distances_A(
    positions: ArrayLike,
    cell: ArrayLike | None,
    pbc: ArrayLike | None,
    pairs_of: ArrayLike,
    *,
    r_max_A: float | None = ...,
) -> dict[str, np.ndarray]: ...


@overload
def pair_distances_A(
    positions: ArrayLike,
    cell: ArrayLike | None = ...,
    pbc: ArrayLike | None = ...,
    *,
    pairs_of: ArrayLike,
    r_max_A: float | None = ...,
) -> dict[str, np.ndarray]: ...


def pair_distances_A(
    positions: ArrayLike,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
    pairs_of: ArrayLike | None = None,
    *,
    r_max_A: float | None = None,
) -> np.ndarray | dict[str, np.ndarray]:
    """Distances in Å of all atom pairs i < j in every frame, pooled over frames.

    Parameters
    ----------
    positions
        (F, N, 3) or (N, 3) positions in Å.
    cell, pbc
        (3, 3) cell in Å and (3,) periodic flags; with both given and any direction periodic,
        distances are minimum-image (:func:`ase.geometry.find_mic`).
    pairs_of
        (N,) atomic numbers: return the distances per element pair instead.
    r_max_A
        Keep only distances <= r_max_A (e.g. half the cell width, beyond which the minimum
        image shapes the distribution). Default: all.

    Returns
    -------
    np.ndarray or dict
        (F * N(N-1)/2,) distances (fewer with ``r_max_A``), frame-major; with ``pairs_of``,
        ``{"C-H": (...,), "H-H": ..., ...}`` labelled by :func:`pair_label`, keys sorted.
    """
    frames = _frames(positions)
    n_atoms = frames.shape[1]
    i, j = np.triu_indices(n_atoms, k=1)
    chunk = max(1, _MIC_CHUNK // max(1, i.size))
    dist = np.empty((frames.shape[0], i.size), dtype=np.float64)
    for start in range(0, frames.shape[0], chunk):
        block = frames[start : start + chunk]
        vec = _mic(block[:, j] - block[:, i], cell, pbc)
        dist[start : start + chunk] = np.linalg.norm(vec, axis=-1)

    def keep(values: np.ndarray) -> np.ndarray:
        return values if r_max_A is None else values[values <= r_max_A]

    if pairs_of is None:
        return keep(dist.ravel())
    z = _numbers(pairs_of, n_atoms)
    labels = [pair_label(a, b) for a, b in zip(z[i], z[j], strict=True)]
    return {label: keep(values) for label, values in _pooled_by_label(dist, labels).items()}


def bond_lengths_by_type(
    positions: ArrayLike,
    numbers: ArrayLike,
    bonds: Pairs,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Bond lengths in Å per bond type, pooled over frames.

    ``positions`` (F, N, 3) or (N, 3) in Å; ``numbers`` (N,); ``bonds`` the bonded pairs as
    ``(i, j)``, ``(i, j, b0)`` or (P, 2) (e.g. :func:`mdval.metrics.stability.bond_pairs` of
    the starting structure: the same bonds in every frame). Minimum image with a periodic
    cell. Returns ``{"C-H": (F * P_CH,), "H-O": ...}`` labelled by :func:`pair_label`, keys
    sorted; empty without bonds.
    """
    frames = _frames(positions)
    z = _numbers(numbers, frames.shape[1])
    i, j = as_pair_indices(bonds)
    if i.size == 0:
        return {}
    lengths = np.linalg.norm(_mic(frames[:, j] - frames[:, i], cell, pbc), axis=-1)  # (F, P)
    labels = [pair_label(a, b) for a, b in zip(z[i], z[j], strict=True)]
    return _pooled_by_label(lengths, labels)


def angle_triples(bonds: Pairs) -> np.ndarray:
    """(T, 3) bonded triples (j, i, k): atom i bonded to both j and k, j < k.

    Every pair of neighbours of every atom, in order of the centre i. Empty (0, 3) when no
    atom has two bonds.
    """
    i_arr, j_arr = as_pair_indices(bonds)
    neighbours: dict[int, set[int]] = {}
    for a, b in zip(i_arr.tolist(), j_arr.tolist(), strict=True):
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    triples = [
        (j, centre, k)
        for centre in sorted(neighbours)
        for n, j in enumerate(sorted(neighbours[centre]))
        for k in sorted(neighbours[centre])[n + 1 :]
    ]
    return np.asarray(triples, dtype=np.intp).reshape(-1, 3)


def bond_angles_by_type(
    positions: ArrayLike,
    numbers: ArrayLike,
    bonds: Pairs,
    cell: ArrayLike | None = None,
    pbc: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Bond angles j-i-k in degrees, in [0, 180], per angle type, pooled over frames.

    Arguments as for :func:`bond_lengths_by_type`; the triples are :func:`angle_triples` of
    ``bonds``. The angle is that between the (minimum-image) vectors i->j and i->k. Returns
    ``{"H-C-H": (F * T_HCH,), "H-O-H": ...}`` labelled by :func:`angle_label`, keys sorted;
    empty when no atom has two bonds.
    """
    frames = _frames(positions)
    z = _numbers(numbers, frames.shape[1])
    triples = angle_triples(bonds)
    if triples.shape[0] == 0:
        return {}
    j, i, k = triples.T
    a = _mic(frames[:, j] - frames[:, i], cell, pbc)
    b = _mic(frames[:, k] - frames[:, i], cell, pbc)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    angles = np.degrees(np.arctan2(cross, np.einsum("fpx,fpx->fp", a, b)))  # (F, T)
    labels = [angle_label(z[p], z[q], z[r]) for p, q, r in triples]
    return _pooled_by_label(angles, labels)


@dataclass(frozen=True, eq=False, kw_only=True)
class TrajectorySample:
    """One production trajectory, as arrays (keyword-only fields).

    ``positions`` (F, N, 3) Å; ``velocities`` (F, N, 3) Å/fs or None; ``numbers`` (N,);
    ``masses`` (N,) amu or None for ASE's standard masses; ``cell`` (3, 3) Å and ``pbc``
    (3,) or None (fixed over the trajectory, as in NVE); ``frame_interval_ps`` the time
    between frames in ps (needed only for the VDOS).
    """

    positions: np.ndarray
    velocities: np.ndarray | None = None
    numbers: np.ndarray
    masses: np.ndarray | None = None
    cell: np.ndarray | None = None
    pbc: np.ndarray | None = None
    frame_interval_ps: float | None = None

    def __post_init__(self) -> None:
        pos = _frames(self.positions)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "numbers", _numbers(self.numbers, pos.shape[1]))
        if self.velocities is not None:
            vel = np.asarray(self.velocities, dtype=np.float64)
            if vel.shape != pos.shape:
                raise ValueError(f"velocities {vel.shape} differ from positions {pos.shape}")
            object.__setattr__(self, "velocities", vel)
        if self.masses is not None:
            m = np.asarray(self.masses, dtype=np.float64).ravel()
            if m.size != pos.shape[1]:
                raise ValueError(f"{m.size} masses for {pos.shape[1]} atoms")
            object.__setattr__(self, "masses", m)
        if self.cell is not None:
            object.__setattr__(self, "cell", np.asarray(self.cell, dtype=np.float64).reshape(3, 3))
        if self.pbc is not None:
            pbc = np.broadcast_to(np.asarray(self.pbc, dtype=bool), (3,)).copy()
            object.__setattr__(self, "pbc", pbc)
        if self.frame_interval_ps is not None and not self.frame_interval_ps > 0:
            raise ValueError(f"frame_interval_ps must be positive, got {self.frame_interval_ps}")

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def masses_amu(self) -> np.ndarray:
        """(N,) masses in amu: ``masses``, or ASE's standard masses of ``numbers``."""
        return self.masses if self.masses is not None else atomic_masses[self.numbers]

    def frames(self, start: int, stop: int) -> TrajectorySample:
        """The frames [start, stop) as a new sample."""
        return TrajectorySample(
            positions=self.positions[start:stop],
            velocities=None if self.velocities is None else self.velocities[start:stop],
            numbers=self.numbers,
            masses=self.masses,
            cell=self.cell,
            pbc=self.pbc,
            frame_interval_ps=self.frame_interval_ps,
        )

    def finite(self) -> TrajectorySample:
        """The leading frames with finite positions (and velocities): a crashed run's good part."""
        ok = np.all(np.isfinite(self.positions), axis=(1, 2))
        if self.velocities is not None:
            ok &= np.all(np.isfinite(self.velocities), axis=(1, 2))
        bad = np.flatnonzero(~ok)
        return self if bad.size == 0 else self.frames(0, int(bad[0]))

    @classmethod
    def from_atoms(
        cls, frames: Sequence[Atoms], frame_interval_ps: float | None = None
    ) -> TrajectorySample:
        """From ASE frames (e.g. ``ase.io.read(path, ":")``); velocities when all have momenta.

        ASE velocities (Å per ASE time unit) are converted to Å/fs. Numbers, masses, cell and
        pbc come from the first frame.
        """
        if not frames:
            raise ValueError("no frames")
        first = frames[0]
        has_v = all(atoms.has("momenta") for atoms in frames)
        return cls(
            positions=np.array([atoms.get_positions() for atoms in frames]),
            velocities=(
                np.array([atoms.get_velocities() * units.fs for atoms in frames]) if has_v else None
            ),
            numbers=first.get_atomic_numbers(),
            masses=first.get_masses(),
            cell=np.asarray(first.get_cell()) if any(first.pbc) else None,
            pbc=np.asarray(first.pbc) if any(first.pbc) else None,
            frame_interval_ps=frame_interval_ps,
        )


def _w1(u: np.ndarray, v: np.ndarray) -> float | None:
    if u.size == 0 or v.size == 0:
        return None
    value = float(wasserstein_distance(u, v))
    return value if np.isfinite(value) else None


def _w1_by_type(model: dict[str, np.ndarray], control: dict[str, np.ndarray]) -> dict[str, float]:
    """W1 per type present (non-empty) in both; types in only one are skipped."""
    out: dict[str, float] = {}
    for label in sorted(set(model) & set(control)):
        value = _w1(model[label], control[label])
        if value is not None:
            out[label] = value
    return out


def _phi_psi_deg(sample: TrajectorySample, indices: tuple[int, int, int, int]) -> np.ndarray:
    """(F,) dihedral in degrees, with the four atoms made whole by the minimum image."""
    atoms = sample.positions[:, list(indices)]  # (F, 4, 3)
    bonds = _mic(np.diff(atoms, axis=1), sample.cell, sample.pbc)
    whole = np.concatenate([atoms[:, :1], atoms[:, :1] + np.cumsum(bonds, axis=1)], axis=1)
    return np.asarray(dihedral_deg(whole, 0, 1, 2, 3), dtype=np.float64)


def _dihedral_js(model: TrajectorySample, control: TrajectorySample, bins: int) -> float | None:
    start = Atoms(
        numbers=control.numbers,
        positions=control.positions[0],
        cell=control.cell,
        pbc=control.pbc if control.pbc is not None else False,
    )
    found = alanine_dipeptide_phi_psi_indices(start)
    if found is None:
        return None
    phi, psi = found
    per_run = [
        np.column_stack([_phi_psi_deg(run, phi), _phi_psi_deg(run, psi)])
        for run in (model, control)
    ]
    return float(phi_psi_js_divergence(per_run[0], per_run[1], bins=bins))


def _vdos_w1(
    model: TrajectorySample, control: TrajectorySample, max_lag_ps: float | None
) -> float | None:
    spectra = []
    for run in (model, control):
        if (
            run.velocities is None
            or run.frame_interval_ps is None
            or run.n_frames < VDOS_MIN_FRAMES
        ):
            return None
        try:
            spectra.append(
                vdos(run.velocities, run.masses_amu, run.frame_interval_ps, max_lag_ps=max_lag_ps)
            )
        except ValueError:  # zero velocities, or too few lags for max_lag_ps
            return None
    return vdos_w1_THz(spectra[0], spectra[1])


def _max_or_none(values: dict[str, float]) -> float | None:
    return max(values.values()) if values else None


def equilibrium_observables(
    model: TrajectorySample,
    control: TrajectorySample,
    *,
    bonds: Pairs,
    rdf_r_max_A: float | None = None,
    dihedral_bins: int = 36,
    vdos_max_lag_ps: float | None = None,
) -> dict[str, Any]:
    """Distances between the equilibrium distributions of the model and the control.

    Parameters
    ----------
    model, control
        The production trajectories of the same system (same atomic numbers, in the same
        order). Only the leading frames with finite positions and velocities are used
        (:meth:`TrajectorySample.finite`), so a run that crashed contributes its good part.
    bonds
        Bonds of the starting structure, ``(i, j)``, ``(i, j, b0)`` or (P, 2), e.g.
        :func:`mdval.metrics.stability.bond_pairs`; they define the bond and angle types.
    rdf_r_max_A
        Pair distances beyond it are left out of ``rdf_w1_A`` (see :func:`pair_distances_A`).
        Default: all pairs.
    dihedral_bins
        phi/psi histogram bins per axis over [-180, 180] (36: 10 degrees).
    vdos_max_lag_ps
        Longest VACF lag of the VDOS (see :func:`mdval.metrics.vdos.vdos`).

    Returns
    -------
    dict
        Exactly the keys of :data:`OBSERVABLE_METRICS`, JSON-ready:

        - ``rdf_w1_A``: W1 (Å) between the pooled all-pair distance distributions (minimum
          image with the control's cell);
        - ``bond_length_w1_A_by_type`` / ``bond_angle_w1_deg_by_type``: W1 per bond type (Å)
          and angle type (degrees), for types found in both; ``bond_length_w1_A`` /
          ``bond_angle_w1_deg``: their maximum, None when there is no type;
        - ``dihedral_js``: JS divergence (base 2, [0, 1]) of the phi/psi histograms when the
          control's first frame is alanine dipeptide (Ace-Ala-NMe), else None;
        - ``vdos_w1_THz``: W1 (THz) between the VDOS, None without velocities or frame
          interval in either run or with fewer than :data:`~mdval.metrics.vdos.VDOS_MIN_FRAMES`
          frames;
        - ``n_frames_model``, ``n_frames_control``: frames used.

        With fewer than :data:`OBSERVABLES_MIN_FRAMES` frames in either run every distance
        is None.
    """
    if not np.array_equal(model.numbers, control.numbers):
        raise ValueError("model and control are not the same system (atomic numbers differ)")
    model = model.finite()
    control = control.finite()
    out: dict[str, Any] = dict.fromkeys(OBSERVABLE_METRICS)
    out["n_frames_model"] = model.n_frames
    out["n_frames_control"] = control.n_frames
    if min(model.n_frames, control.n_frames) < OBSERVABLES_MIN_FRAMES:
        return out

    cell, pbc = control.cell, control.pbc
    out["rdf_w1_A"] = _w1(
        pair_distances_A(model.positions, cell, pbc, r_max_A=rdf_r_max_A),
        pair_distances_A(control.positions, cell, pbc, r_max_A=rdf_r_max_A),
    )
    lengths = _w1_by_type(
        bond_lengths_by_type(model.positions, model.numbers, bonds, cell, pbc),
        bond_lengths_by_type(control.positions, control.numbers, bonds, cell, pbc),
    )
    out["bond_length_w1_A_by_type"] = lengths
    out["bond_length_w1_A"] = _max_or_none(lengths)
    angles = _w1_by_type(
        bond_angles_by_type(model.positions, model.numbers, bonds, cell, pbc),
        bond_angles_by_type(control.positions, control.numbers, bonds, cell, pbc),
    )
    out["bond_angle_w1_deg_by_type"] = angles
    out["bond_angle_w1_deg"] = _max_or_none(angles)
    out["dihedral_js"] = _dihedral_js(model, control, dihedral_bins)
    out["vdos_w1_THz"] = _vdos_w1(model, control, vdos_max_lag_ps)
    return out


def observables_noise(
    control: TrajectorySample,
    *,
    bonds: Pairs,
    rdf_r_max_A: float | None = None,
    dihedral_bins: int = 36,
    vdos_max_lag_ps: float | None = None,
) -> dict[str, Any]:
    """The noise floor of :func:`equilibrium_observables`: the control against itself.

    The control's (finite) frames are split into two equal consecutive halves (an odd last
    frame is dropped) and the first half is compared with the second exactly as a model is
    with the control. Returns the same keys, with the same names: here ``n_frames_model`` is
    the first half and ``n_frames_control`` the second.

    A model's distance is only meaningful where it clearly exceeds this one. The floor errs
    high: each half has half the frames, so for independent frames its distances are about
    sqrt(2) times those between two full-length runs of the same distribution (W1 of two
    samples of sizes n and m scales as sqrt(1/n + 1/m)). It also contains any slow drift
    between the halves (incomplete equilibration, correlation times comparable to the run),
    which a model run of the same length would show as well.
    """
    control = control.finite()
    half = control.n_frames // 2
    return equilibrium_observables(
        control.frames(0, half),
        control.frames(half, 2 * half),
        bonds=bonds,
        rdf_r_max_A=rdf_r_max_A,
        dihedral_bins=dihedral_bins,
        vdos_max_lag_ps=vdos_max_lag_ps,
    )
