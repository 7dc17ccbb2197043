"""Regenerate the built-in structure files in ``mdval/structures/data/``.

Run once (and commit the output) with ``python -m mdval.structures.make_builtin``.
Molecules: RDKit ETKDGv3 embedding from SMILES with a fixed seed, MMFF pre-relaxation, then a
GFN2-xTB relaxation (tblite, BFGS to fmax 0.01 eV/Å). Crystals are built with ``ase.build``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk

from mdval.structures.builtin import BUILTINS, DATA_DIR, BuiltinStructure
from mdval.structures.smiles import smiles_to_atoms

SEED = 42
FMAX_EV_PER_A = 0.01
XTB_ACCURACY = 0.01  # tblite: smaller is tighter (SCF and integral thresholds)


def relax_gfn2(atoms: Atoms, fmax: float = FMAX_EV_PER_A) -> tuple[Atoms, float, float]:
    """GFN2-xTB minimum near ``atoms``: (relaxed copy, energy eV, final max |F| eV/Å)."""
    from ase.optimize import BFGS
    from tblite.ase import TBLite

    out = atoms.copy()
    out.calc = TBLite(method="GFN2-xTB", accuracy=XTB_ACCURACY, verbosity=0)
    BFGS(out, logfile=None).run(fmax=fmax, steps=2000)
    energy = float(out.get_potential_energy())
    max_force = float(np.linalg.norm(out.get_forces(), axis=1).max())
    if max_force > fmax:
        raise RuntimeError(f"relaxation did not converge: max|F| = {max_force:.4f} eV/Å")
    out.calc = None
    return out, energy, max_force


def cu_fcc() -> Atoms:
    """FCC Cu, the cubic cell (a = 3.61 Å) repeated 2×2×2: 32 atoms, periodic."""
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))


def si_diamond() -> Atoms:
    """Diamond Si, the cubic cell (a = 5.431 Å) repeated 2×2×2: 64 atoms, periodic."""
    return bulk("Si", "diamond", a=5.431, cubic=True).repeat((2, 2, 2))


WATER_DENSITY_G_PER_CM3 = 0.997
WATER_MIN_GAP_A = 2.0  # closest H···H / O···H between molecules in the start


def water_box(n_side: int = 4) -> Atoms:
    """``n_side**3`` water molecules (the built-in H2O geometry), randomly oriented on a
    cubic grid at 0.997 g/cm³ in a periodic cube; orientations redrawn (seeded) until no two
    molecules come closer than 2 Å."""
    from ase.data import atomic_masses
    from ase.io import read
    from ase.units import _amu
    from scipy.spatial.transform import Rotation

    molecule = read(DATA_DIR / "h2o.xyz", index=0)
    assert isinstance(molecule, Atoms)
    molecule.positions -= molecule.get_center_of_mass()
    n = n_side**3
    mass_g = n * float(atomic_masses[[8, 1, 1]].sum()) * _amu * 1e3
    side_A = (mass_g / WATER_DENSITY_G_PER_CM3) ** (1 / 3) * 1e8
    rng = np.random.default_rng(SEED)
    grid = (np.indices((n_side,) * 3).reshape(3, -1).T + 0.5) * side_A / n_side
    box = Atoms(cell=[side_A] * 3, pbc=True)
    for centre in grid:
        for _ in range(200):
            rotated: Atoms = molecule.copy()
            rotated.positions = Rotation.random(random_state=rng).apply(molecule.positions)
            rotated.positions += centre
            trial = box + rotated
            if len(box) == 0:
                break
            placed = range(len(box))
            gaps = np.concatenate(
                [trial.get_distances(i, placed, mic=True) for i in range(len(box), len(trial))]
            )
            if gaps.min() >= WATER_MIN_GAP_A:
                break
        else:
            raise RuntimeError("could not place a water molecule without a close contact")
        box = trial
    return box


def repeated_water_box(repeat: tuple[int, int, int], n_side: int = 2) -> Atoms:
    """A larger periodic water box by repetition: ``water_box(n_side)`` (``n_side**3``
    molecules; 8 by default, 24 atoms in a 6.2 Å cube) repeated ``repeat`` times along the
    cell vectors — same density and neighbour counts at any size (e.g. (5, 5, 5): 3,000
    atoms), for scaling measurements; the repeats start identical."""
    return water_box(n_side).repeat(repeat)


#: Crystals and boxes, built with ase.build (no SMILES).
CRYSTALS = {
    "cu-fcc": (cu_fcc, "ase.build.bulk('Cu', 'fcc', a=3.61, cubic=True).repeat(2)"),
    "si-diamond": (si_diamond, "ase.build.bulk('Si', 'diamond', a=5.431, cubic=True).repeat(2)"),
    "water-box": (water_box, f"64 H2O (built-in geometry) on a 4x4x4 grid, seed {SEED}"),
}


def build(entry: BuiltinStructure) -> Atoms:
    if entry.smiles is None or entry.name in CRYSTALS:
        make, source = CRYSTALS[entry.name]
        atoms = make()
        atoms.info["source"] = source
        return atoms
    start = smiles_to_atoms(entry.smiles, seed=SEED)
    atoms, energy, max_force = relax_gfn2(start)
    atoms.info["source"] = (
        f"RDKit ETKDGv3 seed {SEED} from SMILES {entry.smiles}, MMFF, "
        f"GFN2-xTB (tblite) BFGS fmax {FMAX_EV_PER_A} eV/A"
    )
    atoms.info["gfn2_energy_eV"] = round(energy, 6)
    atoms.info["max_force_eV_per_A"] = round(max_force, 5)
    return atoms


def write(entry: BuiltinStructure, atoms: Atoms, out_dir: Path) -> Path:
    import ase.io

    if atoms.get_chemical_formula(mode="hill") != entry.formula or len(atoms) != entry.n_atoms:
        raise RuntimeError(
            f"{entry.name}: built {atoms.get_chemical_formula()}, expected "
            f"{entry.formula} with {entry.n_atoms} atoms"
        )
    atoms.info["name"] = entry.name
    path = out_dir / entry.filename
    ase.io.write(path, atoms, format="extxyz")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="built-ins to (re)build; default all")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for entry in BUILTINS:
        if args.names and entry.name not in args.names:
            continue
        path = write(entry, build(entry), args.out)
        print(f"{entry.name}: wrote {path}")


if __name__ == "__main__":
    main()
