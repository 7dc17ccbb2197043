"""Whether a run's engine can run its potential on its structure, from plain facts.

The engines refuse these combinations when they start (``mdval.md.torch_engine``); this
module states the same rules on what is known without loading anything (the potential's
kind, whether it is a torch model, the structure's periodicity), so that the service can
refuse a request before it is queued with the message the worker would give. Imports
nothing heavy: the API process calls it.
"""

from __future__ import annotations

from mdval.errors import InputError


def check_engine(
    engine: str,
    *,
    potential_spec: str,
    potential_kind: str,
    is_torch: bool,
    periodic: bool,
    periodic_on_torch: bool = False,
) -> None:
    """Raise :class:`InputError` when ``engine`` cannot run this potential on this system.

    ``auto`` and ``ase`` run every potential (``auto`` picks torch only where it can run);
    ``torch`` needs a torch potential (zoo:NAME or a TorchScript file) and, for a periodic
    system, a model that takes cells (``periodic_on_torch``: a TorchSim model, or one on the
    pair contract, see ``mdval/md/torch_engine/neighbours.py``)."""
    if engine != "torch":
        return
    if not is_torch:
        raise InputError(
            f"the torch engine needs a torch potential (zoo:NAME or a TorchScript .pt "
            f"file); {potential_spec!r} is a {potential_kind!r} potential: use --engine ase "
            "(or auto)"
        )
    if periodic and not periodic_on_torch:
        raise InputError(
            f"{potential_spec!r} runs non-periodic systems only on the torch engine (the "
            "TorchScript contract without cells); use --engine ase"
        )
