"""The torch-native MD engine: batched state on the device, integrators as pure functions.

Modules, one job each:

- :mod:`~mdval.md.torch_engine.state` — :class:`MDState`, flat atom tensors + system index
- :mod:`~mdval.md.torch_engine.model` — :class:`ForceModel`, energies and autograd forces
- :mod:`~mdval.md.torch_engine.integrators` — velocity Verlet and Langevin BAOAB, a registry
- :mod:`~mdval.md.torch_engine.runner` — the loop, observers, per-replica failure handling
- :mod:`~mdval.md.torch_engine.batch` — :func:`run_batch`: many replicas in one batch
- :mod:`~mdval.md.torch_engine.adapter` — :class:`TorchEngine`, the engine named "torch"
- :mod:`~mdval.md.torch_engine.neighbours` — periodic cells: vesin pairs, the pair contract
- :mod:`~mdval.md.torch_engine.torchsim_models` — a TorchSim ``ModelInterface`` as the model

Importing this package registers the engine "torch" without importing torch; the engine
module is loaded when the engine is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mdval.md.engine import register_engine

if TYPE_CHECKING:
    from mdval.md.engine import Engine
    from mdval.potentials.base import PotentialEntry

__all__ = [
    "INTEGRATORS",
    "BatchResult",
    "ForceModel",
    "MDState",
    "ReplicaResult",
    "TorchEngine",
    "run_batch",
    "run_phase",
    "state_from_atoms",
]

_WHERE = {
    "INTEGRATORS": "integrators",
    "BatchResult": "batch",
    "ReplicaResult": "batch",
    "run_batch": "batch",
    "ForceModel": "model",
    "MDState": "state",
    "state_from_atoms": "state",
    "TorchEngine": "adapter",
    "run_phase": "runner",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _make_torch_engine(entry: PotentialEntry, device: str) -> Engine:
    from mdval.md.torch_engine.adapter import TorchEngine

    return TorchEngine(entry, device)


register_engine("torch", _make_torch_engine)
