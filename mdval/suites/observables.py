"""Equilibrium observables of a suite's cell: the model against its controls, beside the
distance between independent control replicas.

A single run's noise floor (its control's first half against its second,
:func:`mdval.metrics.observables.observables_noise`) underestimates the noise of slow
degrees of freedom: a 5 ps trajectory stays in one φ/ψ basin, so both halves agree while an
independent trajectory (another seed) visits another. The replicas of a cell give the honest
floor: the mean distance between the controls of different seeds. A model's observable is
signal when its mean distance to its controls clearly exceeds that floor.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mdval.controls.compare import observables_vs_control
from mdval.metrics.stability import Pairs

#: The observables averaged per cell (the scalar ones of OBSERVABLE_METRICS).
CELL_OBSERVABLES: tuple[str, ...] = (
    "rdf_w1_A",
    "bond_length_w1_A",
    "bond_angle_w1_deg",
    "dihedral_js",
    "vdos_w1_THz",
)


def replica_floor(
    control_frames: Sequence[Mapping[str, np.ndarray]], *, bonds: Pairs
) -> dict[str, float | None]:
    """Mean of each observable over all pairs of control replicas (None with < 2)."""
    values: dict[str, list[float]] = {k: [] for k in CELL_OBSERVABLES}
    for a, b in itertools.combinations(control_frames, 2):
        distances = observables_vs_control(a, b, bonds=bonds)
        for key in CELL_OBSERVABLES:
            v = distances.get(key)
            if isinstance(v, int | float) and math.isfinite(v):
                values[key].append(float(v))
    return {k: (float(np.mean(v)) if v else None) for k, v in values.items()}


def cell_observables(
    summaries: Sequence[Mapping[str, Any]],
    control_frames: Sequence[Mapping[str, np.ndarray]],
    *,
    bonds: Pairs,
) -> dict[str, Any]:
    """Per observable: the mean over the cell's runs of the distance to their own control
    (``model_vs_control``), and the replica floor (``control_replicas``)."""
    floor = replica_floor(control_frames, bonds=bonds)
    out: dict[str, Any] = {"n_runs": 0, "n_control_replicas": len(control_frames)}
    model: dict[str, list[float]] = {k: [] for k in CELL_OBSERVABLES}
    for summary in summaries:
        observables = summary.get("observables") or {}
        if observables:
            out["n_runs"] += 1
        for key in CELL_OBSERVABLES:
            v = observables.get(key)
            if isinstance(v, int | float) and math.isfinite(v):
                model[key].append(float(v))
    for key in CELL_OBSERVABLES:
        out[key] = {
            "model_vs_control": float(np.mean(model[key])) if model[key] else None,
            "control_replicas": floor[key],
        }
    return out
