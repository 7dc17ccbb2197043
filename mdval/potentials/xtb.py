"""GFN2-xTB through tblite: the offline reference ("teacher") for organic molecules.

Settings are fixed and part of the entry's hash: tight SCF (tblite ``accuracy`` 0.01; smaller
is tighter, 1.0 is tblite's default), electronic temperature 300 K, at most 250 SCF
iterations. tblite runs single-threaded: OpenMP threads are set to 1 around each
calculation and restored afterwards (the MD engine and torch keep theirs).

Periodic systems: tblite handles 3D periodic cells (checked: a molecule in a 20 Å box
agrees with the isolated molecule to 0.3 meV and 3 meV/Å), but treats a partly periodic
cell as fully periodic, so mixed ``pbc`` is refused.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import chemical_symbols

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.classical import descriptor_sha256

XTB_METHOD = "GFN2-xTB"
XTB_PARAMETERS: dict[str, Any] = {
    "accuracy": 0.01,
    "electronic_temperature": 300.0,
    "max_iterations": 250,
}
XTB_THREADS = 1
#: GFN2-xTB is parametrised for H .. Rn.
XTB_ELEMENTS = frozenset(chemical_symbols[1:87])


@lru_cache(maxsize=1)
def _libgomp() -> Any:
    """The OpenMP runtime tblite runs on (the one already loaded by soname), or None."""
    try:
        lib = ctypes.CDLL("libgomp.so.1")
        lib.omp_get_max_threads.restype = ctypes.c_int
        lib.omp_set_num_threads.argtypes = [ctypes.c_int]
        return lib
    except (OSError, AttributeError):
        return None


@contextmanager
def omp_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` OpenMP threads in this thread; restore the old count after."""
    lib = _libgomp()
    if lib is None:
        yield
        return
    previous = int(lib.omp_get_max_threads())
    lib.omp_set_num_threads(n)
    try:
        yield
    finally:
        lib.omp_set_num_threads(previous)


def tblite_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tblite")
    except PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def _calculator_class() -> type[Calculator]:
    # Built on first use so that importing mdval does not load tblite.
    from tblite.ase import TBLite

    class MdvalTBLite(TBLite):
        """TBLite, single-threaded, refusing partly periodic cells."""

        def calculate(
            self,
            atoms: Atoms | None = None,
            properties: list[str] | None = None,
            system_changes: list[str] = all_changes,
        ) -> None:
            target = atoms if atoms is not None else self.atoms
            if target is not None and target.pbc.any() and not target.pbc.all():
                raise PotentialError(
                    f"GFN2-xTB (tblite) needs pbc all True or all False, got {target.pbc.tolist()}"
                )
            with omp_threads(XTB_THREADS):
                super().calculate(atoms, properties, system_changes)

    return MdvalTBLite


def make_xtb_calculator(device: str = "cpu") -> Calculator:
    """A GFN2-xTB calculator with mdval's fixed settings (CPU; ``device`` is ignored)."""
    del device
    return _calculator_class()(method=XTB_METHOD, verbosity=0, **XTB_PARAMETERS)


def xtb_entry(spec: str = "gfn2-xtb") -> PotentialEntry:
    version = tblite_version()
    params = ",".join(f"{k}={v}" for k, v in sorted(XTB_PARAMETERS.items()))
    return PotentialEntry(
        spec=spec,
        name=f"GFN2-xTB (tblite {version})",
        kind="xtb",
        sha256=descriptor_sha256("gfn2-xtb", f"tblite={version}", f"method={XTB_METHOD}", params),
        supported_elements=XTB_ELEMENTS,
        factory=make_xtb_calculator,
        periodic_ok=True,
        extra={"parameters": {"method": XTB_METHOD, **XTB_PARAMETERS}, "threads": XTB_THREADS},
    )
