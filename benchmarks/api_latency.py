"""API latency with a realistic database: 10,000 runs and 10 million thermo rows.

    python benchmarks/api_latency.py [--runs 10000] [--thermo-rows 10000000] [--requests 300]

Creates a scratch Postgres database (dropped at the end), fills it server-side, serves the
API with uvicorn on a free port (broker: the local Redis, on a queue prefix nobody consumes,
cleaned up afterwards) and times requests over HTTP keep-alive. Prints one JSON object.
Targets (issue 4): GET /api/v1/leaderboard p95 < 50 ms, POST /api/v1/runs p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import redis
import uvicorn
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud.tokens import create_token
from app.db.migrate import upgrade
from app.db.models import Potential, Profile, Run, Structure
from app.db.session import make_engine
from app.main import create_app

PG_ADMIN = os.environ.get("MDVAL_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = os.environ.get("MDVAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("MDVAL_BENCH_REDIS", "redis://127.0.0.1:6379/13")

MODELS = [
    "emt",
    "lj",
    "gfn2-xtb",
    "zoo:original",
    "zoo:tiny",
    "zoo:ultra-tiny",
    "upload:a",
    "upload:b",
]
STRUCTURES = ["cu-fcc", "H2O", "CH4", "alanine", "alanine-dipeptide"]
SUITES = ["m6-quick", "m6-full", None]
SCORED = ("completed", "crashed")


def fill(engine: Engine, *, n_runs: int, thermo_rows: int) -> dict[str, Any]:
    rng = random.Random(0)
    now = datetime.now(UTC)
    with Session(engine) as s:
        s.add(Profile(name="m6", definition=None))
        models = [
            Potential(spec=m, name=m, kind="ase", core_spec=m, builtin=True,
                      supported_elements=None, status="ready")
            for m in MODELS
        ]  # fmt: skip
        structures = [
            Structure(spec=x, name=x, source="builtin", core_spec=x, formula=x, n_atoms=32,
                      elements=["Cu"] if x == "cu-fcc" else ["C", "H", "N", "O"],
                      periodic=x == "cu-fcc")
            for x in STRUCTURES
        ]  # fmt: skip
        s.add_all([*models, *structures])
        s.flush()
        rows = []
        for i in range(n_runs):
            m, st = rng.choice(models), rng.choice(structures)
            status = rng.choices(["completed", "crashed", "failed", "cancelled"], [80, 12, 5, 3])[0]
            finished = now - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
            rows.append(
                {
                    "submission_id": str(uuid.uuid4()), "suite": rng.choice(SUITES),
                    "model_id": m.id, "structure_id": st.id, "model_spec": m.spec,
                    "structure_spec": st.spec, "temperature_K": rng.choice([100.0, 300.0, 500.0]),
                    "timestep_fs": 0.5, "duration_ps": 5.0, "equilibration_ps": 0.0, "seed": i,
                    "profile": "m6", "device": "cpu", "config": {"model": m.spec}, "queue": "cpu",
                    "status": status, "cancel_requested": False, "attempt": 1, "max_attempts": 2,
                    "created_at": finished - timedelta(minutes=10), "finished_at": finished,
                    "done_steps": 10000, "total_steps": 10000, "progress": 1.0,
                    "verdict": rng.choice(["pass", "fail"]) if status in SCORED else None,
                    "drift_percent": rng.uniform(0, 8),
                    "drift_meV_per_atom_per_ps": rng.gauss(0, 1),
                    "force_rmse_eV_per_A": rng.uniform(0.01, 2),
                    "force_mae_eV_per_A": rng.uniform(0.01, 1),
                    "force_r2": rng.uniform(0, 1), "force_angle_error_deg": rng.uniform(1, 60),
                    "energy_rmse_meV_per_atom": rng.uniform(0.1, 20),
                    "inference_ms_per_step": rng.uniform(1, 50), "device_name": "cpu",
                }
            )  # fmt: skip
        s.execute(insert(Run), rows)
        s.commit()
    per_run = max(1, thermo_rows // n_runs)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO thermo (run_id, seq, phase, step, time_ps, "epot_eV", "ekin_eV", '
                '"etot_eV", "temperature_K", "max_force_eV_per_A", inference_ms) '
                "SELECT r.id, g, 'production', 10 * g, 0.005 * g, -901 + random(), 1 + random(), "
                "-900 + random(), 300 * random(), random(), random() "
                "FROM runs r CROSS JOIN generate_series(0, :n - 1) AS g"
            ),
            {"n": per_run},
        )
        conn.execute(text("ANALYZE"))
    return {
        "runs": n_runs,
        "thermo_rows": per_run * n_runs,
        "fill_thermo_s": time.perf_counter() - t0,
    }


def timed(call: Callable[[], httpx.Response], n: int) -> dict[str, float]:
    for _ in range(min(20, n)):  # warm-up
        call().raise_for_status()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = call()
        times.append(1000.0 * (time.perf_counter() - t0))
        r.raise_for_status()
    times.sort()
    return {
        "n": n,
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (n - 1))],
        "p99_ms": times[int(0.99 * (n - 1))],
        "max_ms": times[-1],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--thermo-rows", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    name = f"mdval_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_BASE}/{name}"
    server = None
    try:
        upgrade(url)
        engine = make_engine(url)
        filled = fill(engine, n_runs=args.runs, thermo_rows=args.thermo_rows)
        with Session(engine) as s:
            _row, token = create_token(s, name="bench", role="submitter")
            s.commit()
        settings = Settings(
            database_url=url, broker_url=REDIS_URL, queue_prefix=prefix, reaper_interval_s=0,
            dashboard_factory="",
        )  # fmt: skip
        port = free_port()
        app = create_app(settings, engine=engine)
        config = uvicorn.Config(app, port=port, log_level="warning")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
        )
        run_id = http.get("/runs", params={"limit": 1}).json()["items"][0]["id"]
        body = {"model": "emt", "structure": "cu-fcc", "duration_ps": 1.0}
        n = args.requests
        report = {
            "benchmark": "API latency over HTTP (uvicorn, 1 process, keep-alive client)",
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "database": filled,
            "GET /leaderboard": timed(lambda: http.get("/leaderboard"), n),
            "GET /leaderboard?suite&baseline&sort": timed(
                lambda: http.get(
                    "/leaderboard",
                    params={"suite": "m6-quick", "baseline": "emt", "sort": "speedup"},
                ),
                n,
            ),
            "GET /leaderboard (cold: cache cleared before each)": timed(
                lambda: (app.state.leaderboards.entries.clear(), http.get("/leaderboard"))[1],
                n // 3,
            ),
            "POST /runs": timed(lambda: http.post("/runs", json=body), n),
            "GET /runs?limit=100": timed(lambda: http.get("/runs", params={"limit": 100}), n // 3),
            "GET /runs/{id}/thermo (1000 points)": timed(
                lambda: http.get(f"/runs/{run_id}/thermo"), n // 3
            ),
            "GET /runs/{id}/thermo?after_seq=990": timed(
                lambda: http.get(f"/runs/{run_id}/thermo", params={"after_seq": 990}), n // 3
            ),
            "GET /standup": timed(lambda: http.get("/standup"), n // 10),
            "targets_p95_ms": {"GET /leaderboard": 50, "POST /runs": 50},
        }
        print(json.dumps(report, indent=2))
    finally:
        if server is not None:
            server.should_exit = True
            time.sleep(0.5)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
