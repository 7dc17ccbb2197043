"""Schemathesis against the OpenAPI schema: no generated request may get a 5xx.

Two apps: the Postgres-backed service (the session's database) and the standalone
embedding (SQLite), both on the session's Redis with one validate-only worker, so that
names the registry does not know are answered by the core. Runs and benchmarks are
recorded, never published: fuzzing queues no MD. The budget is ``MDVAL_FUZZ_CASES`` cases
per operation and generation mode (positive and negative); ``benchmarks/fuzz.py`` runs
this file with a large budget.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud.tokens import create_token
from app.db.migrate import upgrade
from app.db.session import make_engine
from app.main import create_app
from tests.utils.service import RecordingQueue, start_worker, stop_worker

pytestmark = [pytest.mark.service, pytest.mark.fuzz]

schemathesis = pytest.importorskip("schemathesis")

#: Cases per operation and generation mode (a few hundred in all by default).
CASES = int(os.environ.get("MDVAL_FUZZ_CASES", "5"))
SEED = int(os.environ.get("MDVAL_FUZZ_SEED", "0")) or None
#: Revoking tokens would revoke the session's own (other modules use them); it is covered
#: by tests/app/test_input_hardening.py.
SKIPPED = {("DELETE", "/api/v1/tokens/{token_id}")}


class NoSendQueue(RecordingQueue):
    """The real queue for validation, but runs and benchmarks are only recorded."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.benches: list[int] = []

    def enqueue_run(self, run_id: int, queue: str) -> None:
        with self.lock:
            self.published.append(run_id)

    def enqueue_bench(self, job_id: int, queue: str) -> None:
        with self.lock:
            self.benches.append(job_id)


@dataclass
class FuzzReport:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def fuzz_app(app: FastAPI, *, headers: dict[str, str], cases: int, seed: int | None) -> FuzzReport:
    """Every operation of ``app``'s schema, ``cases`` positive and ``cases`` negative
    examples each; a 5xx is recorded with the request that caused it."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    report = FuzzReport()
    started = time.monotonic()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=cases,
                deadline=None,
                database=None,
                derandomize=seed is None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                report.cases += 1
                code = response.status_code
                report.by_status[code] = report.by_status.get(code, 0) + 1
                if code >= 500:
                    report.server_errors.append(
                        f"{case.method} {case.formatted_path} query={case.query!r} "
                        f"body={case.body!r:.300} -> {code} {response.text[:300]}"
                    )

            if seed is not None:
                run = pytest.importorskip("hypothesis").seed(seed)(run)
            run()
    report.wall_s = time.monotonic() - started
    return report


def _admin(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        _row, plaintext = create_token(session, name="fuzz-admin", role="admin")
        session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture(scope="module")
def validate_worker(
    service_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("fuzz-logs") / "validate-worker.log"
    proc, node = start_worker(service_settings, queues=("validate",), log_path=log)
    yield node
    stop_worker(proc)


def _check(report: FuzzReport, what: str) -> None:
    print(f"{what}: {report.cases} cases in {report.wall_s:.0f} s, statuses {report.by_status}")
    assert report.cases > 0
    assert not report.server_errors, f"{len(report.server_errors)} 5xx:\n" + "\n".join(
        report.server_errors[:20]
    )


@pytest.mark.usefixtures("catalog", "validate_worker")
def test_fuzz_postgres_app_has_no_5xx(service_settings: Settings, engine: Engine) -> None:
    app = create_app(service_settings, engine=engine, queue=NoSendQueue(service_settings))
    report = fuzz_app(app, headers=_admin(engine), cases=CASES, seed=SEED)
    _check(report, "postgres")


@pytest.mark.usefixtures("validate_worker")
def test_fuzz_standalone_sqlite_app_has_no_5xx(service_settings: Settings, tmp_path: Path) -> None:
    from workers.seed import seed_catalog

    url = f"sqlite:///{tmp_path / 'mdval.sqlite'}"
    upgrade(url)
    settings = service_settings.model_copy(
        update={
            "database_url": url,
            "data_dir": tmp_path,
            "artifacts_dir": tmp_path / "artifacts",
        }
    )
    engine = make_engine(url)
    try:
        seed_catalog(engine)
        app = create_app(settings, engine=engine, queue=NoSendQueue(settings))
        report = fuzz_app(app, headers=_admin(engine), cases=CASES, seed=SEED)
    finally:
        engine.dispose()
    _check(report, "sqlite")
