"""Running statistics of a live run, kept in a small ``dcc.Store`` between polls.

The browser holds the plotted points; the server keeps only sufficient statistics, so each
poll costs O(new records): the least-squares slope of E_tot(t) over the production segment
(METRICS.md ``drift_*``), the mean kinetic energy, the force RMSE of the samples so far and
a window of recent inference times for the median.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np

#: Inference times kept for the running median (ms).
INFERENCE_WINDOW = 200
#: Histogram bins across the larger of the largest error and the force criterion's
#: acceptable RMSE (the bin width is fixed at the first poll; later errors add bins).
HISTOGRAM_BINS = 40
DEFAULT_HISTOGRAM_SPAN_EV_PER_A = 0.3


def new_state(run: dict[str, Any]) -> dict[str, Any]:
    """The store's content before the first poll of run ``run`` (a RunRead body)."""
    return {
        "run_id": run["id"],
        "after_seq": -1,
        "fe_after_seq": -1,
        "n_atoms": run.get("n_atoms"),
        "equilibration_ps": float(run.get("equilibration_ps") or 0.0),
        "e0": None,
        "sums": {"n": 0, "t": 0.0, "e": 0.0, "tt": 0.0, "te": 0.0, "ek": 0.0},
        "t_first": None,
        "t_last": None,
        "max_dev_eV": 0.0,
        "inference_ms": [],
        "fe": {"n": 0, "sq": 0.0},
        "hist": {"width": None, "counts": []},
        "status": run.get("status"),
        "points": 0,
    }


def display_time(phase: str, t_ps: float, equilibration_ps: float) -> float:
    """One time axis for both phases: equilibration on [-eq, 0), production on [0, T]."""
    return t_ps - equilibration_ps if phase == "equilibration" else t_ps


def absorb_thermo(state: dict[str, Any], cols: dict[str, Any]) -> dict[str, list[float]]:
    """Fold a ThermoSeries page into ``state`` (in place); returns the new points per trace:
    ``t`` (display time, ps), ``epot_eV``, ``ekin_eV``, ``temperature_K`` for every record;
    ``t_prod`` and ``detot_meV`` (E_tot - E_tot(0) of the production segment); and one
    running-drift point ``drift_t``/``drift_percent`` when the drift is defined.
    Values are rounded for the wire (0.01 fs, 1 µeV, 0.1 µeV, 1 mK: below what a plot
    resolves)."""
    phase = np.asarray(cols.get("phase", []), dtype=object)
    t = np.asarray(cols.get("time_ps", []), float)
    eq = state["equilibration_ps"]
    prod = phase == "production"
    shown_t = np.where(prod, t, t - eq)
    inference = np.asarray([np.nan if v is None else v for v in cols.get("inference_ms", [])])
    state["inference_ms"] = (state["inference_ms"] + inference[np.isfinite(inference)].tolist())[
        -INFERENCE_WINDOW:
    ]
    out = {
        "t": np.round(shown_t, 5).tolist(),
        "epot_eV": np.round(np.asarray(cols.get("epot_eV", []), float), 6).tolist(),
        "ekin_eV": np.round(np.asarray(cols.get("ekin_eV", []), float), 6).tolist(),
        "temperature_K": np.round(np.asarray(cols.get("temperature_K", []), float), 3).tolist(),
        "t_prod": [],
        "detot_meV": [],
        "drift_t": [],
        "drift_percent": [],
    }
    if prod.any():
        tp = t[prod]
        etot = np.asarray(cols["etot_eV"], float)[prod]
        ekin = np.asarray(cols["ekin_eV"], float)[prod]
        if state["e0"] is None and np.isfinite(etot[0]):
            state["e0"], state["t_first"] = float(etot[0]), float(tp[0])
        de = etot - (state["e0"] if state["e0"] is not None else np.nan)
        ok = np.isfinite(de) & np.isfinite(ekin)  # a crashing run may end in NaN
        sums = state["sums"]
        sums["n"] += int(ok.sum())
        sums["t"] += float(tp[ok].sum())
        sums["e"] += float(de[ok].sum())
        sums["tt"] += float((tp[ok] ** 2).sum())
        sums["te"] += float((tp[ok] * de[ok]).sum())
        sums["ek"] += float(ekin[ok].sum())
        if ok.any():
            state["max_dev_eV"] = max(state["max_dev_eV"], float(np.abs(de[ok]).max()))
            state["t_last"] = float(tp[ok][-1])
        out["t_prod"] = np.round(tp, 5).tolist()
        out["detot_meV"] = np.round(1000.0 * de, 4).tolist()
    state["after_seq"] = cols.get("next_after_seq", state["after_seq"])
    state["points"] += len(out["t"])
    drift = drift_of(state)
    if drift is not None and out["t_prod"]:
        out["drift_t"].append(out["t_prod"][-1])
        out["drift_percent"].append(drift["drift_percent"])
    return out


def drift_of(state: dict[str, Any]) -> dict[str, float] | None:
    """Drift so far (METRICS.md): slope of the least-squares line through (t, E_tot)."""
    s = state["sums"]
    n = s["n"]
    if n < 3:
        return None
    denom = n * s["tt"] - s["t"] ** 2
    if denom <= 0:
        return None
    slope = (n * s["te"] - s["t"] * s["e"]) / denom  # eV/ps
    mean_ekin = s["ek"] / n
    span = (state["t_last"] or 0.0) - (state["t_first"] or 0.0)
    n_atoms = state.get("n_atoms") or 1
    return {
        "slope_eV_per_ps": slope,
        "drift_meV_per_atom_per_ps": 1000.0 * slope / n_atoms,
        "drift_percent": 100.0 * abs(slope * span) / mean_ekin if mean_ekin > 0 else math.nan,
        "max_deviation_percent": 100.0 * state["max_dev_eV"] / mean_ekin
        if mean_ekin > 0
        else math.nan,
    }


def bin_values(hist: dict[str, Any], values: list[float], *, span: float | None = None) -> bool:
    """Add error norms (eV/Å) to the fixed-width histogram ``hist`` (in place); the width
    is set on the first values. Returns whether anything was added."""
    finite = [v for v in values if math.isfinite(v) and v >= 0]
    if not finite:
        return False
    if hist["width"] is None:
        top = max(max(finite), span or DEFAULT_HISTOGRAM_SPAN_EV_PER_A)
        hist["width"] = top / HISTOGRAM_BINS
    counts = hist["counts"]
    for v in finite:
        k = int(v / hist["width"])
        if k >= len(counts):
            counts.extend([0] * (k + 1 - len(counts)))
        counts[k] += 1
    return True


def absorb_force_errors(state: dict[str, Any], body: dict[str, Any]) -> list[float]:
    """Fold a ForceErrors page into ``state``; returns the new per-atom error norms (eV/Å)."""
    values: list[float] = []
    for sample in body.get("samples", []):
        rmse = sample.get("force_rmse_eV_per_A")
        if rmse is not None and math.isfinite(rmse):
            state["fe"]["n"] += 1
            state["fe"]["sq"] += rmse * rmse
        values.extend(float(v) for v in sample.get("per_atom_error_eV_per_A", []))
    state["fe_after_seq"] = body.get("next_after_seq", state["fe_after_seq"])
    return values


def provisional_metrics(state: dict[str, Any]) -> dict[str, Any]:
    """The criteria's metrics as far as the run got (names of summary.json ``metrics``)."""
    drift = drift_of(state) or {}
    fe = state["fe"]
    return {
        "crashed": state.get("status") == "crashed",
        "drift_percent": drift.get("drift_percent"),
        "drift_meV_per_atom_per_ps": drift.get("drift_meV_per_atom_per_ps"),
        "force_rmse_eV_per_A": math.sqrt(fe["sq"] / fe["n"]) if fe["n"] else None,
        "inference_ms_per_step": statistics.median(state["inference_ms"])
        if state["inference_ms"]
        else None,
        "stable_duration_ps": state["t_last"] if state["t_last"] is not None else 0.0,
    }


def running_drift_curve(
    t_ps: np.ndarray, etot_eV: np.ndarray, ekin_eV: np.ndarray, *, max_points: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """drift_percent(t) over growing prefixes of the production segment, from cumulative
    sums (O(n)); at most ``max_points`` evenly spaced prefixes (>= 3 records each)."""
    n = len(t_ps)
    if n < 3:
        return np.empty(0), np.empty(0)
    t = np.asarray(t_ps, float)
    de = np.asarray(etot_eV, float) - float(etot_eV[0])
    k = np.arange(1, n + 1, dtype=float)
    st, se = np.cumsum(t), np.cumsum(de)
    stt, ste = np.cumsum(t * t), np.cumsum(t * de)
    ek = np.cumsum(np.asarray(ekin_eV, float)) / k
    denom = k * stt - st**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (k * ste - st * se) / denom
        drift = 100.0 * np.abs(slope * (t - t[0])) / ek
    idx = np.unique(np.linspace(2, n - 1, min(max_points, n - 2)).astype(int))
    keep = idx[np.isfinite(drift[idx])]
    return t[keep], drift[keep]
