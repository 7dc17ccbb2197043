"""Everything a run needs, resolved and checked before the first step."""

from __future__ import annotations

from dataclasses import dataclass

from ase import Atoms

from mdval.criteria import load_profile
from mdval.md.config import RunConfig
from mdval.potentials.base import PotentialEntry
from mdval.potentials.device import resolve_device
from mdval.potentials.registry import resolve_potential
from mdval.structures import check_elements, check_periodic, load_structure


@dataclass
class PreparedRun:
    """Everything resolved and validated before the first step (raises InputError if not)."""

    config: RunConfig
    atoms: Atoms
    model: PotentialEntry
    reference: PotentialEntry | None
    device: str


def prepare(config: RunConfig) -> PreparedRun:
    """Resolve and check model, reference and structure. Raises InputError on bad input."""
    model = resolve_potential(config.model)
    reference = resolve_potential(config.reference) if config.reference else None
    atoms = load_structure(config.structure)
    check_elements(atoms, model, role="model")
    check_periodic(atoms, model, role="model")
    if reference is not None:
        check_elements(atoms, reference, role="reference")
        check_periodic(atoms, reference, role="reference")
    load_profile(config.profile)  # an unknown profile is bad input too
    device = resolve_device(config.device)
    model.check_builds(device)
    if reference is not None:
        reference.check_builds(device)
    return PreparedRun(config, atoms, model, reference, device)
