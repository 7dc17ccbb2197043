"""What each family is and accepts, with no heavy import: the API canonicalises family
specs with this (it imports neither torch nor ase), the adapters build models from it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from mdval.potentials.families.spec import (
    DEVICE,
    FamilySpec,
    Option,
    parse_family_spec,
    split_family,
)


@dataclass(frozen=True)
class Declared:
    name: str
    dist: str  # the distribution that provides it
    extra: str  # pip install 'mdval[extra]'
    summary: str
    example: str
    options: tuple[Option, ...]
    shipped: tuple[str, ...] = ()  # checkpoints the package ships, by name
    elements: str = "the checkpoint's"  # what it covers, in words
    titles: tuple[str, ...] = ()  # the shipped checkpoints' display names, in their order

    def __post_init__(self) -> None:
        if len(self.titles) != len(self.shipped):
            raise ValueError(f"{self.name}: one title per shipped checkpoint")


def _dtype(*choices: str, why: str = "precision of the model") -> Option:
    return Option("dtype", choices, why)


ANI = Declared(
    "ani",
    "torchani",
    "ani",
    "ANI ensembles shipped by torchani 2.2",
    "ani:1x?dtype=float32",
    (_dtype("float32", "float64", why="precision of the networks"), DEVICE),
    shipped=("1x", "1ccx", "2x"),
    elements="H C N O (2x: also S F Cl)",
    titles=("ANI-1x", "ANI-1ccx", "ANI-2x"),
)
SEVENNET = Declared(
    "sevennet",
    "sevenn",
    "materials",
    "SevenNet checkpoints shipped by sevenn, or a .pth file",
    "sevennet:7net-0",
    (_dtype("float32", why="sevenn runs in float32"), DEVICE),
    shipped=("7net-0", "7net-0_22may2024", "7net-l3i5"),
    elements="89 elements (7net-0)",
    titles=("SevenNet-0", "SevenNet-0 (22 May 2024)", "SevenNet-l3i5"),
)
CHGNET = Declared(
    "chgnet",
    "chgnet",
    "materials",
    "CHGNet checkpoints shipped by chgnet, or a .pth.tar file",
    "chgnet:0.3.0",
    (_dtype("float32", why="chgnet runs in float32"), DEVICE),
    shipped=("0.3.0", "0.2.0", "r2scan"),
    elements="Z = 1-94",
    titles=("CHGNet 0.3.0", "CHGNet 0.2.0", "CHGNet r2SCAN"),
)
MACE = Declared(
    "mace",
    "mace-torch",
    "mace",
    "a local MACE .model file (mace-torch)",
    "mace:/models/mace-off-small.model",
    (_dtype("float64", "float32"), DEVICE),
)
ORB = Declared(
    "orb",
    "orb-models",
    "orb",
    "a local Orb checkpoint (orb-models); not run on mdval CI",
    "orb:/models/orb-v3.ckpt",
    (
        Option(
            "arch",
            (
                "orb-v3-conservative-inf-omat",
                "orb-v3-conservative-20-omat",
                "orb-v3-direct-inf-omat",
                "orb-v3-conservative-inf-mpa",
                "orb-v2",
            ),
            "the orb-models architecture of the checkpoint",
        ),
        Option("precision", ("float32-high", "float32-highest", "float64"), "orb precision"),
        DEVICE,
    ),
)
FAIRCHEM = Declared(
    "fairchem",
    "fairchem-core",
    "fairchem",
    "a local fairchem (UMA) checkpoint; not run on mdval CI",
    "fairchem:/models/uma-s.pt?task=omat",
    (Option("task", ("omat", "omol", "oc20", "odac", "omc"), "the UMA task head"), DEVICE),
)

DECLARED = {d.name: d for d in (ANI, SEVENNET, CHGNET, MACE, ORB, FAIRCHEM)}
FAMILY_PREFIXES = tuple(f"{name}:" for name in DECLARED)


def installed_version(dist: str) -> str | None:
    """The version of the distribution ``dist`` installed here; None when it is not. The one
    test of "is a family's package installed": the adapters' ``require`` (a run's 422 naming
    the extra) and the API's family list both ask it. Reads metadata only (no import)."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def not_installed(declared: Declared) -> str | None:
    """The one-line error of a family whose package is missing here (None: installed)."""
    if installed_version(declared.dist) is not None:
        return None
    return not_installed_message(declared.name, declared.dist, declared.extra)


def not_installed_message(family: str, dist: str, extra: str) -> str:
    return (
        f"{family}: the package {dist!r} is not installed; "
        f"install it with: pip install 'mdval[{extra}]'"
    )


def is_family_spec(text: str) -> bool:
    family, _, _ = split_family(text)
    return family in DECLARED and ":" in text


def parse_spec(text: str) -> FamilySpec:
    """Parse and validate a family spec (PotentialError naming what is accepted)."""
    family, _, _ = split_family(text)
    return parse_family_spec(text, options=DECLARED[family].options)


def canonical_spec(text: str) -> str:
    """``ani:1x`` → ``ani:1x?dtype=float32``: one spelling per model."""
    return parse_spec(text).canonical
