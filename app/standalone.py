"""``mdval standalone``: the embedded default in one process tree, no Postgres or Redis.

SQLite in ``data_dir``, kombu's ``filesystem://`` broker, two worker processes (runs on a
threads pool of concurrency 1; validation checks beside it so that a long run never blocks a
submission) and, with ``--demo``, a third for the demo's own queue (:mod:`app.demo`: a user's
run never waits behind demo work), migrations at start, the core's catalogue registered,
the API and (when the dashboard package is installed) the dashboard on one port. This
process serves HTTP only: torch and ase live in the worker processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import typer
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import hash_token
from app.crud.tokens import create_token, revoke_tokens
from app.db.migrate import upgrade
from app.db.models import ApiToken
from app.db.session import make_engine
from app.demo import DEMO_QUEUE, demo_pending, demo_worker_env, queue_demo
from app.main import create_app
from app.services.queue import CeleryQueue
from workers.celery_app import ensure_local_dirs

ADMIN_TOKEN_NAME = "standalone-admin"
#: Seconds given to the workers at each step of the shutdown.
CHILD_STOP_TIMEOUT_S = 5.0


def standalone_settings(data_dir: Path) -> Settings:
    """SQLite + filesystem broker under ``data_dir``; other MDVAL_* variables still apply."""
    data_dir = data_dir.expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mdval.sqlite'}",
        broker_url="filesystem://",
        result_backend=f"file://{data_dir / 'results'}",
    )


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MDVAL_DATA_DIR=str(settings.data_dir),
        MDVAL_DATABASE_URL=settings.database_url,
        MDVAL_BROKER_URL=settings.broker_url,
        MDVAL_RESULT_BACKEND=settings.result_backend_url,
        MDVAL_ARTIFACTS_DIR=str(settings.artifacts_path.resolve()),
    )
    return env


def worker_commands(settings: Settings, *, demo: bool = False) -> list[list[str]]:
    """The workers: runs (threads, concurrency 1) and validation checks; with ``demo`` a
    third, the demo's slot (its own queue, concurrency 1)."""
    base = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "--quiet",
        "worker",
        "-P",
        "threads",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    ]
    runs = [
        *base,
        "-c",
        "1",
        "-n",
        "runs@%h",
        "-Q",
        f"{settings.queue('gpu')},{settings.queue('cpu')}",
    ]
    checks = [*base, "-c", "2", "-n", "checks@%h", "-Q", settings.queue("validate")]
    if not demo:
        return [runs, checks]
    return [runs, checks, [*base, "-c", "1", "-n", "demo@%h", "-Q", settings.queue(DEMO_QUEUE)]]


@dataclass(frozen=True)
class AdminToken:
    """The admin token to print at start (None: none may be printed) and why not."""

    token: str | None
    notice: str | None = None


def admin_token(engine: Engine, settings: Settings) -> AdminToken:
    """``MDVAL_ADMIN_TOKEN`` when set, else a fresh token (older standalone ones revoked).

    A configured token that was revoked stays revoked (a revocation is never undone
    behind the operator's back) and is not printed: the notice says how to get back in."""
    with Session(engine) as session:
        if settings.admin_token:
            row = session.scalar(
                select(ApiToken).where(ApiToken.token_hash == hash_token(settings.admin_token))
            )
            if row is None:
                create_token(
                    session, name=ADMIN_TOKEN_NAME, role="admin", token=settings.admin_token
                )
                session.commit()
                return AdminToken(settings.admin_token)
            if row.revoked_at is not None:
                return AdminToken(None, _revoked_notice(row, settings))
            if row.role != "admin":
                return AdminToken(
                    None,
                    f"MDVAL_ADMIN_TOKEN is the token '{row.name}' with role '{row.role}', not "
                    "an admin token; its role is left as it is. " + _recovery(settings),
                )
            return AdminToken(settings.admin_token)
        revoke_tokens(session, name=ADMIN_TOKEN_NAME)
        _row, plaintext = create_token(session, name=ADMIN_TOKEN_NAME, role="admin")
        session.commit()
        return AdminToken(plaintext)


def _revoked_notice(row: ApiToken, settings: Settings) -> str:
    when = row.revoked_at.strftime("%Y-%m-%d %H:%M UTC") if row.revoked_at else "earlier"
    return (
        f"the configured MDVAL_ADMIN_TOKEN (token '{row.name}', {row.prefix}...) was revoked "
        f"on {when}; it stays revoked and does not work. " + _recovery(settings)
    )


def _recovery(settings: Settings) -> str:
    return (
        "To get an admin token: restart with a new MDVAL_ADMIN_TOKEN (24 or more random "
        "characters), or without MDVAL_ADMIN_TOKEN (a fresh one is printed), or mint one "
        f"now: MDVAL_DATABASE_URL={settings.database_url} mdval token create --name admin "
        "--role admin"
    )


def _queue_demo_after(engine: Engine, settings: Settings, seeding: subprocess.Popen[bytes]) -> None:
    """After the catalogue is registered: the demo (see :mod:`app.demo`)."""
    seeding.wait()
    queue_demo(
        engine,
        settings,
        CeleryQueue(settings),
        token_name=ADMIN_TOKEN_NAME,
        echo=lambda line: typer.echo(line, err=True),
    )


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Warm shutdown (SIGTERM), then cold (SIGQUIT: a run in progress is abandoned and the
    reaper retries it at the next start), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGKILL):
        alive = [c for c in children if c.poll() is None]
        for child in alive:
            child.send_signal(sig)
        deadline = time.monotonic() + CHILD_STOP_TIMEOUT_S
        for child in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(max(0.1, deadline - time.monotonic()))


def serve(*, host: str, port: int, data_dir: Path, demo: bool) -> None:
    settings = standalone_settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.artifacts_path.mkdir(parents=True, exist_ok=True)
    ensure_local_dirs(settings)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    admin = admin_token(engine, settings)
    env = child_env(settings)

    children: list[subprocess.Popen[bytes]] = []
    seeding = subprocess.Popen([sys.executable, "-m", "app.cli", "migrate", "--seed"], env=env)
    children.append(seeding)
    # the demo's slot also serves demo runs an earlier --demo start left queued
    with_demo = demo or demo_pending(engine, settings)
    commands = worker_commands(settings, demo=with_demo)
    children.extend(subprocess.Popen(cmd, env=env) for cmd in commands[:2])
    children.extend(subprocess.Popen(cmd, env=demo_worker_env(env)) for cmd in commands[2:])
    if demo:
        threading.Thread(
            target=_queue_demo_after, args=(engine, settings, seeding), daemon=True
        ).start()

    url = f"http://{host}:{port}"
    typer.echo(f"mdval standalone: {url}  (API {url}/api/v1, docs {url}/docs)")
    typer.echo(f"data: {settings.data_dir}")
    if admin.token is not None:
        typer.echo(f"admin token: {admin.token}")
    if admin.notice is not None:
        typer.echo(f"WARNING: no admin token: {admin.notice}", err=True)
    # uvicorn re-raises SIGTERM after its own shutdown; make it an exception so that the
    # workers are stopped below instead of being orphaned
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    try:
        uvicorn.run(create_app(settings, engine=engine), host=host, port=port, log_level="warning")
    finally:
        _stop(children)
