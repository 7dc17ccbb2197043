"""TorchScript potentials: loading (``torch.jit.load`` only) and the ASE calculator.

The module contract is documented in :mod:`mdval.potentials.base`. The calculator is on the
MD hot path: tensors that do not change between steps (atomic numbers, system index) are
built once, the module stays on its device, and one forward + one backward pass give both
energy and forces.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from mdval.errors import PotentialError
from mdval.potentials.device import resolve_device


def load_torchscript_module(
    path: str | Path, device: str = "cpu", dtype: torch.dtype | None = torch.float64
) -> torch.jit.ScriptModule:
    """Load ``path`` with ``torch.jit.load`` (never unpickled) onto ``device``, in eval mode.

    Floating-point parameters and buffers are cast to ``dtype`` (``None`` keeps them).
    Raises :class:`PotentialError` naming the file when it is not a TorchScript archive.
    """
    p = Path(path)
    if not p.is_file():
        raise PotentialError(f"TorchScript file not found: {str(p)!r}")
    try:
        with warnings.catch_warnings():
            # torch >= 2.10 deprecates TorchScript in favour of torch.export; TorchScript is
            # still mdval's upload format (a self-contained, unpickle-free archive).
            warnings.filterwarnings(
                "ignore", r".*torch\.jit\.load.* is deprecated", DeprecationWarning
            )
            module = torch.jit.load(str(p), map_location=torch.device(device))
    except Exception as exc:  # RuntimeError/ValueError from the archive reader
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PotentialError(
            f"{p.name!r} is not a TorchScript module (torch.jit.load failed: {reason}). "
            "Export the model with torch.jit.script(model).save(path); pickled checkpoints "
            "(torch.save) are never loaded."
        ) from exc
    if dtype is not None:
        module = module.to(dtype=dtype)
    module.eval()
    return module


def frozen_for_calls(module: torch.nn.Module, preserve: tuple[str, ...] = ()) -> torch.nn.Module:
    """A frozen copy of a TorchScript ``module`` for the MD hot path; ``module`` itself when
    it is not TorchScript or cannot be frozen.

    ``torch.jit.freeze`` inlines the parameters and attributes into the graph as constants,
    so the ops that only re-read them (weight transposes, attribute reads) are folded once
    instead of run every call: 25-30 % less time per forward + backward for the zoo
    students on one CPU thread (docs/performance.md), with bit-identical energies and forces
    (``optimize_numerics=False``: no pass that may change the numbers). Forces still come
    from autograd through the frozen graph: the positions are its inputs. Methods named in
    ``preserve`` (``energies_from_pairs``) are kept where the module has them; the copy has
    no other attribute of ``module``, so metadata is read from the original.
    """
    if not isinstance(module, torch.jit.ScriptModule) or module.training:
        return module
    kept = [name for name in preserve if hasattr(module, name)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.freeze(module, preserved_attrs=kept, optimize_numerics=False)
    except Exception:  # e.g. a forward that assigns to its attributes: run it as it is
        return module


class CalledModule:
    """The ``module`` attribute of what calls a model on the MD hot path: reading it gives
    the model as given (its attributes: ``cutoff_A``, ``supported_atomic_numbers``);
    setting it also sets ``_forward``, the frozen copy each call runs
    (:func:`frozen_for_calls`, ``energies_from_pairs`` kept)."""

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return self if obj is None else obj._module

    def __set__(self, obj: Any, module: torch.nn.Module) -> None:
        obj._module = module
        obj._forward = frozen_for_calls(module, ("energies_from_pairs",))


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Bitwise equality of two optional arrays (-0.0 and 0.0 differ: a harmless recompute)."""
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


class TorchScriptCalculator(Calculator):
    """ASE calculator for a TorchScript energy model (non-periodic systems only).

    ``model`` is a path to a TorchScript file or an already loaded ``ScriptModule`` (or any
    ``nn.Module`` with the same call signature). ``device`` is "cpu", "cuda[:N]" or "auto";
    ``dtype`` the precision of positions, parameters and results (float64 by default).
    Energy in eV, forces = -dE/dpositions in eV/Å (autograd). ``last_inference_s`` is the
    wall time of the last forward + backward pass, in seconds.
    """

    implemented_properties = ["energy", "free_energy", "forces"]  # noqa: RUF012 - ASE API
    module = CalledModule()
    _forward: torch.nn.Module  # set with ``module``

    def __init__(
        self,
        model: str | Path | torch.nn.Module,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float64,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.device = torch.device(resolve_device(device))
        self.dtype = dtype
        if isinstance(model, str | Path):
            self.module = load_torchscript_module(model, str(self.device), dtype)
        else:
            self.module = model.to(device=self.device, dtype=dtype).eval()
        if self.device.type == "cpu":  # keep the model's freed buffers between steps
            from mdval.md.torch_engine.host_memory import keep_freed_pages

            keep_freed_pages()
        self.last_inference_s = float("nan")
        self._numbers: np.ndarray | None = None
        self._z: torch.Tensor | None = None
        self._system_index: torch.Tensor | None = None

    def _static_inputs(self, numbers: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Atomic numbers and system index as device tensors, rebuilt only when Z changes."""
        if (
            self._z is None
            or self._system_index is None
            or self._numbers is None
            or not np.array_equal(numbers, self._numbers)
        ):
            self._numbers = numbers.copy()
            self._z = torch.as_tensor(numbers, dtype=torch.int64).to(self.device)
            self._system_index = torch.zeros(len(numbers), dtype=torch.int64, device=self.device)
        return self._z, self._system_index

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        """What changed since the last calculation (bitwise comparison; ``tol`` is unused).

        ASE's generic version runs ``np.isclose`` over every array, tens of µs a call and
        three calls a step; this one is exact and a few µs.
        """
        old = self.atoms
        if old is None or len(old) != len(atoms):
            return list(all_changes)
        changes = [
            name
            for name, mine, theirs in (
                ("positions", old.positions, atoms.positions),
                ("numbers", old.numbers, atoms.numbers),
                ("cell", old.cell.array, atoms.cell.array),
                ("pbc", old.pbc, atoms.pbc),
                (
                    "initial_charges",
                    old.arrays.get("initial_charges"),
                    atoms.arrays.get("initial_charges"),
                ),
                (
                    "initial_magmoms",
                    old.arrays.get("initial_magmoms"),
                    atoms.arrays.get("initial_magmoms"),
                ),
            )
            if not _same(mine, theirs)
        ]
        return changes

    def _sync_atoms(self, atoms: Atoms) -> None:
        """Make ``self.atoms`` a snapshot of ``atoms``, in place when only geometry moved."""
        old = self.atoms
        if old is atoms:
            return
        changes = self.check_state(atoms)
        if old is None or not set(changes) <= {"positions", "cell", "pbc"}:
            self.atoms = atoms.copy()
            return
        # Measured on alanine dipeptide: a fresh Atoms copy per step added ~50 µs of CPU
        # time to the step, several times what the copy costs alone; reuse the arrays.
        if "positions" in changes:
            old.positions[:] = atoms.positions
        if "cell" in changes or "pbc" in changes:
            old.cell = atoms.cell.copy()
            old.pbc = atoms.pbc.copy()

    def get_property(
        self, name: str, atoms: Atoms | None = None, allow_calculation: bool = True
    ) -> Any:
        """ASE's ``Calculator.get_property``, minus its copy of the Atoms on every call.

        ``calculate`` keeps ``self.atoms`` as a snapshot itself (see ``_sync_atoms``).
        """
        if name not in self.implemented_properties:
            raise PropertyNotImplementedError(f"{name} property not implemented")
        if atoms is None:
            atoms = self.atoms
            system_changes: list[str] = []
        else:
            system_changes = self.check_state(atoms)
            if system_changes:
                self.results = {}
        if name not in self.results:
            if not allow_calculation:
                return None
            self.calculate(atoms, [name], system_changes)
        if name not in self.results:
            raise PropertyNotImplementedError(f"{name} not present in this calculation")
        result = self.results[name]
        return result.copy() if isinstance(result, np.ndarray) else result

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        if atoms is not None:
            self._sync_atoms(atoms)
        atoms = self.atoms
        if atoms is None:
            raise PotentialError("TorchScriptCalculator.calculate needs atoms")
        if atoms.pbc.any():
            raise PotentialError(
                f"TorchScript potentials are for non-periodic systems; this structure has "
                f"pbc={atoms.pbc.tolist()}"
            )
        z, system_index = self._static_inputs(atoms.numbers)
        start = time.perf_counter()
        energy, forces = self._evaluate(atoms.positions, z, system_index)
        self.last_inference_s = time.perf_counter() - start
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = forces

    def _evaluate(
        self, positions_A: np.ndarray, z: torch.Tensor, system_index: torch.Tensor
    ) -> tuple[float, np.ndarray]:
        """The timed part of a call: energy (eV) and forces (eV/Å, float64) at
        ``positions_A``; the autograd graph is released as this frame returns, inside the
        timed window (as in the torch engine's ``ForceModel``)."""
        with torch.enable_grad():
            # self.atoms is our own copy, so sharing its memory (CPU, float64) is safe.
            positions = (
                torch.from_numpy(positions_A)
                .to(device=self.device, dtype=self.dtype)
                .requires_grad_(True)
            )
            energies = self._forward(positions, z, system_index, 1)
            if energies.shape != (1,):
                raise PotentialError(
                    f"the TorchScript model returned shape {tuple(energies.shape)} for one "
                    "system; the contract is (n_systems,)"
                )
            if not energies.requires_grad:
                raise PotentialError("the model's energy does not depend on positions (no grad)")
            (grad,) = torch.autograd.grad(energies[0], positions)
        return energies.item(), -grad.to(device="cpu", dtype=torch.float64).numpy()
