"""Dashboard timings in a real headless Chromium; prints one JSON document.

(a) ``record_to_screen``: a thermo record committed the way a worker flushes it (one batched
    insert + commit) until the open live view has drawn it. The page keeps a timestamp of
    every change of its point count (requestAnimationFrame, same clock as this process).
(b) ``first_paint``: every page, from navigation start until its data is on screen, with a
    50 ps run recorded every 10 steps (10,000 records, 1,000 force-error samples, 1,000
    frames) and 1,000 other runs in the database. Browser caches warm (the median of
    ``--repeat`` loads) plus the very first, cold load.

The service runs as in production minus the workers (uvicorn, ``app.main:create_app`` with
the dashboard mounted) on SQLite in a temp directory. Usage::

    python benchmarks/dashboard_latency.py [--runs 1000] [--writes 15] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy.orm import Session  # noqa: E402

from app.crud import series  # noqa: E402
from app.db.session import make_engine  # noqa: E402
from tests.dashboard import fake_data, server  # noqa: E402
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

POINTS_JS = (
    "() => { const g = document.querySelector('#run-energy .js-plotly-plot');"
    " return g && g.data && g.data.length > 1 ? g.data[1].x.length : -1; }"
)
FCP_JS = "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
WATCH_JS = """() => { window.__seen = []; let last = -1;
  const tick = () => { const g = document.querySelector('#run-energy .js-plotly-plot');
    const n = g && g.data && g.data.length > 1 ? g.data[1].x.length : -1;
    if (n !== last) {
      window.__seen.push([n, performance.timeOrigin + performance.now()]); last = n; }
    requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def pages(long_run: int) -> dict[str, tuple[str, str]]:
    """Page -> (path, JS condition that is true once its data is painted)."""
    return {
        "leaderboard": ("/", "() => document.querySelectorAll('#lb-table td').length > 20"),
        "submit": (
            "/submit",
            "() => !!document.querySelector('#submit-checks li, #submit-checks p')",
        ),
        "runs": ("/runs", "() => document.querySelectorAll('#runs-table td').length > 20"),
        "live view (10,000 records)": (
            f"/runs/{long_run}",
            "() => { const g = document.querySelector('#run-energy .js-plotly-plot');"
            " return g && g.data && g.data[1] && g.data[1].x.length >= 10000; }",
        ),
        "compare": (
            "/compare?models=zoo:original,zoo:tiny",
            "() => { const d = (id) => (document.querySelector(id + ' .js-plotly-plot') || {}).data"
            " || []; return d('#comp-drift').length >= 2 && d('#comp-phipsi').length >= 2"
            " && d('#comp-ke').length >= 2 && d('#comp-rmsd').length >= 1; }",
        ),
        "stand-up": ("/standup", "() => document.querySelectorAll('#su-finished td').length > 20"),
        "report": ("/report", "() => document.querySelectorAll('#report-preview td').length > 8"),
    }


def _browser(p: Any, profile: str) -> Any:
    return p.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport={"width": 1440, "height": 900},
    )


def first_paint(p: Any, url: str, long_run: int, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        context = _browser(p, profile)
        page = context.new_page()
        page.set_default_timeout(60_000)
        cold = None
        for name, (path, ready) in pages(long_run).items():
            times, fcps = [], []
            for _ in range(repeat + (1 if cold is None else 0)):
                page.goto("about:blank")
                page.goto(url + path, wait_until="commit")
                try:
                    page.wait_for_function(ready, polling="raf")
                except Exception as exc:
                    raise RuntimeError(f"page {name} ({path}) never showed its data") from exc
                ms = page.evaluate("() => performance.now()")
                fcp = page.evaluate(FCP_JS)
                if cold is None:
                    cold = {"page": name, "data_painted_ms": round(ms)}
                    continue
                times.append(ms)
                fcps.append(fcp)
            out[name] = {
                "data_painted_ms_median": round(statistics.median(times)),
                "data_painted_ms_max": round(max(times)),
                "first_contentful_paint_ms_median": round(statistics.median(f for f in fcps if f)),
            }
        out["cold_first_load"] = cold
        context.close()
    return out


def record_latency(p: Any, url: str, engine: Any, run_id: int, writes: int) -> dict[str, Any]:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        context = _browser(p, profile)
        page = context.new_page()
        page.goto(f"{url}/runs/{run_id}")
        page.wait_for_function(f"() => ({POINTS_JS})() >= 0")
        page.evaluate(WATCH_JS)
        written: list[tuple[int, float]] = []
        seq = 0
        for _ in range(writes):
            time.sleep(rng.uniform(0.5, 1.5))  # any phase relative to the 1 s poll
            rows = fake_data.thermo_rows(run_id, 5, start_seq=seq)
            with Session(engine) as session:
                series.insert_thermo(session, rows=rows)
                session.commit()
            seq += len(rows)
            written.append((seq, time.time() * 1000.0))
        page.wait_for_function(f"() => ({POINTS_JS})() >= {seq}", timeout=30_000)
        seen = page.evaluate("() => window.__seen")
        context.close()
    latencies = []
    for count, at in written:
        shown = next(t for n, t in seen if n >= count)
        latencies.append(shown - at)
    latencies.sort()
    return {
        "writes": len(latencies),
        "median_ms": round(statistics.median(latencies)),
        "p95_ms": round(latencies[max(0, int(0.95 * len(latencies)) - 1)]),
        "max_ms": round(max(latencies)),
        "poll_interval_ms": 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mdval-dash-bench-") as tmp:
        data = Path(tmp)
        server.prepare(data)
        engine = make_engine(server.database_url(data))
        fake_data.seed_catalog(engine)
        fake_data.populate_runs(engine, args.runs)
        long = fake_data.populate_long_run(engine, data / "artifacts")
        running = fake_data.make_running_run(engine)
        with server.serve(data) as url, sync_playwright() as p:
            paint = first_paint(p, url, long.run_id, args.repeat)
            latency = record_latency(p, url, engine, running, args.writes)
        engine.dispose()
    print(
        json.dumps(
            {
                "machine": {
                    "cpus": __import__("os").cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "database": {
                    "runs": args.runs + 2,
                    "long_run_records": long.n_thermo,
                    "backend": "sqlite",
                },
                "record_to_screen": latency,
                "first_paint": paint,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
