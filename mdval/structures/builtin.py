"""The structures shipped with mdval: a small registry over ``data/*.xyz``.

The molecule files are generated once by :mod:`mdval.structures.make_builtin` (RDKit
embedding, then a GFN2-xTB relaxation) and committed; loading them needs neither RDKit nor
tblite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BuiltinStructure:
    """One shipped structure.

    ``smiles`` is the source of a molecule (``None`` for crystals); ``aliases`` are matched
    case-insensitively, like ``name``.
    """

    name: str
    filename: str
    formula: str
    n_atoms: int
    periodic: bool
    description: str
    aliases: tuple[str, ...] = ()
    smiles: str | None = None

    @property
    def path(self) -> Path:
        return DATA_DIR / self.filename


BUILTINS: tuple[BuiltinStructure, ...] = (
    BuiltinStructure(
        name="H2O",
        filename="h2o.xyz",
        formula="H2O",
        n_atoms=3,
        periodic=False,
        description="Water, one molecule in vacuum; GFN2-xTB minimum.",
        aliases=("water",),
        smiles="O",
    ),
    BuiltinStructure(
        name="CH4",
        filename="ch4.xyz",
        formula="CH4",
        n_atoms=5,
        periodic=False,
        description="Methane, one molecule in vacuum; GFN2-xTB minimum.",
        aliases=("methane",),
        smiles="C",
    ),
    BuiltinStructure(
        name="alanine",
        filename="alanine.xyz",
        formula="C3H7NO2",
        n_atoms=13,
        periodic=False,
        description=(
            "L-alanine (S), neutral (non-zwitterionic) form in vacuum; GFN2-xTB minimum "
            "of an RDKit conformer. The 15-atom-class organic of the M6 plan (C3H7NO2)."
        ),
        aliases=("l-alanine", "ala"),
        smiles="C[C@@H](C(=O)O)N",
    ),
    BuiltinStructure(
        name="alanine-dipeptide",
        filename="alanine_dipeptide.xyz",
        formula="C6H12N2O2",
        n_atoms=22,
        periodic=False,
        description=(
            "Alanine dipeptide (Ace-Ala-NMe, L), in vacuum; GFN2-xTB minimum of an RDKit "
            "conformer. The usual 22-atom MD benchmark."
        ),
        aliases=("alanine_dipeptide", "ace-ala-nme", "dipeptide", "ala2"),
        smiles="CC(=O)N[C@@H](C)C(=O)NC",
    ),
    BuiltinStructure(
        name="cu-fcc",
        filename="cu_fcc.xyz",
        formula="Cu32",
        n_atoms=32,
        periodic=True,
        description=(
            "FCC copper, 32 atoms: the cubic cell (a = 3.61 Å) repeated 2×2×2, periodic in "
            "all three directions; ideal lattice positions."
        ),
        aliases=("cu_fcc", "cu", "copper"),
    ),
    BuiltinStructure(
        name="si-diamond",
        filename="si_diamond.xyz",
        formula="Si64",
        n_atoms=64,
        periodic=True,
        description=(
            "Diamond silicon, 64 atoms: the cubic cell (a = 5.431 Å) repeated 2×2×2, "
            "periodic; ideal lattice positions."
        ),
        aliases=("si_diamond", "si", "silicon"),
    ),
    BuiltinStructure(
        name="water-box",
        filename="water_box.xyz",
        formula="H128O64",
        n_atoms=192,
        periodic=True,
        description=(
            "Liquid-water start: 64 H2O molecules (the built-in geometry), randomly oriented "
            "on a 4×4×4 grid in a periodic cube at 0.997 g/cm³ (12.4 Å); no two molecules "
            "closer than 2 Å. Not equilibrated: equilibrate in NVT first."
        ),
        aliases=("water_box", "water64", "h2o-box"),
    ),
)

_BY_KEY: dict[str, BuiltinStructure] = {
    key.lower(): b for b in BUILTINS for key in (b.name, *b.aliases)
}


def find_builtin(name: str) -> BuiltinStructure | None:
    """The built-in called ``name`` (or one of its aliases, any case), else ``None``."""
    return _BY_KEY.get(name.strip().lower())


def list_builtins() -> list[dict[str, object]]:
    """JSON-friendly listing of the built-ins (name, formula, n_atoms, periodic, description)."""
    return [
        {
            "name": b.name,
            "formula": b.formula,
            "n_atoms": b.n_atoms,
            "periodic": b.periodic,
            "description": b.description,
            "aliases": list(b.aliases),
        }
        for b in BUILTINS
    ]
