"""Equilibrium observables of a run against its control's own MD (METRICS.md).

Both runs keep their production frames in a :class:`~mdval.md.observers.FrameSampler`
(the fine sample, every ≤ 2 fs, for the distributions and the VDOS when it is the larger);
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

#: phi/psi histogram bins per axis (20°): a few thousand correlated frames fill 18 × 18 bins;
#: 36 × 36 leaves most bins empty and the JS divergence near 1 from sampling alone.
DIHEDRAL_BINS = 18


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
    # The fine sample (every ≤ 2 fs) serves the distributions too when it holds more frames
    # than the structure sample; its VDOS needs it anyway.
    if own_v.n_frames >= own_s.n_frames and ctl_v.n_frames >= ctl_s.n_frames:
        own_s, ctl_s = own_v, ctl_v
    out = equilibrium_observables(own_s, ctl_s, bonds=bonds, dihedral_bins=DIHEDRAL_BINS)
    noise = observables_noise(ctl_s, bonds=bonds, dihedral_bins=DIHEDRAL_BINS)
    if own_s is not own_v and own_v.n_frames and ctl_v.n_frames:
        out["vdos_w1_THz"] = equilibrium_observables(own_v, ctl_v, bonds=bonds)["vdos_w1_THz"]
        noise["vdos_w1_THz"] = observables_noise(ctl_v, bonds=bonds)["vdos_w1_THz"]
    out["noise"] = noise
    return out
