"""Data of the live run view: series pages from the API, folded into figures and stats."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Patch, no_update

from dashboard import api, criteria, live
from dashboard.figures import (
    ENERGY_XY,
    WEBGL_MIN_POINTS,
    drift_figure,
    energy_figure,
    force_error_histogram,
    histogram_bars,
    histogram_range,
)
from dashboard.figures import shade_equilibration as _shade

#: Records per thermo request (the API caps it at its page_size_max).
THERMO_PAGE = 10_000


async def thermo_after(run_id: int, after_seq: int, token: str | None) -> dict[str, Any]:
    """Every thermo record after ``after_seq``, paging until the API has no more."""
    merged: dict[str, Any] | None = None
    cursor = after_seq
    while True:
        page = await api.get(
            f"/runs/{run_id}/thermo",
            token=token,
            params={"after_seq": cursor, "limit": THERMO_PAGE},
        )
        if merged is None:
            merged = page
        else:
            for key, values in page.items():
                if isinstance(values, list):
                    merged[key].extend(values)
            merged["next_after_seq"] = page["next_after_seq"]
        if page["n"] < THERMO_PAGE or page["next_after_seq"] is None:
            return merged
        cursor = page["next_after_seq"]


async def force_errors_after(run_id: int, after_seq: int, token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = await api.get(
        f"/runs/{run_id}/force-errors", token=token, params={"after_seq": after_seq, "bins": 0}
    )
    return body


def expected_records(run: dict[str, Any]) -> int:
    """Thermo records the whole run will have (both phases)."""
    config = run.get("config") or {}
    every = int(config.get("record_every") or 10)
    steps = run.get("total_steps") or round(
        1000.0 * (run["duration_ps"] + run.get("equilibration_ps", 0.0)) / run["timestep_fs"]
    )
    return int(steps) // every + 1


def full_figures(
    run: dict[str, Any],
    state: dict[str, Any],
    thermo: dict[str, Any],
    force_errors: dict[str, Any],
    thresholds: list[dict[str, Any]] | None,
) -> tuple[Any, Any, Any]:
    """First load: every point so far into the energy, drift and histogram figures;
    ``thresholds``: the profile's criteria for the run's device (from the API)."""
    points = live.absorb_thermo(state, thermo)
    webgl = expected_records(run) > WEBGL_MIN_POINTS
    fig_energy = _shade(energy_figure(points, webgl=webgl), state["equilibration_ps"])
    phase = np.asarray(thermo.get("phase", []))
    prod = phase == "production"
    t_drift, drift = live.running_drift_curve(
        np.asarray(thermo.get("time_ps", []), float)[prod],
        np.asarray(thermo.get("etot_eV", []), float)[prod],
        np.asarray(thermo.get("ekin_eV", []), float)[prod],
    )
    target, acceptable = criteria.thresholds_of(thresholds, "drift_percent")
    fig_drift = drift_figure(t_drift.tolist(), drift.tolist(), target=target, acceptable=acceptable)
    values = live.absorb_force_errors(state, force_errors)
    f_target, f_acceptable = criteria.thresholds_of(thresholds, "force_rmse_eV_per_A")
    hist = state["hist"]
    state["force_acceptable"] = f_acceptable
    live.bin_values(hist, values, span=f_acceptable)
    fig_hist = force_error_histogram(
        hist["counts"], hist["width"] or 1.0, target=f_target, acceptable=f_acceptable
    )
    return fig_energy, fig_drift, fig_hist


def patches(
    state: dict[str, Any], thermo: dict[str, Any], force_errors: dict[str, Any]
) -> tuple[Any, Any, Any, int]:
    """Later polls: only the new points, as Patch objects that extend the traces."""
    points = live.absorb_thermo(state, thermo)
    values = live.absorb_force_errors(state, force_errors)
    energy = Patch()
    for i, (x_key, y_key) in enumerate(ENERGY_XY):
        if points[x_key]:
            energy["data"][i]["x"].extend(points[x_key])
            energy["data"][i]["y"].extend(points[y_key])
    drift = Patch()
    if points["drift_t"]:
        drift["data"][0]["x"].extend(points["drift_t"])
        drift["data"][0]["y"].extend(points["drift_percent"])
    hist: Any = no_update
    if live.bin_values(state["hist"], values):  # a few dozen bars: send them all
        bars = histogram_bars(state["hist"]["counts"], state["hist"]["width"])
        hist = Patch()
        hist["data"][0]["x"] = bars["x"]
        hist["data"][0]["y"] = bars["y"]
        hist["data"][0]["width"] = state["hist"]["width"]
        hist["layout"]["xaxis"]["range"] = histogram_range(
            state["hist"]["counts"], state["hist"]["width"], state.get("force_acceptable")
        )
    return energy, drift, hist, len(points["t"])


async def criteria_rows(
    run: dict[str, Any],
    state: dict[str, Any],
    thresholds: list[dict[str, Any]] | None,
    token: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """The final criteria from the summary once the run ended, else the provisional ones:
    the running numbers judged by the API (the core's evaluation)."""
    summary = run.get("summary") or {}
    if summary.get("criteria"):
        described = {c["name"]: c for c in thresholds or []}
        rows = [
            {**c, "description": described.get(c["name"], {}).get("description")}
            for c in summary["criteria"]
        ]
        return rows, False
    metrics = live.provisional_metrics(state)
    device = run.get("device_name") or run.get("device")
    judged = await criteria.levels(run.get("profile"), [metrics], device, token)
    return (judged[0] if judged else []), True


async def current_frame(run_id: int, token: str | None) -> dict[str, Any] | None:
    """The last complete frame of the run's trajectory with its bonds
    (``GET /runs/{id}/frames``); None when none is written yet."""
    try:
        body = await api.get(f"/runs/{run_id}/frames", token=token, params={"index": -1})
    except api.ApiError:
        return None
    frames = body.get("frames") or []
    return dict(frames[-1]) if frames else None
