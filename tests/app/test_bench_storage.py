"""Benchmark storage on SQLite (the embedded default): the migration, the job's state
machine, and a real report (docs/bench/cpu-2threads.json, ``mdval bench`` on this project's
CPU) stored and read back unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from app.crud import bench as bench_crud
from app.db.migrate import downgrade, upgrade
from app.db.session import make_engine

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "docs" / "bench" / "cpu-2threads.json"


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return dict(json.loads(REPORT.read_text()))


def test_a_report_is_stored_and_read_back_unchanged(
    sqlite: tuple[str, Engine], report: dict[str, Any]
) -> None:
    _url, engine = sqlite
    with Session(engine) as session:
        job = bench_crud.create_job(
            session,
            request={"models": report["plan"]["models"], "quick": False},
            plan={"quick": False, "overrides": {}},
            device="cpu",
            queue="cpu",
            created_by="test",
        )
        job_id = job.id
        session.commit()
        plan = bench_crud.claim_job(session, job_id=job_id, worker="w1")
        assert plan == {"quick": False, "overrides": {}}
        assert bench_crud.claim_job(session, job_id=job_id, worker="w2") is None
        assert bench_crud.heartbeat(session, job_id=job_id, worker="w1", progress="batch x16")
        assert not bench_crud.heartbeat(session, job_id=job_id, worker="w2", progress=None)
        assert not bench_crud.finish_job(session, job_id=job_id, worker="w2", status="completed")
        assert bench_crud.finish_job(
            session, job_id=job_id, worker="w1", status="completed", report=report
        )
        session.commit()
    with Session(engine) as session:
        job = bench_crud.get_job(session, job_id=job_id)
        assert job is not None and job.status == "completed" and job.finished_at is not None
        assert job.n_records == len(report["records"]) == 102
        assert job.summary == report["summary"] and job.context == report["context"]
        assert job.plan == report["plan"] and job.wall_s == report["wall_s"]
        assert job.device_name == "Intel(R) Xeon(R) Processor" and job.threads == 2
        assert job.torch_version == "2.13.0+cpu" and job.progress == "batch x16"
        assert bench_crud.read_records(session, job_id=job_id) == report["records"]
        # ended: a late write of any worker changes nothing
        assert not bench_crud.finish_job(session, job_id=job_id, worker="w1", status="failed")
        assert not bench_crud.fail_job(session, job_id=job_id, reason="late")


def test_the_job_list_is_newest_first_and_filtered(sqlite: tuple[str, Engine]) -> None:
    _url, engine = sqlite
    with Session(engine) as session:
        ids = [
            bench_crud.create_job(
                session, request={}, plan={}, device="cpu", queue="cpu", created_by=None
            ).id
            for _ in range(3)
        ]
        assert bench_crud.fail_job(session, job_id=ids[0], reason="the job queue is down")
        session.commit()
        rows, total = bench_crud.list_jobs(session, status=None, limit=2, offset=0)
        assert [r.id for r in rows] == ids[:0:-1] and total == 3
        rows, total = bench_crud.list_jobs(session, status=["failed"], limit=10, offset=0)
        assert [r.id for r in rows] == [ids[0]] and total == 1
        assert rows[0].failure_reason == "the job queue is down"


def test_the_migration_goes_down_and_up_again(sqlite: tuple[str, Engine]) -> None:
    url, engine = sqlite
    assert {"bench_jobs", "bench_records"} <= set(inspect(engine).get_table_names())
    downgrade(url, "0001")
    tables = set(inspect(engine).get_table_names())
    assert not {"bench_jobs", "bench_records"} & tables and "runs" in tables
    upgrade(url)
    assert {"bench_jobs", "bench_records"} <= set(inspect(engine).get_table_names())
