"""What a potential is to mdval: a registry entry that can build an ASE calculator.

TorchScript contract (uploads and the zoo)
-----------------------------------------
A TorchScript module ``m`` is a *batched energy model* for non-periodic systems::

    energies = m(positions, atomic_numbers, system_index, n_systems)

=================  ===========================  ==========================================
argument           shape / dtype                meaning
=================  ===========================  ==========================================
positions          (N, 3) float64 or float32    Cartesian positions in Å, all systems
atomic_numbers     (N,) int64                   Z of each atom
system_index       (N,) int64                   which system (0 .. n_systems-1) an atom is in
n_systems          int                          number of systems in the batch
energies (return)  (n_systems,) same dtype      potential energy of each system in eV
=================  ===========================  ==========================================

Forces are ``-dE/dpositions`` by autograd, taken by mdval (the model must be differentiable
with respect to ``positions``). Optional attributes read by mdval:
``supported_atomic_numbers: List[int]`` (elements the model was trained on; required for the
element check) and ``cutoff_A: float``. Uploads are only ever loaded with
``torch.jit.load`` — never unpickled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from mdval.errors import MdvalError, PotentialError

#: Kinds whose calculator is built by third-party code that may fail on load.
LAZY_KINDS = frozenset({"py", "family"})

#: Every element (None = no restriction known).
AnyElements = None


@dataclass(frozen=True)
class PotentialEntry:
    """A resolved potential spec.

    ``factory(device)`` builds a fresh ASE calculator on ``device`` ("cpu" or "cuda").
    ``torchscript_path`` is set for torch potentials so the torch engine can load the module.
    """

    spec: str
    name: str
    kind: str  # "xtb" | "ase" | "torchscript" | "zoo" | "py" | "family"
    sha256: str
    supported_elements: frozenset[str] | None
    factory: Callable[[str], Calculator] = field(repr=False, compare=False)
    n_params: int | None = None
    torchscript_path: Path | None = None
    periodic_ok: bool = True
    #: False for a crystal model that needs a cell (CHGNet: a molecule gives a singular
    #: lattice deep inside the package)
    molecules_ok: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    _built: dict[str, Calculator] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_torch(self) -> bool:
        """A model the batched torch engine can run: a TorchScript file, a family with an
        adapter onto the same contract (``extra["batched"]``, a ``device -> module``), or a
        family with a TorchSim model (``extra["torchsim"]``, a ``device -> ModelInterface``,
        periodic cells included)."""
        return self.torchscript_path is not None or any(
            callable(self.extra.get(key)) for key in ("batched", "torchsim")
        )

    @property
    def torchsim(self) -> bool:
        """The torch engine runs it as a TorchSim model: periodic cells too. ``--engine auto``
        keeps the ASE engine for it (the ASE engine records stress; the torch engine does
        not), so the batched engine is asked for by name (``--engine torch``, batches)."""
        return callable(self.extra.get("torchsim"))

    @property
    def uses_torch(self) -> bool:
        """A torch model of any kind (it can run on a GPU): TorchScript or a family."""
        return self.is_torch or bool(self.extra.get("uses_torch"))

    def make_calculator(self, device: str = "cpu") -> Calculator:
        """A fresh calculator on ``device``. A factory that raises (a broken checkpoint, a
        package that fails inside) is bad input: :class:`PotentialError`, one line."""
        first = self._built.pop(device, None)
        if first is not None:
            return first
        try:
            return self.factory(device)
        except MdvalError:
            raise
        except Exception as exc:
            text = " ".join(str(exc).split())[:300] or "no message"
            raise PotentialError(
                f"{self.spec}: the model could not be built: {type(exc).__name__}: {text}"
            ) from None

    def check_builds(self, device: str) -> None:
        """Build the calculator now (before a run writes any file) and keep it for the next
        :meth:`make_calculator` on ``device``, so that a model that cannot load fails as bad
        input with nothing left behind, at no second load."""
        if self.kind in LAZY_KINDS and device not in self._built:
            self._built[device] = self.make_calculator(device)

    def describe(self) -> dict[str, Any]:
        """JSON-friendly description (provenance, API listings)."""
        return {
            "spec": self.spec,
            "name": self.name,
            "kind": self.kind,
            "sha256": self.sha256,
            "n_params": self.n_params,
            "supported_elements": sorted(self.supported_elements)
            if self.supported_elements is not None
            else None,
            "periodic_ok": self.periodic_ok,
            "molecules_ok": self.molecules_ok,
            "uses_torch": self.uses_torch,
            "torchsim": self.torchsim,
            **{k: self.extra[k] for k in ("family", "dtype") if k in self.extra},
        }
