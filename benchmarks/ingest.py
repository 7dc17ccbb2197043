"""Series ingest: rows/s into Postgres, and the share of a real run's wall time it costs.

    python benchmarks/ingest.py [--database-url URL] [--rows 200000] [--batch 1000]

Without ``--database-url`` a scratch database is created on the local Postgres and dropped.
Prints one JSON object. Targets (issue 4): >= 100,000 rows/s, < 2 % of a run's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from app.crud import runs as runs_crud
from app.crud import series
from app.db.migrate import upgrade
from app.db.models import Potential, Run, Structure, ThermoRow
from app.db.session import make_engine

PG_ADMIN = os.environ.get("MDVAL_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = os.environ.get("MDVAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    if url:
        upgrade(url)
        yield url
        return
    name = f"mdval_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(f"{PG_BASE}/{name}")
        yield f"{PG_BASE}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_run_row(engine: Engine) -> int:
    with Session(engine) as s:
        tag = uuid.uuid4().hex[:6]
        model = Potential(
            spec=f"bench-{tag}", name="bench", kind="ase", core_spec="emt", supported_elements=None
        )
        structure = Structure(
            spec=f"bench-{tag}", name="bench", source="builtin", core_spec="cu-fcc",
            formula="Cu32", n_atoms=32, elements=["Cu"],
        )  # fmt: skip
        s.add_all([model, structure])
        s.flush()
        run = Run(
            submission_id=str(uuid.uuid4()), model_id=model.id, structure_id=structure.id,
            model_spec="emt", structure_spec="cu-fcc", temperature_K=300.0, timestep_fs=1.0,
            duration_ps=1.0, equilibration_ps=0.0, seed=0, profile="m6", device="cpu",
            config={"model": "emt", "structure": "cu-fcc"}, queue="cpu", status="queued",
            cancel_requested=False, attempt=0, max_attempts=1, done_steps=0, progress=0.0,
        )  # fmt: skip
        s.add(run)
        s.commit()
        return run.id


def rows_for(run_id: int, start: int, n: int) -> list[tuple[Any, ...]]:
    return [
        (run_id, i, "production", 10 * i, 0.01 * i, -900.1 - 1e-6 * i, 1.2, -898.9, 300.0, 1.5,
         0.4, None)
        for i in range(start, start + n)
    ]  # fmt: skip


def bench_throughput(engine: Engine, *, rows: int, batch: int, method: str) -> dict[str, Any]:
    """``rows`` thermo rows in transactions of ``batch`` rows (one flush each)."""
    run_id = make_run_row(engine)
    batches = [rows_for(run_id, i, min(batch, rows - i)) for i in range(0, rows, batch)]
    t0 = time.perf_counter()
    for chunk in batches:
        with Session(engine) as session:
            series.relax_durability(session)  # as the worker's flush does
            if method == "copy":
                series.insert_thermo(session, rows=chunk)
            else:  # executemany through SQLAlchemy (what SQLite uses)
                cols = series.THERMO_COLUMNS
                session.execute(insert(ThermoRow), [dict(zip(cols, r, strict=True)) for r in chunk])
            session.commit()
    wall = time.perf_counter() - t0
    return {
        "method": method,
        "rows": rows,
        "batch": batch,
        "seconds": wall,
        "rows_per_s": rows / wall,
    }


def bench_run_overhead(engine: Engine, *, duration_ps: float) -> dict[str, Any]:
    """A real EMT run streamed by the worker's listener: flush time / wall time."""
    from workers import core_bridge
    from workers.listener import DbStreamingListener

    run_id = make_run_row(engine)
    with Session(engine) as session:
        claim = runs_crud.claim_run(session, run_id=run_id, worker="bench")
        session.commit()
    assert claim is not None
    config = core_bridge.make_run_config(
        {"model": "emt", "structure": "cu-fcc", "reference": "emt", "duration_ps": duration_ps,
         "timestep_fs": 2.0, "record_every": 1, "reference_every": 10, "frame_every": 100,
         "device": "cpu"}
    )  # fmt: skip
    listener = DbStreamingListener(engine, claim, flush_interval_s=1.0)
    out = Path(f"/tmp/mdval-bench-{run_id}")
    t0 = time.perf_counter()
    result = core_bridge.run(config, out_dir=out, listener=listener)
    listener.flush()
    wall = time.perf_counter() - t0
    return {
        "run": "emt cu-fcc, record_every=1 (every step), reference every 10 steps",
        "status": result.status,
        "steps": round(duration_ps * 1000 / 2.0),
        "rows_written": listener.rows_written,
        "wall_s": wall,
        "flush_s": listener.flush_seconds,
        "ingest_share_percent": 100.0 * listener.flush_seconds / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--run-duration-ps", type=float, default=2.0)
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        engine = make_engine(url)
        try:
            report = {
                "benchmark": "series ingest",
                "host": platform.node(),
                "cpus": os.cpu_count(),
                "database": "postgresql",
                "copy": bench_throughput(engine, rows=args.rows, batch=args.batch, method="copy"),
                "copy_large_batches": bench_throughput(
                    engine, rows=args.rows, batch=10 * args.batch, method="copy"
                ),
                "executemany": bench_throughput(
                    engine, rows=args.rows // 4, batch=args.batch, method="executemany"
                ),
                "run": bench_run_overhead(engine, duration_ps=args.run_duration_ps),
                "targets": {"rows_per_s": 100_000, "ingest_share_percent": 2.0},
            }
        finally:
            engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
