"""Suites: named sets of runs as data, expanded into RunConfigs; replica aggregation.

>>> configs = expand("m6-quick", model="zoo:original", device="cuda")
>>> [run_key(c) for c in configs][0]
'H2O_300K_0.5fs_5ps_s0'
>>> aggregate_summaries(summaries)["groups"][0]["metrics"]["drift_percent"]["mean"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mdval.md.config import RunConfig
from mdval.suites.aggregation import AGGREGATED_METRICS, aggregate, aggregate_summaries
from mdval.suites.expansion import SUITE_DEFAULT, expand_suite, group_key, run_key
from mdval.suites.loading import demo_suites, list_suites, load_suite, parse_suite
from mdval.suites.schema import ExtraRun, Suite


def expand(suite: Suite | str | Path, *, model: str, **kwargs: Any) -> list[RunConfig]:
    """Every run of ``suite`` (a Suite, a built-in name or a file) for ``model``.

    Keyword arguments are those of :func:`mdval.suites.expansion.expand_suite`.
    """
    return expand_suite(load_suite(suite), model=model, **kwargs)


__all__ = [
    "AGGREGATED_METRICS",
    "SUITE_DEFAULT",
    "ExtraRun",
    "Suite",
    "aggregate",
    "aggregate_summaries",
    "demo_suites",
    "expand",
    "expand_suite",
    "group_key",
    "list_suites",
    "load_suite",
    "parse_suite",
    "run_key",
]
