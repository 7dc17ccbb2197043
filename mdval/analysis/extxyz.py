"""A reader of the extended-XYZ trajectories mdval writes, without ase.

It reads what :class:`mdval.md.observers.TrajectoryWriter` writes (species and positions,
``Lattice``, ``pbc``, ``step``, ``time_ps`` in the comment line), tolerates a partly written
last frame (the worker may be writing it) and reads the last frame of a long file from its
end only. Positions in Å, times in ps.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: How much of a trajectory file's end is read to find its last frame (grows if needed).
TAIL_BYTES = 256 * 1024

_PAIR = re.compile(r'(\w+)=("[^"]*"|\S+)')


@dataclass
class Frame:
    """One frame: symbols (N,), positions (N, 3) Å, cell (3, 3) Å or None, pbc (3,) or
    None, and the other comment fields (``step``, ``time_ps``, ...)."""

    symbols: list[str]
    positions: np.ndarray
    cell: np.ndarray | None = None
    pbc: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def time_ps(self) -> float | None:
        value = self.info.get("time_ps")
        return float(value) if isinstance(value, int | float) else None


def _info(comment: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, raw in _PAIR.findall(comment):
        value = raw.strip('"')
        try:
            info[key] = float(value) if key not in ("Properties", "pbc", "Lattice") else value
        except ValueError:
            info[key] = value
    return info


def _cell_and_pbc(info: dict[str, Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
    cell = pbc = None
    lattice = info.pop("Lattice", None)
    if isinstance(lattice, str) and len(lattice.split()) == 9:
        try:
            cell = np.asarray(lattice.split(), dtype=float).reshape(3, 3)
        except ValueError:
            cell = None
    flags = info.pop("pbc", None)
    if isinstance(flags, str) and len(flags.split()) == 3:
        pbc = np.array([f.upper() in ("T", "TRUE", "1") for f in flags.split()])
    elif cell is not None:
        pbc = np.ones(3, dtype=bool)  # extxyz: a Lattice without pbc means periodic
    return cell, pbc


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
    cell, pbc = _cell_and_pbc(info)
    return Frame(symbols, positions, cell, pbc, info), start + 2 + n


def _complete_lines(text: str) -> list[str]:
    lines = text.splitlines()
    if text and not text.endswith("\n") and lines:
        lines = lines[:-1]  # a line being written
    return lines


def parse_extxyz(text: str) -> list[Frame]:
    """Every complete frame of an (extended) XYZ text; a partly written last frame is
    dropped."""
    lines = _complete_lines(text)
    frames, i = [], 0
    while i < len(lines):
        parsed = _frame(lines, i)
        if parsed is None:
            break
        frame, i = parsed
        frames.append(frame)
    return frames


def read_last_frame(path: Path) -> Frame | None:
    """The last complete frame of the file, reading only its end; None when there is none."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    tail = TAIL_BYTES
    while True:
        with path.open("rb") as fh:
            fh.seek(max(0, size - tail))
            lines = _complete_lines(fh.read(tail).decode("utf-8", errors="replace"))
        first = 1 if size > tail else 0  # the first line of a chunk may be cut
        for start in range(len(lines) - 1, first - 1, -1):
            parsed = _frame(lines, start)
            # the real thing ends at the end or at the next frame's header
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
    frames = parse_extxyz(text)
    if len(frames) <= max_frames:
        return frames
    keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).astype(int))
    return [frames[i] for i in keep]
