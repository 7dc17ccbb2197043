"""Replicas: a mean with a Student-t 95 % interval, and run summaries grouped by seed.

Runs that differ only by ``seed`` are replicas of one run. For each group the listed metrics
are aggregated over the group's *completed* runs (``include_crashed=True`` adds the crashed
ones, whose metrics cover only the time before the crash), skipping metrics that are missing,
None or not finite; each aggregate's ``n`` says how many values went in. Crash rate follows
METRICS.md: crashed / (completed + crashed), None when no run finished.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mdval.errors import InputError
from mdval.metrics.statistics import median_time_to_failure, survival_curve
from mdval.suites.expansion import group_key

#: Metrics aggregated over replicas by default.
AGGREGATED_METRICS: tuple[str, ...] = (
    "drift_percent",
    "drift_meV_per_atom_per_ps",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
    "inference_ms_per_step",
    "step_ms",
    "temperature_mean_K",
    "fluctuation_ratio",
    "max_deviation_percent",
)
CONFIDENCE = 0.95


def aggregate(values: Sequence[float]) -> dict[str, Any]:
    """Mean and two-sided 95 % Student-t interval of finite ``values``.

    Returns ``{"mean", "ci95_low", "ci95_high", "n"}``: mean ± t(0.975, n−1)·s/√n with s the
    sample standard deviation (ddof = 1). One value has no interval (None); none has no mean.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InputError(f"aggregate takes a flat sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("aggregate takes finite numbers only (drop None/NaN first)")
    n = int(arr.size)
    if n == 0:
        return {"mean": None, "ci95_low": None, "ci95_high": None, "n": 0}
    mean = float(arr.mean())
    if n == 1:
        return {"mean": mean, "ci95_low": None, "ci95_high": None, "n": 1}
    from scipy import stats  # local: scipy.stats is slow to import and only needed here

    t_crit = float(stats.t.ppf(0.5 + CONFIDENCE / 2.0, df=n - 1))
    half = t_crit * float(arr.std(ddof=1)) / math.sqrt(n)
    return {"mean": mean, "ci95_low": mean - half, "ci95_high": mean + half, "n": n}


def aggregate_summaries(
    summaries: Sequence[Mapping[str, Any]],
    *,
    metrics: Sequence[str] = AGGREGATED_METRICS,
    include_crashed: bool = False,
) -> dict[str, Any]:
    """Group run summaries that differ only by seed and aggregate their metrics.

    Each summary needs ``status`` and ``config`` (RunConfig fields; ``seed`` is what varies),
    and may have ``metrics`` and ``verdict``. Returns the overall counts and ``groups`` in
    order of first appearance::

        {"n_runs", "n_completed", "n_crashed", "n_other", "crash_rate", "n_pass", "n_fail",
         "n_inconclusive", "n_protocol_invalid", "largest_stable_timestep_fs",
         "groups": [{"key", "config" (without seed), "seeds", "n_runs", "n_completed",
                     "n_crashed", "n_other", "crash_rate", "n_pass", "n_fail",
                     "n_inconclusive", "n_protocol_invalid",
                     "metrics": {name: aggregate(...)},
                     "survival": {"time_ps", "alive_fraction"},
                     "time_to_failure": {"median_ps", "ci95_low_ps", "ci95_high_ps"}}]}
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for index, summary in enumerate(summaries):
        config = summary.get("config")
        if not isinstance(config, Mapping):
            raise InputError(f"run summary {index} has no config")
        shared = {k: v for k, v in config.items() if k != "seed"}
        identity = json.dumps(shared, sort_keys=True, default=str)
        grouped.setdefault(identity, []).append(summary)
        configs[identity] = shared
    statuses = {"completed", "crashed"} if include_crashed else {"completed"}
    groups = []
    used_keys: set[str] = set()
    for identity, members in grouped.items():
        key = _unique_key(configs[identity], identity, used_keys)
        values: dict[str, list[float]] = {name: [] for name in metrics}
        for summary in members:
            if summary.get("status") not in statuses:
                continue
            run_metrics = summary.get("metrics") or {}
            for name in metrics:
                value = _finite(run_metrics.get(name))
                if value is not None:
                    values[name].append(value)
        groups.append(
            {
                "key": key,
                "config": configs[identity],
                "seeds": [s["config"].get("seed", 0) for s in members],
                **_counts(members),
                **_verdict_counts(members),
                "metrics": {name: aggregate(v) for name, v in values.items()},
                **_survival(members),
            }
        )
    return {
        **_counts(summaries),
        **_verdict_counts(summaries),
        "largest_stable_timestep_fs": largest_stable_timestep_fs(summaries),
        "groups": groups,
    }


def _verdict_counts(summaries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    verdicts = [s.get("verdict") for s in summaries]
    return {
        "n_pass": verdicts.count("pass"),
        "n_fail": verdicts.count("fail"),
        "n_inconclusive": verdicts.count("inconclusive"),
        "n_protocol_invalid": verdicts.count("protocol invalid"),
    }


def _survival(members: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Survival curve of a cell's replicas over production time, and the median time to
    failure with its 95 % interval (METRICS.md, "Stability")."""
    finished = [s for s in members if s.get("status") in ("completed", "crashed")]
    if not finished:
        return {"survival": None, "time_to_failure": None}
    duration = float(finished[0]["config"].get("duration_ps") or 0.0)
    times = [failure_time_ps(s) for s in finished]
    return {
        "survival": survival_curve(times, duration),
        "time_to_failure": median_time_to_failure(times, duration),
    }


def failure_time_ps(summary: Mapping[str, Any]) -> float | None:
    """Production time at which a crashed run failed (None: it did not crash): its
    ``metrics.stable_duration_ps``, else (an older summary) ``time_to_failure_ps`` less the
    equilibration. The failure times that :func:`survival_curve` and
    :func:`median_time_to_failure` take (the API's ``/survival`` uses this too)."""
    if summary.get("status") != "crashed":
        return None
    stable = (summary.get("metrics") or {}).get("stable_duration_ps")
    if stable is None:  # an older summary: time from the start of the run
        config = summary.get("config") or {}
        ttf = summary.get("time_to_failure_ps")
        stable = None if ttf is None else max(0.0, ttf - config.get("equilibration_ps", 0.0))
    return float(stable) if stable is not None else 0.0


def largest_stable_timestep_fs(summaries: Sequence[Mapping[str, Any]]) -> float | None:
    """The largest timestep (fs) at which no run, nor any run at a smaller timestep, fails
    on its own evidence (``verdict_without_control``, else ``verdict``): the model's own
    limit, whatever its control says. None when the smallest timestep already fails."""
    by_dt: dict[float, list[str | None]] = {}
    for s in summaries:
        dt = (s.get("config") or {}).get("timestep_fs")
        if dt is None or s.get("status") not in ("completed", "crashed"):
            continue
        by_dt.setdefault(float(dt), []).append(s.get("verdict_without_control", s.get("verdict")))
    stable = None
    for dt in sorted(by_dt):
        if "fail" in by_dt[dt]:
            break
        stable = dt
    return stable


def _counts(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    completed = sum(1 for s in summaries if s.get("status") == "completed")
    crashed = sum(1 for s in summaries if s.get("status") == "crashed")
    finished = completed + crashed
    return {
        "n_runs": len(summaries),
        "n_completed": completed,
        "n_crashed": crashed,
        "n_other": len(summaries) - finished,
        "crash_rate": crashed / finished if finished else None,
    }


def _unique_key(config: Mapping[str, Any], identity: str, used: set[str]) -> str:
    try:
        key = group_key(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"run config {dict(config)!r} lacks a field of its key: {exc}") from exc
    if key in used:  # same structure/T/dt/duration, other fields differ (model, profile ...)
        key = f"{key}_{hashlib.sha256(identity.encode()).hexdigest()[:8]}"
    used.add(key)
    return key


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
