"""The potential as the engine sees it: energies of a batch, forces by autograd, timed."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from mdval.errors import InputError, MdvalError
from mdval.md.torch_engine.host_memory import keep_freed_pages
from mdval.potentials.base import PotentialEntry
from mdval.potentials.torchscript import CalledModule


class ModelCallError(MdvalError):
    """The potential raised (or broke its contract) during a call: a model failure."""


def describe_error(exc: BaseException) -> str:
    """``Type: message`` in one line; for a TorchScript error, the original exception's line
    (its message is the whole TorchScript traceback, ending in ``builtins.Type: message``)."""
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "Traceback of TorchScript" in text and lines:
        return lines[-1].removeprefix("builtins.")
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class ForceModel:
    """A TorchScript energy model (contract in :mod:`mdval.potentials.base`) with forces.

    ``model(positions (N, 3), atomic_numbers (N,), system_index (N,), n_systems)`` returns
    ``(energies (S,), forces (N, 3))`` in eV and eV/Å: one forward and one backward pass.
    ``call_times_s`` keeps the wall time of every call; on CUDA the device is synchronised
    before and after, so a time is the model's own (pass ``time_calls=False`` to skip the
    synchronisation when only throughput matters).

    Mixed precision: a TorchScript model runs in its own dtype (``model_dtype``, set by
    :meth:`load`); positions are cast to it on the way in, and energies and forces come back
    in the dtype of the positions given (the engine's float64 state), so the integrator's
    arithmetic and energy accounting stay float64 with a float32 model. A family's adapter
    (``model_dtype`` None) casts for itself.
    """

    module = CalledModule()  # the model as given; each call runs its frozen copy
    _forward: torch.nn.Module  # set with ``module``

    def __init__(
        self,
        module: torch.nn.Module,
        *,
        time_calls: bool = True,
        model_dtype: torch.dtype | None = None,
    ) -> None:
        self.module = module
        self.time_calls = time_calls
        self.call_times_s: list[float] = []
        #: The newest call's wall time, kept when ``pop_times`` empties the list: a phase's
        #: first record reuses the forces its predecessor computed, and their time.
        self.last_call_s: float | None = None
        self._sync = False
        for p in list(module.parameters()) + list(module.buffers()):
            self._sync = p.device.type == "cuda"
            break
        self.model_dtype = model_dtype
        if not self._sync:  # on the host: keep the model's freed buffers (host_memory.py)
            keep_freed_pages()

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str = "cpu",
        dtype: torch.dtype = torch.float64,
        *,
        time_calls: bool = True,
    ) -> ForceModel:
        """Load a TorchScript file (``torch.jit.load`` only, never unpickled)."""
        from mdval.potentials.torchscript import load_torchscript_module

        module = load_torchscript_module(path, device, dtype)
        model = cls(module, time_calls=time_calls, model_dtype=dtype)
        model._sync = torch.device(device).type == "cuda"
        return model

    @classmethod
    def from_entry(
        cls,
        entry: PotentialEntry,
        device: str = "cpu",
        dtype: torch.dtype = torch.float64,
        *,
        time_calls: bool = True,
    ) -> ForceModel:
        """The model of a torch potential; InputError for any other kind. The model's
        precision is the entry's ``dtype`` option where it has one (a family's adapter, or
        ``zoo:NAME?dtype=float32``), else ``dtype``."""
        batched = entry.extra.get("batched")
        if entry.torchscript_path is None and callable(batched):
            return cls(batched(device).eval(), time_calls=time_calls)
        if entry.torchscript_path is None:
            raise InputError(
                f"the torch engine needs a torch potential (zoo:NAME or a TorchScript .pt "
                f"file); {entry.spec!r} is a {entry.kind!r} potential: use --engine ase "
                "(or auto)"
            )
        option = entry.extra.get("dtype")
        if option in ("float32", "float64"):
            dtype = getattr(torch, option)
        return cls.load(entry.torchscript_path, device, dtype, time_calls=time_calls)

    def pop_times(self) -> list[float]:
        times, self.call_times_s = self.call_times_s, []
        return times

    def __call__(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sync = self._sync and self.time_calls
        if sync:
            torch.cuda.synchronize(positions.device)
        start = time.perf_counter()
        try:
            energies, forces = self._evaluate(positions, atomic_numbers, system_index, n_systems)
        except ModelCallError:
            raise
        except Exception as exc:  # anything inside the model is the model's failure
            raise ModelCallError(describe_error(exc)) from exc
        if sync:
            torch.cuda.synchronize(positions.device)
        if self.time_calls:
            self.last_call_s = time.perf_counter() - start
            self.call_times_s.append(self.last_call_s)
        return energies, forces

    def _evaluate(
        self,
        positions: torch.Tensor,
        atomic_numbers: torch.Tensor,
        system_index: torch.Tensor,
        n_systems: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One energy + forces evaluation, the part of a call that is timed: from the
        engine's positions to energies and forces in their dtype. The autograd graph is
        released when this frame returns, inside the timed window, as it is inside any
        model that computes its forces by autograd (METRICS.md, ``inference_ms_per_step``)."""
        with torch.enable_grad():
            pos = positions.detach()
            cast = self.model_dtype is not None and self.model_dtype != positions.dtype
            if cast:
                pos = pos.to(self.model_dtype)
            pos.requires_grad_(True)
            energies = self._forward(pos, atomic_numbers, system_index, n_systems)
            if not isinstance(energies, torch.Tensor) or energies.shape != (n_systems,):
                got = (
                    tuple(energies.shape)
                    if isinstance(energies, torch.Tensor)
                    else type(energies).__name__
                )
                raise ModelCallError(
                    f"the model returned {got} for {n_systems} systems; the "
                    "contract is energies of shape (n_systems,)"
                )
            if not energies.requires_grad:
                raise ModelCallError("the model's energy does not depend on positions")
            (grad,) = torch.autograd.grad(energies.sum(), pos)
        if cast:  # back to the state's dtype: the integrator stays in float64
            return energies.detach().to(positions.dtype), (-grad).to(positions.dtype)
        return energies.detach(), -grad
