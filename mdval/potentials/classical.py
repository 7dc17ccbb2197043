"""ASE's classical calculators: EMT for metals, Lennard-Jones as a toy.

EMT: ASE's effective-medium theory. Only its seven fitted fcc metals (Al, Cu, Ag, Au, Ni,
Pd, Pt) count as supported; ASE also ships H, C, N and O parameters, but documents them as
not physically meaningful, so mdval rejects them.

LJ: a **toy** for tests and plumbing, not a model of any material. One parameter set for
every element pair, ASE's defaults: sigma = 1.0 Å, epsilon = 1.0 eV, cutoff rc = 3 sigma,
smoothed to zero between 0.66 rc and rc (``smooth=True``) so that the energy is conserved in
NVE. With these numbers small molecules stay bound (well depth 1 eV at r = 1.12 Å).
"""

from __future__ import annotations

import hashlib

import ase
from ase.calculators.calculator import Calculator

from mdval.potentials.base import PotentialEntry

EMT_ELEMENTS = frozenset({"Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt"})
LJ_PARAMETERS: dict[str, float | bool] = {
    "sigma": 1.0,  # Å
    "epsilon": 1.0,  # eV
    "rc": 3.0,  # Å (3 sigma)
    "smooth": True,
}


def descriptor_sha256(*parts: str) -> str:
    """sha256 of a canonical descriptor string (for potentials without a weights file)."""
    return hashlib.sha256("|".join(("mdval-potential-v1", *parts)).encode()).hexdigest()


def _emt(device: str) -> Calculator:
    del device  # CPU only
    from ase.calculators.emt import EMT

    return EMT()


def _lj(device: str) -> Calculator:
    del device
    from ase.calculators.lj import LennardJones

    return LennardJones(**LJ_PARAMETERS)


def emt_entry(spec: str = "emt") -> PotentialEntry:
    return PotentialEntry(
        spec=spec,
        name=f"EMT (ASE {ase.__version__})",
        kind="ase",
        sha256=descriptor_sha256("emt", f"ase={ase.__version__}"),
        supported_elements=EMT_ELEMENTS,
        factory=_emt,
        periodic_ok=True,
    )


def lj_entry(spec: str = "lj") -> PotentialEntry:
    params = ",".join(f"{k}={v}" for k, v in sorted(LJ_PARAMETERS.items()))
    return PotentialEntry(
        spec=spec,
        name="Lennard-Jones toy (sigma 1 Å, epsilon 1 eV)",
        kind="ase",
        sha256=descriptor_sha256("lj", f"ase={ase.__version__}", params),
        supported_elements=None,
        factory=_lj,
        periodic_ok=True,
        extra={"parameters": dict(LJ_PARAMETERS), "toy": True},
    )
