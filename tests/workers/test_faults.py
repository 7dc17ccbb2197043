"""Fault injection (issue 13): every run ends — completed, or failed with a reason — and no
series row is stored twice, whatever breaks underneath.

Each test uses processes of its own, on loopback only: a ``redis-server`` of this module on a
free port (append-only file, fsync always), restarted empty or from its file; real Celery
workers (:func:`tests.utils.service.start_worker`) whose database connections carry an
``application_name`` of their own, so that ``pg_terminate_backend`` hits only them, on the
test's own database. The SIGKILL of a whole worker is tested in ``test_worker_lost.py``; here
the pool child alone is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import Run, ThermoRow
from app.main import create_app
from tests.utils.service import (
    PG_ADMIN_URL,
    RecordingQueue,
    free_port,
    settings_env,
    start_worker,
    stop_worker,
    wait_for,
    wait_status,
)

pytestmark = [pytest.mark.service, pytest.mark.faults, pytest.mark.usefixtures("catalog")]

#: 200 steps of EMT copper, a record every 10: a few seconds on a loaded 2-core machine.
SHORT_RUN = {
    "model": "emt",
    "structure": "cu-fcc",
    "timestep_fs": 4.0,
    "duration_ps": 0.8,
    "equilibration_ps": 0.0,
    "record_every": 10,
    "device": "cpu",
}
#: A run that outlives the fault injected into it (1,200 steps).
LONGER_RUN = {**SHORT_RUN, "duration_ps": 4.8}
RECORD_EVERY = 10
WORKER_APP = "mdval-fault-worker"
FINAL = ("completed", "crashed", "failed", "cancelled")


class RedisServer:
    """A ``redis-server`` of the test's own: AOF with fsync always, no RDB snapshots."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "yes", "--appendfsync", "always",
               "--dir", str(self.folder), "--daemonize", "no"]  # fmt: skip
        log = (self.folder.parent / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)

        def up() -> bool:
            with contextlib.suppress(redis.RedisError):
                return bool(client.ping())
            return False

        wait_for(up, timeout=20, interval=0.1, what=f"redis-server on port {self.port}")
        client.close()

    def kill(self) -> None:
        """A crash: SIGKILL (with fsync always, the append-only file holds every write)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, *, empty: bool, down_s: float = 1.0) -> None:
        self.kill()
        if empty:  # a restart without persistence, a failover to an empty replica
            shutil.rmtree(self.folder, ignore_errors=True)
        time.sleep(down_s)
        self.start()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis") / "data")
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def fault_settings(service_settings: Settings, broker: RedisServer) -> Settings:
    return service_settings.model_copy(
        update={
            "broker_url": broker.url,
            "queue_prefix": f"{service_settings.queue_prefix}faults-{uuid.uuid4().hex[:4]}-",
            "requeue_unclaimed_after_s": 3.0,
            "max_attempts": 2,
        }
    )


def _worker_env(settings: Settings) -> dict[str, str]:
    url = f"{settings.database_url}?application_name={WORKER_APP}"
    return settings_env(settings, MDVAL_DATABASE_URL=url)


@pytest.fixture(scope="module")
def fault_api(
    fault_settings: Settings, engine: Engine, submitter_token: str
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API on the test's own broker (its reaper thread runs every second)."""
    app = create_app(fault_settings, engine=engine, queue=RecordingQueue(fault_settings))
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {submitter_token}"}


@pytest.fixture(scope="module")
def fault_worker(
    fault_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    log = tmp_path_factory.mktemp("logs") / "fault-worker.log"
    proc, node = start_worker(
        fault_settings, queues=("cpu",), env=_worker_env(fault_settings), log_path=log
    )
    yield proc, node, log
    stop_worker(proc)


# --- helpers ------------------------------------------------------------------------------


def submit(api: tuple[TestClient, dict[str, str]], body: dict[str, Any]) -> int:
    client, auth = api
    response = client.post("/api/v1/runs", json=body, headers=auth)
    assert response.status_code in (200, 201, 202), response.text
    return int(response.json()["id"])


def first_rows(api: tuple[TestClient, dict[str, str]], run_id: int) -> None:
    client, _ = api
    wait_for(
        lambda: client.get(f"/api/v1/runs/{run_id}/thermo").json()["n"] > 0,
        timeout=60,
        what=f"the first thermo rows of run {run_id}",
    )


def assert_ended_cleanly(
    engine: Engine, run_id: int, *, status: str = "completed", attempt: int | None = None
) -> Run:
    """The run ended as expected; its series has each (phase, step) once, seq 0..n-1."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.status == status, (run.status, run.failure_reason)
        if attempt is not None:
            assert run.attempt == attempt, run.failure_reason
        where = ThermoRow.run_id == run_id
        n, n_seq, last = session.execute(
            select(
                func.count(), func.count(func.distinct(ThermoRow.seq)), func.max(ThermoRow.seq)
            ).where(where)
        ).one()
        n_steps = session.scalar(
            select(func.count()).select_from(
                select(ThermoRow.phase, ThermoRow.step).where(where).distinct().subquery()
            )
        )
        assert n > 0 and n == n_steps == n_seq == last + 1, (n, n_steps, n_seq, last)
        if status == "completed":
            expected = round(run.duration_ps * 1000 / run.timestep_fs) // RECORD_EVERY + 1
            assert n == expected, (n, expected)
        return run


def worker_children(proc: subprocess.Popen[bytes]) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def terminate_worker_connections(database: str) -> int:
    """``pg_terminate_backend`` of the fault worker's connections to the test's database."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s",
            (database, WORKER_APP),
        ).fetchall()
    return len(rows)


# --- the faults ---------------------------------------------------------------------------


def test_a_broker_restarted_empty_strands_no_run(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    broker: RedisServer,
    engine: Engine,
) -> None:
    """Item 1 (and 5): the worker runs one run, two wait in the broker; the broker comes back
    empty. The running run completes at attempt 1, the two lost messages are re-sent by the
    reaper (``requeue_unclaimed_after_s``, 3 s here) and their runs complete at attempt 1."""
    running = submit(fault_api, LONGER_RUN)
    first_rows(fault_api, running)
    waiting = [submit(fault_api, SHORT_RUN) for _ in range(2)]
    client, _ = fault_api
    assert all(client.get(f"/api/v1/runs/{r}").json()["status"] == "queued" for r in waiting)
    assert client.get(f"/api/v1/runs/{running}").json()["status"] == "running"
    broker.restart(empty=True)
    assert redis.Redis.from_url(broker.url).dbsize() == 0
    for run_id in (running, *waiting):
        wait_status(client, run_id, FINAL, timeout=90)
        assert_ended_cleanly(engine, run_id, attempt=1)


def test_a_broker_blip_does_not_kill_a_running_run(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    broker: RedisServer,
    engine: Engine,
) -> None:
    """Item 5: the broker crashes and comes back from its append-only file while a run runs
    (and one waits): both complete at attempt 1; the restored unacknowledged message of the
    running run, delivered again, is a no-op."""
    running = submit(fault_api, LONGER_RUN)
    first_rows(fault_api, running)
    waiting = submit(fault_api, SHORT_RUN)
    client, _ = fault_api
    assert client.get(f"/api/v1/runs/{running}").json()["status"] == "running"
    broker.restart(empty=False, down_s=2.0)
    assert client.get(f"/api/v1/runs/{running}").json()["status"] == "running"
    client, _ = fault_api
    for run_id in (running, waiting):
        wait_status(client, run_id, FINAL, timeout=90)
        assert_ended_cleanly(engine, run_id, attempt=1)


def test_postgres_connections_dropped_mid_run(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    engine: Engine,
    fault_settings: Settings,
) -> None:
    """The worker's database connections are terminated three times during a run: flushes
    and heartbeats fail, are retried on new connections, and the run completes at attempt 1
    with its whole series, once."""
    database = fault_settings.database_url.rsplit("/", 1)[1]
    run_id = submit(fault_api, LONGER_RUN)
    first_rows(fault_api, run_id)
    killed = 0
    for _ in range(3):
        killed += terminate_worker_connections(database)
        time.sleep(0.7)
    assert killed > 0
    client, _ = fault_api
    wait_status(client, run_id, FINAL, timeout=90)
    assert_ended_cleanly(engine, run_id, attempt=1)


def test_a_cancel_is_seen_within_seconds_whatever_the_record_interval(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    engine: Engine,
) -> None:
    """Item 8: a record every 100,000 steps; the cancel is read on the wall clock, so the
    run ends ``cancelled`` seconds after the request, not at its next record."""
    client, auth = fault_api
    run_id = submit(fault_api, {**SHORT_RUN, "duration_ps": 400.0, "record_every": 100_000})
    first_rows(fault_api, run_id)  # step 0; the next record is 100,000 steps away
    requested = time.monotonic()
    assert client.post(f"/api/v1/runs/{run_id}/cancel", headers=auth).status_code == 200
    wait_status(client, run_id, ("cancelled",), timeout=20)
    latency = time.monotonic() - requested
    print(f"cancel latency (API request -> status cancelled): {latency:.2f} s")
    assert latency < 10.0


def test_sigkill_of_the_pool_child_mid_run(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    engine: Engine,
) -> None:
    """The pool child dies (SIGKILL, the OOM killer); the main process forks a new one. The
    reaper sees the heartbeat stop, requeues, and attempt 2 completes from scratch."""
    proc, _node, _log = fault_worker
    run_id = submit(fault_api, SHORT_RUN)
    first_rows(fault_api, run_id)
    children = worker_children(proc)
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)
    client, _ = fault_api
    wait_status(client, run_id, ("completed", "failed"), timeout=90)
    run = assert_ended_cleanly(engine, run_id, attempt=2)
    assert "lost" in (run.failure_reason or "") or run.failure_reason is None


def test_sigstop_then_sigcont_hands_the_run_over(
    fault_api: tuple[TestClient, dict[str, str]],
    fault_worker: Any,
    fault_settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """Worker A freezes (SIGSTOP) mid-run; the reaper requeues its run and worker B takes it
    (attempt 2). A thaws (SIGCONT): it finds the run is not its own any more, stops and
    writes nothing; B completes the run, whose series holds B's rows only."""
    proc, _node, _log = fault_worker
    rescuer, rescuer_node = start_worker(
        fault_settings,
        queues=("cpu",),
        env=_worker_env(fault_settings),
        log_path=tmp_path / "rescuer.log",
    )
    client, _ = fault_api
    try:
        # both workers idle: whichever takes the run is frozen, the other takes over
        run_id = submit(fault_api, LONGER_RUN)
        first_rows(fault_api, run_id)
        owner = client.get(f"/api/v1/runs/{run_id}").json()["worker"]
        frozen = rescuer if owner.startswith(rescuer_node) else proc
        os.killpg(frozen.pid, signal.SIGSTOP)
        try:
            running = wait_status(client, run_id, ("running",), timeout=5)
            assert running["attempt"] == 1
            wait_for(
                lambda: client.get(f"/api/v1/runs/{run_id}").json()["attempt"] == 2,
                timeout=60,
                what="attempt 2 on the other worker",
            )
        finally:
            os.killpg(frozen.pid, signal.SIGCONT)
        wait_status(client, run_id, FINAL, timeout=90)
        assert_ended_cleanly(engine, run_id, attempt=2)
        time.sleep(2.0)  # the thawed worker had time to write, had it kept ownership
        assert_ended_cleanly(engine, run_id, attempt=2)
    finally:
        stop_worker(rescuer)
