"""Migration 0004 on existing data, SQLite and Postgres: the current recommendations start
the history, runs get their batch size and per-replica time from their summaries, and a
cancelled run loses the verdict its partial summary had."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from app.db.migrate import upgrade
from app.db.session import make_engine
from tests.utils.service import PG_ADMIN_URL, PG_HOST

SUMMARY = {"provenance": {"batch_size": 4}, "metrics": {"inference_ms_per_step": 40.0}}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite'}"
        return
    name = f"mdval_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_HOST}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_0004_carries_the_data_over(url: str) -> None:
    upgrade(url, "0003")
    engine = make_engine(url)
    now = "2026-12-01 10:00:00"
    run = (
        "INSERT INTO runs (id, submission_id, model_id, structure_id, model_spec, "
        'structure_spec, "temperature_K", timestep_fs, duration_ps, equilibration_ps, seed, '
        "profile, device, config, queue, status, cancel_requested, attempt, max_attempts, "
        "created_at, done_steps, progress, summary, inference_ms_per_step, verdict) VALUES "
        "(:id, 's', 1, 1, 'm', 's', 300, 1, 1, 0, 0, 'm6', 'cpu', '{}', 'cpu', :status, "
        f"false, 1, 2, :now, 0, 1, '{json.dumps(SUMMARY)}', 40.0, 'fail')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO models (id, spec, name, kind, core_spec, periodic_ok, status, "
                    "builtin, created_at) VALUES (1, 'm', 'm', 'builtin', 'lj', true, 'ready', "
                    "true, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO structures (id, spec, name, source, core_spec, formula, "
                    "n_atoms, elements, periodic, created_at) VALUES (1, 's', 's', 'builtin', "
                    "'s', 'H2', 2, '[]', false, :now)"
                ),
                {"now": now},
            )
            for run_id, status in ((1, "completed"), (2, "cancelled")):
                conn.execute(
                    text(run),
                    {"id": run_id, "status": status, "now": now},
                )
            conn.execute(
                text(
                    "INSERT INTO recommendations (model_id, suite, recommendation, evidence, "
                    "n_runs, updated_at) VALUES (1, '', 'production', '{}', 1, :now)"
                ),
                {"now": now},
            )
        upgrade(url)
        with engine.connect() as conn:
            runs = conn.execute(
                text(
                    "SELECT id, batch_size, inference_ms_per_replica_step, verdict FROM runs "
                    "ORDER BY id"
                )
            ).all()
            history = conn.execute(
                text("SELECT model_id, recommendation, valid_to FROM recommendation_history")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in runs] == [(1, 4, 10.0, "fail"), (2, 4, 10.0, None)]
    assert [tuple(h) for h in history] == [(1, "production", None)]
