"""``mdval standalone --demo`` (app/demo.py): the demo-sized plan, and its own slot.

The plan checks are pure (no service). The service check queues the demo on the real
Postgres/Redis with a real worker that consumes the user queues (gpu, cpu, validate) and
not the demo's: every demo run lands on the demo queue, and a user's run submitted behind
the eight demo runs starts at once — it does not queue behind demo work.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud.tokens import create_token
from app.db.models import Run
from app.demo import (
    DEMO_FAILING_MODEL,
    DEMO_QUEUE,
    DEMO_SUITE,
    demo_models,
    demo_worker_env,
    queue_demo,
)
from app.standalone import standalone_settings, worker_commands
from mdval.criteria import load_profile
from mdval.suites import expand, load_suite
from tests.utils.service import RecordingQueue, wait_for

#: A user's run must leave ``queued`` within this (the issue's bound for the demo).
USER_START_S = 30.0


def test_the_demo_suite_is_demo_sized_and_says_so() -> None:
    suite = load_suite(DEMO_SUITE)
    assert suite.demo is True and "DEMO-SIZED" in suite.description
    configs = expand(suite, model="zoo:tiny")
    assert [c.structure for c in configs] == ["H2O", "CH4"]
    # 0.2 ps NVT + 1 ps NVE at 0.5 fs: 2400 steps a run (m6-quick: 12000, three seeds more)
    assert {(c.duration_ps, c.equilibration_ps, c.timestep_fs) for c in configs} == {
        (1.0, 0.2, 0.5)
    }
    assert {(c.profile, c.reference) for c in configs} == {("demo", "gfn2-xtb")}
    assert not load_suite("m6-quick").demo
    profile = load_profile("demo")
    assert "DEMO-SIZED" in profile.description
    stable = next(c for c in profile.criteria if c.name == "stable_duration")
    # a clean 1 ps run is acceptable, never target: a demo can never say "production"
    assert (stable.acceptable, stable.target) == (1.0, 2.0)
    m6 = {c.name: c for c in load_profile("m6").criteria}
    for criterion in profile.criteria:  # every other threshold is m6's
        if criterion.name != "stable_duration":
            assert criterion.model_dump(exclude={"description"}) == m6[criterion.name].model_dump(
                exclude={"description"}
            )


def test_demo_models_pass_and_fail_early_and_the_demo_has_its_own_slot(tmp_path: Path) -> None:
    registered = ["emt", "gfn2-xtb", "lj", "zoo:ultra-tiny", "zoo:original", "zoo:tiny"]
    assert demo_models(registered) == ["zoo:original", "lj", "zoo:tiny", "zoo:ultra-tiny"]
    assert demo_models(["lj", "emt"]) == ["lj"] and DEMO_FAILING_MODEL == "lj"

    settings = standalone_settings(tmp_path)
    plain = worker_commands(settings)
    runs, checks, demo = worker_commands(settings, demo=True)
    assert [runs, checks] == plain

    def option(cmd: list[str], flag: str) -> str:
        return cmd[cmd.index(flag) + 1]

    assert option(demo, "-Q") == settings.queue(DEMO_QUEUE) and option(demo, "-c") == "1"
    for cmd in (runs, checks):  # the user's workers never take demo work
        assert settings.queue(DEMO_QUEUE) not in option(cmd, "-Q").split(",")
    env = demo_worker_env({"PATH": "/bin"})
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1" and env["PATH"] == "/bin"


@pytest.mark.service
def test_demo_runs_wait_on_their_queue_and_a_user_run_starts_at_once(
    engine: Engine,
    service_settings: Settings,
    catalog: dict[str, int],
    worker: str,
    api: TestClient,
    admin_token: str,
) -> None:
    del catalog, worker
    with Session(engine) as session:
        create_token(session, name="demo-test", role="admin")
        session.commit()
    queue = RecordingQueue(service_settings)
    lines: list[str] = []
    ids = queue_demo(engine, service_settings, queue, token_name="demo-test", echo=lines.append)
    try:
        assert "DEMO-SIZED" in lines[0]
        assert len(ids) == 8 and sorted(queue.published) == sorted(ids)
        with Session(engine) as session:
            rows = session.scalars(select(Run).where(Run.id.in_(ids)).order_by(Run.id)).all()
            assert {r.queue for r in rows} == {service_settings.queue(DEMO_QUEUE)}
            assert all(r.enqueued_at is not None and r.suite == DEMO_SUITE for r in rows)
            specs = [r.model_spec for r in rows]
            assert specs[::2] == demo_models(sorted(set(specs)))  # two runs per model

        started = time.monotonic()
        r = api.post(
            "/api/v1/runs",
            json={"model": "emt", "structure": "cu-fcc", "duration_ps": 0.02,
                  "equilibration_ps": 0.0, "timestep_fs": 2.0},
            headers={"Authorization": f"Bearer {admin_token}"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        user = r.json()["id"]

        def user_started() -> dict[str, Any] | None:
            body: dict[str, Any] = api.get(f"/api/v1/runs/{user}").json()
            return body if body["status"] != "queued" else None

        wait_for(user_started, timeout=USER_START_S, interval=0.2, what="the user's run")
        waited_s = time.monotonic() - started
        with Session(engine) as session:  # the demo's runs are still waiting for their slot
            statuses = set(session.scalars(select(Run.status).where(Run.id.in_(ids))))
        assert statuses == {"queued"}, f"{statuses} after {waited_s:.1f} s"
    finally:
        with Session(engine) as session:  # no demo rows left for the session's other tests
            session.execute(delete(Run).where(Run.id.in_(ids)))
            session.commit()
