"""Trajectory frames for the 3D view and the student-vs-teacher comparison, numpy only
(the API process never imports ase): an extended-XYZ reader, bonds from covalent radii
(as mdval's ``bond_pairs``: ASE's natural cutoffs with its neighbour-list skin, a bond
when d < r_i + r_j + 2 × 0.3 Å), Kabsch RMSD, h(r) and the
alanine-dipeptide backbone dihedrals. Positions in Å, times in ps, angles in degrees.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Covalent radii (Å) of Cordero et al. 2008, as ASE uses them; others fall back to 1.5 Å.
COVALENT_RADII_A = {
    "H": 0.31,
    "He": 0.28,
    "Li": 1.28,
    "Be": 0.96,
    "B": 0.84,
    "C": 0.76,
    "N": 0.71,
    "O": 0.66,
    "F": 0.57,
    "Ne": 0.58,
    "Na": 1.66,
    "Mg": 1.41,
    "Al": 1.21,
    "Si": 1.11,
    "P": 1.07,
    "S": 1.05,
    "Cl": 1.02,
    "Ar": 1.06,
    "K": 2.03,
    "Ca": 1.76,
    "Ti": 1.60,
    "V": 1.53,
    "Cr": 1.39,
    "Mn": 1.39,
    "Fe": 1.32,
    "Co": 1.26,
    "Ni": 1.24,
    "Cu": 1.32,
    "Zn": 1.22,
    "Ga": 1.22,
    "Ge": 1.20,
    "As": 1.19,
    "Se": 1.20,
    "Br": 1.20,
    "Kr": 1.16,
    "Pd": 1.39,
    "Ag": 1.45,
    "Sn": 1.39,
    "I": 1.39,
    "Pt": 1.36,
    "Au": 1.36,
}
DEFAULT_RADIUS_A = 1.5
#: Neighbour-list skin of mdval's bond detection (a bond: d < r_i + r_j + 2 skin).
BOND_SKIN_A = 0.3
#: Above this many atoms no bonds are drawn (O(N²) search, and the view would be a blur).
MAX_ATOMS_FOR_BONDS = 2000
#: How much of a trajectory file's end is read to find its last frame (grows if needed).
TAIL_BYTES = 256 * 1024

_PAIR = re.compile(r'(\w+)=("[^"]*"|\S+)')


@dataclass
class Frame:
    """One frame: symbols (N,), positions (N, 3) Å, cell (3, 3) Å or None, comment info."""

    symbols: list[str]
    positions: np.ndarray
    cell: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def time_ps(self) -> float | None:
        value = self.info.get("time_ps")
        return float(value) if value is not None else None


def _info(comment: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, raw in _PAIR.findall(comment):
        value = raw.strip('"')
        try:
            info[key] = float(value) if key != "Properties" else value
        except ValueError:
            info[key] = value
    return info


def _frame(lines: list[str], start: int) -> tuple[Frame, int] | None:
    """The frame starting at ``lines[start]`` and the index after it; None if incomplete."""
    try:
        n = int(lines[start].strip())
    except (ValueError, IndexError):
        return None
    if n <= 0 or start + 2 + n > len(lines):
        return None
    info = _info(lines[start + 1])
    symbols, coords = [], []
    for line in lines[start + 2 : start + 2 + n]:
        parts = line.split()
        if len(parts) < 4:
            return None
        symbols.append(parts[0])
        coords.append(parts[1:4])
    try:
        positions = np.asarray(coords, dtype=float)
    except ValueError:
        return None
    cell = None
    lattice = info.pop("Lattice", None)
    if isinstance(lattice, str):
        values = lattice.split()
        if len(values) == 9:
            cell = np.asarray(values, dtype=float).reshape(3, 3)
    return Frame(symbols, positions, cell, info), start + 2 + n


def parse_extxyz(text: str) -> list[Frame]:
    """Every complete frame of an (extended) XYZ text; a partly written last frame is
    dropped (the worker may be writing it)."""
    lines = text.splitlines()
    if text and not text.endswith("\n") and lines:
        lines = lines[:-1]
    frames, i = [], 0
    while i < len(lines):
        parsed = _frame(lines, i)
        if parsed is None:
            break
        frame, i = parsed
        frames.append(frame)
    return frames


def read_last_frame(path: Path) -> Frame | None:
    """The last complete frame of the file, reading only its end."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    tail = TAIL_BYTES
    while True:
        with path.open("rb") as fh:
            fh.seek(max(0, size - tail))
            chunk = fh.read(tail).decode("utf-8", errors="replace")
        lines = chunk.splitlines()
        if chunk and not chunk.endswith("\n"):
            lines = lines[:-1]
        first = 1 if size > tail else 0  # the first line of a chunk may be cut
        for start in range(len(lines) - 1, first - 1, -1):
            parsed = _frame(lines, start)
            # a frame is the real thing when it ends at the end or at the next frame's header
            if parsed is not None and (
                parsed[1] == len(lines) or lines[parsed[1]].strip().isdigit()
            ):
                return parsed[0]
        if tail >= size:
            return None
        tail *= 4


def read_frames(path: Path, *, max_frames: int = 500) -> list[Frame]:
    """Frames of the file, evenly thinned to at most ``max_frames`` (first and last kept).
    A finished run's file does not change: parsed files are kept (by path, size, mtime)."""
    try:
        stat = path.stat()
    except OSError:
        return []
    return _read_frames(str(path), stat.st_size, stat.st_mtime_ns, max_frames)


@functools.lru_cache(maxsize=8)
def _read_frames(path: str, _size: int, _mtime_ns: int, max_frames: int) -> list[Frame]:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return []
    lines = text.splitlines()
    if text and not text.endswith("\n") and lines:
        lines = lines[:-1]
    frames = _parse_uniform(lines, max_frames)
    if frames is None:  # frames of different sizes: the general parser
        frames = parse_extxyz("\n".join(lines) + "\n")
    if len(frames) <= max_frames:
        return frames
    keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).astype(int))
    return [frames[i] for i in keep]


def _parse_uniform(lines: list[str], max_frames: int) -> list[Frame] | None:
    """Fast path for the usual trajectory, every frame with the same atoms: the selected
    frames' coordinates in one numpy call. None when the file is not like that."""
    try:
        n = int(lines[0])
    except (ValueError, IndexError):
        return None
    block = n + 2
    count = len(lines) // block
    if count == 0 or any(lines[k * block].strip() != lines[0].strip() for k in range(count)):
        return None
    picked = np.unique(np.linspace(0, count - 1, min(count, max_frames)).astype(int))
    symbols = [line.split(maxsplit=1)[0] for line in lines[2:block]]
    rows = [lines[k * block + 2 + i] for k in picked for i in range(n)]
    try:
        table = np.array([r.split()[1:4] for r in rows], dtype=float)
    except ValueError:
        return None
    coords = table.reshape(len(picked), n, 3)
    frames = []
    for j, k in enumerate(picked):
        info = _info(lines[k * block + 1])
        cell = None
        lattice = info.pop("Lattice", None)
        if isinstance(lattice, str) and len(lattice.split()) == 9:
            cell = np.asarray(lattice.split(), dtype=float).reshape(3, 3)
        frames.append(Frame(symbols, coords[j], cell, info))
    return frames


def radius(symbol: str) -> float:
    return COVALENT_RADII_A.get(symbol, DEFAULT_RADIUS_A)


def bonds(
    symbols: list[str], positions: np.ndarray, *, mult: float = 1.0, skin_A: float = BOND_SKIN_A
) -> np.ndarray:
    """Atom pairs (M, 2), i < j, closer than ``mult (r_i + r_j) + 2 skin`` (no periodic
    images)."""
    n = len(symbols)
    if n < 2 or n > MAX_ATOMS_FOR_BONDS:
        return np.empty((0, 2), dtype=int)
    pos = np.asarray(positions, float)
    r = np.array([radius(s) for s in symbols])
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    cutoff = mult * (r[:, None] + r[None, :]) + 2.0 * skin_A
    i, j = np.nonzero(np.triu(d < cutoff, k=1))
    return np.column_stack([i, j])


def kabsch_rmsd_A(P: np.ndarray, Q: np.ndarray) -> float:
    """RMSD (Å) of (N, 3) frames after optimal superposition (no reflection)."""
    p = np.asarray(P, float) - np.mean(P, axis=0)
    q = np.asarray(Q, float) - np.mean(Q, axis=0)
    u, _s, vt = np.linalg.svd(q.T @ p)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag([1.0, 1.0, d]) @ vt
    return float(np.sqrt(np.mean(np.sum((p - q @ rot) ** 2, axis=1))))


def kabsch_rmsd_batch_A(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """:func:`kabsch_rmsd_A` of (F, N, 3) frame pairs at once (F,)."""
    p = P - P.mean(axis=1, keepdims=True)
    q = Q - Q.mean(axis=1, keepdims=True)
    u, _s, vt = np.linalg.svd(np.einsum("fni,fnj->fij", q, p))
    d = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    fix = np.repeat(np.eye(3)[None], len(P), axis=0)
    fix[:, 2, 2] = d
    rot = u @ fix @ vt
    diff = p - np.einsum("fni,fij->fnj", q, rot)
    return np.asarray(np.sqrt(np.mean(np.sum(diff**2, axis=2), axis=1)))


def rmsd_series(model: list[Frame], reference: list[Frame]) -> tuple[np.ndarray, np.ndarray]:
    """RMSD(t) (ps, Å) over frames present in both at the same time (matched to 1e-6 ps)."""
    ref_by_t = {round(f.time_ps, 6): f for f in reference if f.time_ps is not None}
    pairs = [
        (f.time_ps, f.positions, g.positions)
        for f in model
        if f.time_ps is not None
        and (g := ref_by_t.get(round(f.time_ps, 6))) is not None
        and len(g.symbols) == len(f.symbols)
    ]
    if not pairs:
        return np.empty(0), np.empty(0)
    t = np.array([p[0] for p in pairs])
    rmsd = kabsch_rmsd_batch_A(np.stack([p[2] for p in pairs]), np.stack([p[1] for p in pairs]))
    return t, rmsd


def distance_histogram(
    frames: list[Frame], *, r_max_A: float = 10.0, bins: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """h(r) of METRICS.md: all atom-pair distances of all frames, bins on (0, r_max] Å,
    normalised to integrate to 1. Returns (bin centres Å, density 1/Å)."""
    edges = np.linspace(0.0, r_max_A, bins + 1)
    if not frames:
        return 0.5 * (edges[1:] + edges[:-1]), np.zeros(bins)
    pos = np.stack([f.positions for f in frames])  # (F, N, 3)
    i, j = np.triu_indices(pos.shape[1], k=1)
    d = np.linalg.norm(pos[:, i] - pos[:, j], axis=-1)
    counts = np.histogram(d, bins=edges)[0].astype(float)
    total = counts.sum() * (edges[1] - edges[0])
    density = counts / total if total > 0 else counts
    return 0.5 * (edges[1:] + edges[:-1]), density


def hr_error(h_model: np.ndarray, h_ref: np.ndarray, dr_A: float) -> float:
    """∫|h_model - h_ref| dr, in [0, 2]."""
    return float(np.sum(np.abs(h_model - h_ref)) * dr_A)


def dihedral_deg(frames: np.ndarray, i: int, j: int, k: int, l: int) -> np.ndarray:  # noqa: E741
    """Dihedral i-j-k-l (deg, (-180, 180]) of (frames, N, 3) positions (IUPAC sign)."""
    b1 = frames[:, j] - frames[:, i]
    b2 = frames[:, k] - frames[:, j]
    b3 = frames[:, l] - frames[:, k]
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=1) * np.einsum("fi,fi->f", b1, n2)
    x = np.einsum("fi,fi->f", n1, n2)
    angle = np.degrees(np.arctan2(y, x))
    return np.where(angle <= -180.0, angle + 360.0, angle)


def phi_psi_indices(frame: Frame) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """φ = (C, N, CA, C') and ψ = (N, CA, C', N') of alanine dipeptide from connectivity
    (amide C: bonded to N and to a one-neighbour O; CA: bonded to N and an amide C);
    None for any other structure."""
    sym = frame.symbols
    nb: list[set[int]] = [set() for _ in sym]
    for a, b in bonds(sym, frame.positions).tolist():
        nb[a].add(b)
        nb[b].add(a)

    def of(atom: int, element: str) -> list[int]:
        return sorted(n for n in nb[atom] if sym[n] == element)

    carbons = [i for i, s in enumerate(sym) if s == "C"]
    amide = {c for c in carbons if of(c, "N") and any(len(nb[o]) == 1 for o in of(c, "O"))}
    alpha = [c for c in carbons if c not in amide and of(c, "N") and nb[c] & amide]
    if len(amide) != 2 or len(alpha) != 1:
        return None
    ca = alpha[0]
    n1, c_next = of(ca, "N"), sorted(nb[ca] & amide)
    if len(n1) != 1 or len(c_next) != 1:
        return None
    c_prev = [c for c in nb[n1[0]] & amide if c != c_next[0]]
    n2 = of(c_next[0], "N")
    if len(c_prev) != 1 or len(n2) != 1:
        return None
    return (c_prev[0], n1[0], ca, c_next[0]), (n1[0], ca, c_next[0], n2[0])


def phi_psi_deg(frames: list[Frame]) -> np.ndarray | None:
    """(frames, 2) φ/ψ angles in degrees, or None when not alanine dipeptide."""
    if not frames:
        return None
    idx = phi_psi_indices(frames[0])
    if idx is None:
        return None
    pos = np.stack([f.positions for f in frames])
    return np.column_stack([dihedral_deg(pos, *idx[0]), dihedral_deg(pos, *idx[1])])


def run_trajectory_path(run: dict[str, Any], artifacts_root: Path) -> Path | None:
    """Where run ``run``'s trajectory is (being) written, inside the artifact store: the
    worker's layout ``runs/<id>/attempt-<n>/trajectory.extxyz``. None outside the store."""
    attempt = run.get("attempt") or 0
    if attempt < 1:
        return None
    root = artifacts_root.resolve()
    path = root / "runs" / str(int(run["id"])) / f"attempt-{int(attempt)}" / "trajectory.extxyz"
    path = path.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None
