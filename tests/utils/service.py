"""Fixtures and helpers of the service tests: a fresh Postgres database per session, a
dedicated Redis database and queue prefix, real Celery worker processes, tokens, polling.

Import the fixtures into a conftest with ``from tests.utils.service import *``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud.tokens import create_token
from app.db.migrate import upgrade
from app.db.models import Run, WorkerHeartbeat
from app.db.session import make_engine
from app.main import create_app
from app.services.queue import CeleryQueue

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get(
    "MDVAL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_HOST = os.environ.get("MDVAL_TEST_PG_HOST", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_DB = int(os.environ.get("MDVAL_TEST_REDIS_DB", "14"))
REDIS_BASE = os.environ.get("MDVAL_TEST_REDIS", "redis://127.0.0.1:6379")
WORKER_START_TIMEOUT_S = 120.0

__all__ = [
    "RecordingQueue",
    "admin_token",
    "api",
    "catalog",
    "count_runs",
    "engine",
    "free_port",
    "pg_url",
    "redis_url",
    "service_settings",
    "settings_env",
    "standalone_server",
    "start_worker",
    "stop_worker",
    "submitter_token",
    "viewer_token",
    "wait_for",
    "wait_status",
    "worker",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(interval)


@contextlib.contextmanager
def standalone_server(
    data_dir: Path,
    admin_token: str,
    *,
    ready: Callable[[str], bool] | None = None,
    timeout_s: float = 180.0,
    **env: str,
) -> Iterator[str]:
    """A real ``mdval standalone`` on a free port with ``data_dir``; yields its URL.

    Up means: health answers with two workers, and ``ready(url)`` (if given) is true. On exit
    the whole process group (server and the workers it started) gets SIGTERM, then SIGKILL.
    """
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MDVAL_")}
    child_env.update(MDVAL_ADMIN_TOKEN=admin_token, PYTHONPATH=str(REPO), **env)
    log_path = data_dir / "standalone.log"
    log = log_path.open("wb")
    command = [sys.executable, "-m", "app.cli", "standalone", "--data-dir", str(data_dir),
               "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=REPO, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"standalone exited {proc.returncode}: {log_path.read_text()[-3000:]}")
        try:
            health = httpx.get(f"{url}/api/v1/health", timeout=2).json()
            return len(health["workers"]) == 2 and (ready is None or ready(url))
        except (httpx.HTTPError, KeyError, ValueError):
            return False

    try:
        wait_for(up, timeout=timeout_s, interval=0.5, what="mdval standalone and its workers")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


# --- Postgres and Redis ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database ``mdval_test_<pid>_<hex>``, migrated to head, dropped at the end."""
    name = f"mdval_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"Postgres at {PG_ADMIN_URL} is not reachable ({exc}); `.ci/run` starts it")
    url = f"{PG_HOST}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = f"{REDIS_BASE}/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); `.ci/run` starts it")
    yield url
    client.close()


@pytest.fixture(scope="session")
def service_settings(
    pg_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Short intervals so that heartbeats, reaping and flushing happen within seconds.
    Queues carry a prefix of their own; their Redis keys are deleted at the end. Each
    conftest that star-imports these fixtures gets its own instance (database and worker):
    the prefix is unique per instance too, or one instance's worker would take the other's
    messages and find no such run in its database."""
    data = tmp_path_factory.mktemp("service")
    prefix = f"t{os.getpid()}-{uuid.uuid4().hex[:6]}-"
    yield Settings(
        environment="test",
        secret_key="test-secret-" + uuid.uuid4().hex,
        database_url=pg_url,
        broker_url=redis_url,
        data_dir=data,
        artifacts_dir=data / "artifacts",
        queue_prefix=prefix,
        dashboard_factory="",
        heartbeat_interval_s=1.0,
        stale_after_s=6.0,
        reaper_interval_s=1.0,
        requeue_unsent_after_s=30.0,
        flush_interval_s=0.3,
        validate_timeout_s=90.0,
        max_model_upload_mb=1.0,
        max_structure_upload_kb=64.0,
    )
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    # messages a SIGKILLed worker left unacknowledged (kombu's visibility bookkeeping)
    for tag, payload in client.hgetall("unacked").items():
        if prefix.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process (worker, CLI) see ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDVAL_")}
    for name, value in settings.model_dump(exclude={"visibility_timeout_s"}).items():
        if value is not None:
            env[f"MDVAL_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def engine(service_settings: Settings) -> Iterator[Engine]:
    eng = make_engine(service_settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def catalog(engine: Engine) -> dict[str, int]:
    """The core's potentials, structures, suites and profiles registered (the fast path)."""
    from workers.seed import seed_catalog

    return seed_catalog(engine)


# --- workers --------------------------------------------------------------------------------


def start_worker(
    settings: Settings,
    *,
    queues: tuple[str, ...] = ("gpu", "cpu", "validate"),
    concurrency: int = 1,
    pool: str = "prefork",
    name: str | None = None,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """A real ``celery worker`` process in its own process group; returns it and its name."""
    node = name or f"w{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    cmd = [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "-Q", ",".join(settings.queue(q) for q in queues),
        "-c", str(concurrency), "-P", pool, "-n", node, "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env or settings_env(settings),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    eng = make_engine(settings.database_url)
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"worker exited with {proc.returncode}; log: {log_path}")
            with Session(eng) as s:
                return s.get(WorkerHeartbeat, node) is not None

        wait_for(ready, timeout=WORKER_START_TIMEOUT_S, interval=0.5, what=f"worker {node}")
    finally:
        eng.dispose()
    return proc, node


def stop_worker(
    proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
    """Signal the worker's whole process group (main process and pool children)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture(scope="session")
def worker(service_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One prefork worker on every queue of this session (concurrency 1: runs one at a time,
    and validation requests wait behind a run — the tests submit while nothing long runs)."""
    log = tmp_path_factory.mktemp("logs") / "worker.log"
    proc, node = start_worker(service_settings, log_path=log)
    yield node
    stop_worker(proc)


# --- the API --------------------------------------------------------------------------------


class RecordingQueue(CeleryQueue):
    """The real queue, recording every run it publishes (to assert 'nothing was queued')."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.published: list[int] = []
        self.lock = threading.Lock()

    def enqueue_run(self, run_id: int, queue: str) -> None:
        with self.lock:
            self.published.append(run_id)
        super().enqueue_run(run_id, queue)


@pytest.fixture(scope="session")
def api(service_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The FastAPI app on the session's database and broker (reaper thread included)."""
    app = create_app(service_settings, engine=engine, queue=RecordingQueue(service_settings))
    with TestClient(app) as client:
        yield client


def _token(engine: Engine, role: str) -> str:
    with Session(engine) as session:
        _row, plaintext = create_token(session, name=f"test-{role}", role=role)
        session.commit()
    return plaintext


@pytest.fixture(scope="session")
def admin_token(engine: Engine) -> str:
    return _token(engine, "admin")


@pytest.fixture(scope="session")
def submitter_token(engine: Engine) -> str:
    return _token(engine, "submitter")


@pytest.fixture(scope="session")
def viewer_token(engine: Engine) -> str:
    return _token(engine, "viewer")


def count_runs(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Run)) or 0)


def wait_status(
    client: TestClient, run_id: int, statuses: tuple[str, ...], *, timeout: float = 120
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/runs/{run_id}").json()
        return body if body["status"] in statuses else None

    result: dict[str, Any] = wait_for(
        check, timeout=timeout, interval=0.3, what=f"run {run_id} in {statuses}"
    )
    return result
