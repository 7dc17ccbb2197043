"""Benchmark structures: alanine dipeptide and water clusters of chosen size."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import molecule

#: O-O spacing of the grid the cluster molecules sit on (Å); liquid water is about 2.9 Å.
WATER_SPACING_A = 3.0


def water_cluster(n_molecules: int, *, seed: int = 0) -> Atoms:
    """``n_molecules`` waters on the points of a cubic grid nearest its centre, each turned
    at random (seeded): a compact, roughly spherical, non-periodic cluster of 3n atoms."""
    if n_molecules < 1:
        raise ValueError("a cluster needs at least one molecule")
    rng = np.random.default_rng(seed)
    side = int(np.ceil(n_molecules ** (1 / 3))) + 2
    axis = np.arange(side) - (side - 1) / 2
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    order = np.lexsort((grid[:, 2], grid[:, 1], grid[:, 0], np.linalg.norm(grid, axis=1)))
    centres = grid[order[:n_molecules]] * WATER_SPACING_A
    water = molecule("H2O")
    water.translate(-water.positions[0])  # O at the origin
    cluster = Atoms()
    for centre in centres:
        w = water.copy()
        w.rotate(rng.uniform(0, 360), rng.normal(size=3), center=(0, 0, 0))
        w.translate(centre)
        cluster += w
    cluster.info["name"] = f"water-{n_molecules}"
    return cluster


def structure(name: str) -> Atoms:
    """A benchmark structure by name: ``alanine-dipeptide`` or ``water-N`` (N molecules)."""
    if name.startswith("water-"):
        atoms = water_cluster(int(name.split("-", 1)[1]))
    else:
        from mdval.structures import load_structure

        atoms = load_structure(name)
    atoms.info["name"] = name
    return atoms
