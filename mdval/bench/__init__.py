"""The speed and memory benchmark of mdval (issue 6): ``mdval bench`` and
``benchmarks/bench_md.py`` both call :func:`run_suite`.

- :mod:`~mdval.bench.systems` — benchmark structures (alanine dipeptide, water clusters)
- :mod:`~mdval.bench.measure` — bare model, torch engine, ASE engine measurements
- :mod:`~mdval.bench.suite` — the plan (full or quick) and the run
- :mod:`~mdval.bench.analysis` — speed-ups, overheads, scaling, crossover, targets
- :mod:`~mdval.bench.records` — the JSON record and the run's context
- :mod:`~mdval.bench.plots` — plotly figures (HTML; PNG when kaleido is installed)
"""

from __future__ import annotations

from mdval.bench.records import RECORD_KEYS, BenchRecord
from mdval.bench.suite import QUICK, BenchPlan, BenchReport, run_suite

__all__ = ["QUICK", "RECORD_KEYS", "BenchPlan", "BenchRecord", "BenchReport", "run_suite"]
