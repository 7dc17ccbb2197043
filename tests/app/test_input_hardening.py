"""Hostile or odd input is a 4xx with a sentence a person can act on, never a 500, and
nothing is queued (docs/service.md, "Errors"). Real Postgres, Redis and Celery
(tests/utils/service.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import WorkerHeartbeat
from tests.utils.service import RecordingQueue, count_runs

pytestmark = pytest.mark.service

GOOD = {
    "model": "emt",
    "structure": "cu-fcc",
    "duration_ps": 0.02,
    "timestep_fs": 2.0,
    "equilibration_ps": 0.0,
}
BIG = 99999999999999999999  # > 2**63 - 1


@pytest.fixture
def auth(submitter_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {submitter_token}"}


@pytest.fixture
def admin(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def client(api: TestClient) -> TestClient:
    """The session's app, answering a 500 instead of raising it (to assert on it)."""
    return TestClient(api.app, raise_server_exceptions=False)


@pytest.fixture
def nothing_queued(api: TestClient, engine: Engine) -> Iterator[None]:
    queue: RecordingQueue = api.app.state.queue  # type: ignore[attr-defined]
    rows, published = count_runs(engine), len(queue.published)
    yield
    assert count_runs(engine) == rows, "a run row was written"
    assert len(queue.published) == published, "a message was published"


def _assert_4xx(r: Any, status: int = 422, words: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body: dict[str, Any] = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if words is not None:
        assert words in body["detail"], body
    return body


# --- item 3: NUL bytes, huge integers, unrepresentable dates ---------------------------------


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/a%00b",
        "/api/v1/structures/a%00b",
        "/api/v1/runs?model=a%00b",
        "/api/v1/runs?suite=a%00b",
        "/api/v1/runs?submission_id=a%00b",
        "/api/v1/leaderboard?structure=a%00b",
        "/api/v1/leaderboard?baseline=a%00b",
        "/api/v1/leaderboard?suite=a%00b",
        "/api/v1/survival?model=a%00b",
        "/api/v1/survival?model=emt&suite=a%00b",
    ],
)
def test_nul_in_a_looked_up_string_is_a_422(client: TestClient, url: str) -> None:
    body = _assert_4xx(client.get(url))
    assert "NUL" in body["detail"]


@pytest.mark.usefixtures("catalog", "nothing_queued")
@pytest.mark.parametrize("field", ["model", "structure", "reference", "profile", "suite"])
def test_nul_in_a_run_body_is_a_422(client: TestClient, auth: dict[str, str], field: str) -> None:
    body: dict[str, Any] = {**GOOD, field: "a\u0000b"}
    if field == "suite":
        body = {"model": "emt", "suite": "a\u0000b"}
    r = client.post("/api/v1/runs", json=body, headers=auth)
    assert _assert_4xx(r)["field"] == field


@pytest.mark.usefixtures("catalog")
def test_nul_in_other_bodies_is_a_422(
    client: TestClient, admin: dict[str, str], auth: dict[str, str]
) -> None:
    _assert_4xx(client.post("/api/v1/tokens", json={"name": "a\u0000b"}, headers=admin))
    _assert_4xx(client.post("/api/v1/bench", json={"models": ["zoo:\u0000"]}, headers=auth))
    _assert_4xx(client.post("/api/v1/structures", data={"smiles": "C\x00C"}, headers=auth))


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/runs/{BIG}",
        f"/api/v1/runs/{2**63}",
        "/api/v1/runs/1e20",
        f"/api/v1/runs/{BIG}/thermo",
        f"/api/v1/runs?offset={BIG}",
        f"/api/v1/runs?offset={2**63}",
        f"/api/v1/bench/{BIG}",
        f"/api/v1/bench?offset={2**63}",
    ],
)
def test_integers_beyond_int64_are_a_422(client: TestClient, url: str) -> None:
    _assert_4xx(client.get(url))


@pytest.mark.usefixtures("catalog")
def test_cursors_beyond_their_columns_are_a_422(
    client: TestClient, engine: Engine, auth: dict[str, str]
) -> None:
    r = client.post("/api/v1/runs", json=GOOD, headers=auth)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    base = f"/api/v1/runs/{run_id}"
    for url in (
        f"{base}/thermo?after_seq={2**31}",  # seq is an int4 column
        f"{base}/force-errors?after_seq={2**31}",
        f"{base}/thermo?after_step={2**63}",
        f"{base}/thermo?limit={2**63}",
    ):
        _assert_4xx(client.get(url))
    # the largest values the columns hold are fine
    assert client.get(f"{base}/thermo?after_seq={2**31 - 1}").status_code == 200
    assert client.get(f"{base}/thermo?after_step={2**63 - 1}").status_code == 200
    assert client.get(f"/api/v1/runs/{2**63 - 1}").status_code == 404


def test_token_id_beyond_int64_is_a_422(client: TestClient, admin: dict[str, str]) -> None:
    _assert_4xx(client.delete(f"/api/v1/tokens/{BIG}", headers=admin))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/runs?since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/standup?since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/runs?since=9999-12-31T23:59:59-14:00",
    ],
)
def test_dates_that_cannot_be_represented_are_a_422(client: TestClient, url: str) -> None:
    body = _assert_4xx(client.get(url))
    assert body["field"] == "since"


def test_dates_at_the_edge_still_work(client: TestClient) -> None:
    assert client.get("/api/v1/runs?since=0001-01-01T00:00:00Z").status_code == 200
    assert client.get("/api/v1/runs?since=2020-01-01T00:00:00%2B14:00").status_code == 200


@pytest.mark.usefixtures("catalog", "nothing_queued")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestep_fs": 1e-308}, "timestep_fs"),
        ({"timestep_fs": 5e-324, "duration_ps": 1000}, "timestep_fs"),
        ({"timestep_fs": 1e-308, "duration_ps": 1e-300}, "timestep_fs"),
        ({"duration_ps": 1e-320}, "duration_ps"),
    ],
)
def test_step_counts_that_overflow_are_a_422(
    client: TestClient, auth: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/runs", json={**GOOD, **changes}, headers=auth)
    body = _assert_4xx(r)
    assert field in body["detail"], body


# --- item 4: the step cap covers every phase ------------------------------------------------


@pytest.mark.usefixtures("catalog", "nothing_queued")
def test_step_cap_counts_equilibration(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/runs",
        json={**GOOD, "equilibration_ps": 1000, "timestep_fs": 0.001, "duration_ps": 0.01},
        headers=auth,
    )
    body = _assert_4xx(r, words="50 million")
    assert "equilibration" in body["detail"]


def test_core_run_config_caps_the_sum_of_phases() -> None:
    from mdval.errors import InputError
    from mdval.md.validation import make_config

    with pytest.raises(InputError, match="50 million"):
        make_config(
            model="emt", structure="cu-fcc", equilibration_ps=1000, timestep_fs=0.001,
            duration_ps=0.01,
        )  # fmt: skip
    with pytest.raises(InputError, match="50 million"):  # each phase alone is under the cap
        make_config(
            model="emt", structure="cu-fcc", equilibration_ps=30, duration_ps=30, timestep_fs=0.001
        )
    ok = make_config(model="emt", structure="cu-fcc", equilibration_ps=20, duration_ps=20,
                     timestep_fs=0.001)  # fmt: skip
    assert ok.n_equilibration_steps + ok.n_production_steps == 40_000_000


# --- item 10: the API refuses what the worker would refuse; strict types ----------------------


@pytest.mark.usefixtures("catalog", "nothing_queued")
@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"engine": "torch"}, "engine", "the torch engine needs a torch potential"),
        ({"engine": "torch", "model": "zoo:tiny", "structure": "cu-fcc"}, "engine", None),
        ({"duration_ps": "5"}, "duration_ps", "valid number"),
        ({"duration_ps": True}, "duration_ps", "valid number"),
        ({"seed": 1.0}, "seed", "valid integer"),
        ({"seed": "1"}, "seed", "valid integer"),
        ({"record_every": True}, "record_every", "valid integer"),
        ({"temperature_K": "300"}, "temperature_K", "valid number"),
    ],
)
def test_api_refuses_what_the_worker_refuses(
    client: TestClient,
    auth: dict[str, str],
    changes: dict[str, Any],
    field: str,
    words: str | None,
) -> None:
    r = client.post("/api/v1/runs", json={**GOOD, **changes}, headers=auth)
    body = _assert_4xx(r, words=words)
    assert body["field"] == field, body


@pytest.mark.usefixtures("catalog", "nothing_queued")
def test_bench_and_token_bodies_are_strict(
    client: TestClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    _assert_4xx(client.post("/api/v1/bench", json={"steps": "10"}, headers=auth))
    _assert_4xx(client.post("/api/v1/bench", json={"quick": "yes"}, headers=auth))
    _assert_4xx(client.post("/api/v1/tokens", json={"name": 5}, headers=admin))


def _live_gpu_workers(engine: Engine, settings: Settings) -> int:
    with Session(engine) as session:
        rows = session.scalars(text("SELECT queues FROM worker_heartbeats")).all()
    return sum(1 for q in rows if settings.queue("gpu") in (q if isinstance(q, list) else []))


@pytest.mark.usefixtures("catalog")
def test_cuda_needs_a_live_gpu_worker(
    client: TestClient, auth: dict[str, str], engine: Engine, service_settings: Settings
) -> None:
    queue: RecordingQueue = client.app.state.queue  # type: ignore[attr-defined]
    if _live_gpu_workers(engine, service_settings):
        pytest.skip("a real worker serves the gpu queue in this session")
    rows, published = count_runs(engine), len(queue.published)
    r = client.post("/api/v1/runs", json={**GOOD, "device": "cuda"}, headers=auth)
    body = _assert_4xx(r, words="no live worker serves the gpu queue")
    assert body["field"] == "device"
    assert count_runs(engine) == rows and len(queue.published) == published
    with Session(engine) as session:  # a gpu worker heartbeating: accepted
        session.add(
            WorkerHeartbeat(
                name="fake-gpu@test", hostname="test", pid=1,
                queues=[service_settings.queue("gpu")],
            )
        )  # fmt: skip
        session.commit()
    try:
        r = client.post("/api/v1/runs", json={**GOOD, "device": "cuda"}, headers=auth)
        assert r.status_code == 201, r.text
        assert r.json()["runs"][0]["queue"] == service_settings.queue("gpu")
    finally:
        with Session(engine) as session:
            session.execute(text("DELETE FROM worker_heartbeats WHERE name = 'fake-gpu@test'"))
            session.commit()


# --- item 12a: reference "none" -------------------------------------------------------------


@pytest.mark.usefixtures("catalog")
def test_reference_none_means_no_reference(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/api/v1/runs", json={**GOOD, "reference": "none"}, headers=auth)
    assert r.status_code == 201, r.text
    run = r.json()["runs"][0]
    assert run["reference"] is None and run["config"]["reference"] is None


# --- item 11: no open transaction while the API waits for a worker ---------------------------


def _idle_in_transaction(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            )
            or 0
        )


@pytest.mark.usefixtures("catalog", "worker", "nothing_queued")
def test_no_transaction_is_open_while_waiting_for_the_worker(
    client: TestClient, auth: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = client.app.state.queue  # type: ignore[attr-defined]
    real_validate = queue.validate
    seen: list[int] = []

    def validate(payload: dict[str, Any]) -> dict[str, Any]:
        samples = []
        for _ in range(5):  # the API's connection, if it holds one, is idle all along
            samples.append(_idle_in_transaction(engine))
            time.sleep(0.05)
        seen.append(min(samples))
        answer: dict[str, Any] = real_validate(payload)
        return answer

    monkeypatch.setattr(queue, "validate", validate)
    r = client.post("/api/v1/runs", json={**GOOD, "model": "zoo:no-such-student"}, headers=auth)
    _assert_4xx(r, words="no-such-student")
    assert seen and seen[0] == 0, f"{seen[0]} connection(s) idle in a transaction during validate"


# --- the dashboard's static files -------------------------------------------------------------


@pytest.fixture(scope="module")
def dash_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from app.db.migrate import upgrade
    from app.main import create_app

    data: Path = tmp_path_factory.mktemp("dash")
    url = f"sqlite:///{data / 'mdval.sqlite'}"
    upgrade(url)
    settings = Settings(
        database_url=url, data_dir=data, artifacts_dir=data / "artifacts",
        dashboard_factory="dashboard.app:attach",
    )  # fmt: skip
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        "/_dash-component-suites/dash/..%2F..%2F..%2Fetc%2Fpasswd",
        "/_dash-component-suites/dash/dcc/..%2F..%2F__init__.py",
        "/_dash-component-suites/nosuch/a.js",
        "/_dash-component-suites/dash/a%00b.js",
    ],
)
def test_dash_component_paths_outside_the_registry_are_404(
    dash_client: TestClient, url: str
) -> None:
    r = dash_client.get(url)
    assert r.status_code == 404, r.text
