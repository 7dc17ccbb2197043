"""Start the service (API + dashboard, no workers) on a prepared SQLite database, in a
child process, for the browser tests and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "dashboard-test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'mdval.sqlite'}"


def prepare(data_dir: Path) -> None:
    """Migrate a fresh database and create the admin token."""
    from app.crud.tokens import create_token
    from app.db.migrate import upgrade
    from app.db.session import make_engine

    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(database_url(data_dir))
    engine = make_engine(database_url(data_dir))
    with Session(engine) as s:
        create_token(s, name="dashboard-admin", role="admin", token=ADMIN_TOKEN)
        s.commit()
    engine.dispose()


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDVAL_")}
    env.update(
        MDVAL_DATABASE_URL=database_url(data_dir),
        MDVAL_DATA_DIR=str(data_dir),
        MDVAL_ARTIFACTS_DIR=str(data_dir / "artifacts"),
        MDVAL_REAPER_INTERVAL_S="0",
        MDVAL_BROKER_URL="filesystem://",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def serve(data_dir: Path, *, port: int | None = None, **env: str) -> Iterator[str]:
    """uvicorn with ``app.main:create_app`` (dashboard mounted by its default factory);
    ``env``: extra ``MDVAL_*`` settings."""
    port = port or free_port()
    log = (data_dir / "server.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env_for(data_dir, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v1/health", 90, proc)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
