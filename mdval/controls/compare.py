"""Equilibrium observables of a run against its control's own MD (METRICS.md).

Both runs keep their production frames in a :class:`~mdval.md.observers.FrameSampler`;
this module turns the two samples into the distances of
:func:`mdval.metrics.observables.equilibrium_observables`, with the control's noise floor
(its first half against its second, :func:`~mdval.metrics.observables.observables_noise`)
beside them so that a reader sees whether a distance is signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mdval.metrics.observables import (
    TrajectorySample,
    equilibrium_observables,
    observables_noise,
)
from mdval.metrics.stability import Pairs

#: Keys taken from the VDOS sample (fine interval); the rest from the structure sample.
_VDOS_KEYS = ("vdos_w1_THz",)


def samples(arrays: Mapping[str, np.ndarray]) -> tuple[TrajectorySample, TrajectorySample]:
    """(structure sample, velocity sample) from :meth:`FrameSampler.arrays`."""
    numbers = np.asarray(arrays["numbers"], dtype=np.int64)
    pbc = np.asarray(arrays["pbc"], dtype=bool)
    periodic = bool(pbc.any())
    cell = np.asarray(arrays["cell_A"], dtype=np.float64) if periodic else None
    structure = TrajectorySample(
        positions=np.asarray(arrays["positions_A"]),
        numbers=numbers,
        cell=cell,
        pbc=pbc if periodic else None,
        frame_interval_ps=float(arrays["structure_interval_ps"]),
    )
    dynamics = TrajectorySample(
        positions=np.asarray(arrays["velocity_positions_A"]),
        velocities=np.asarray(arrays["velocities_A_per_fs"]),
        numbers=numbers,
        cell=cell,
        pbc=pbc if periodic else None,
        frame_interval_ps=float(arrays["velocity_interval_ps"]),
    )
    return structure, dynamics


def observables_vs_control(
    own: Mapping[str, np.ndarray], control: Mapping[str, np.ndarray], *, bonds: Pairs
) -> dict[str, Any]:
    """The distances of a run to its control, and the control's noise floor under ``noise``.

    Returns the keys of :data:`~mdval.metrics.observables.OBSERVABLE_METRICS` plus ``noise``
    (the same keys, control first half vs second half). Empty when either run kept no frame.
    """
    if not len(own.get("positions_A", ())) or not len(control.get("positions_A", ())):
        return {}
    own_s, own_v = samples(own)
    ctl_s, ctl_v = samples(control)
    if own_s.numbers.shape != ctl_s.numbers.shape or np.any(own_s.numbers != ctl_s.numbers):
        return {}
    out = equilibrium_observables(own_s, ctl_s, bonds=bonds)
    noise = observables_noise(ctl_s, bonds=bonds)
    if own_v.n_frames and ctl_v.n_frames:
        dyn = equilibrium_observables(own_v, ctl_v, bonds=bonds)
        dyn_noise = observables_noise(ctl_v, bonds=bonds)
        for key in _VDOS_KEYS:
            out[key] = dyn[key]
            noise[key] = dyn_noise[key]
    out["noise"] = noise
    return out
