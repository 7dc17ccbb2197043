"""Run a protocol on hand-made potentials without going through spec strings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.calculator import Calculator
from ase.calculators.emt import EMT

from mdval.md.config import RunConfig
from mdval.md.listener import RunListener
from mdval.md.protocol import PreparedRun, RunResult, run_validation
from mdval.potentials.base import PotentialEntry


def entry(name: str, factory: Callable[[str], Calculator]) -> PotentialEntry:
    return PotentialEntry(
        spec=f"test:{name}",
        name=name,
        kind="test",
        sha256="0" * 64,
        supported_elements=None,
        factory=factory,
    )


RunFn = Callable[..., RunResult]


@pytest.fixture
def run_on(tmp_path: Path) -> RunFn:
    """run_on(atoms, factory, out=None, reference=None, listener=None, **config) -> RunResult"""

    def _run(
        atoms: Atoms,
        factory: Callable[[str], Calculator],
        *,
        out: Path | None = None,
        reference: Callable[[str], Calculator] | None = None,
        listener: RunListener | None = None,
        **fields: Any,
    ) -> RunResult:
        fields.setdefault("model", "test:model")
        fields.setdefault("structure", "test-structure")
        # Production only unless a test asks: the default 1 ps of NVT would dominate these
        # short runs and is tested on its own.
        fields.setdefault("equilibration_ps", 0.0)
        if reference is not None:
            fields.setdefault("reference", "test:reference")
        config = RunConfig(device="cpu", **fields)
        prepared = PreparedRun(
            config=config,
            atoms=atoms,
            model=entry("model", factory),
            reference=entry("reference", reference) if reference else None,
            device="cpu",
        )
        return run_validation(config, out_dir=out, listener=listener, prepared=prepared)

    return _run


@pytest.fixture
def copper() -> Atoms:
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))


@pytest.fixture
def water() -> Atoms:
    return molecule("H2O")


def emt(device: str = "cpu") -> Calculator:
    return EMT()
