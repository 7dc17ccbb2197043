"""Submit -> run -> completed, through the real API, Postgres, Redis and a Celery worker."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils.service import wait_for, wait_status

pytestmark = pytest.mark.service

#: 100 steps of EMT copper with EMT as its own reference: seconds, and force RMSE 0.
SHORT_RUN = {
    "model": "emt",
    "structure": "cu-fcc",
    "reference": "emt",
    "temperature_K": 300,
    "timestep_fs": 2.0,
    "duration_ps": 0.2,
    "equilibration_ps": 0.0,
    "record_every": 5,
    "reference_every": 20,
    "frame_every": 20,
    "device": "cpu",
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def finished_run(
    api: TestClient, submitter_token: str, catalog: Any, worker: str
) -> dict[str, Any]:
    r = api.post("/api/v1/runs", json=SHORT_RUN, headers=auth(submitter_token))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued" and len(body["runs"]) == 1
    assert body["runs"][0]["queue"].endswith("cpu")
    return wait_status(api, body["id"], ("completed", "crashed", "failed"), timeout=180)


def test_submit_runs_to_completed_with_summary(finished_run: dict[str, Any]) -> None:
    run = finished_run
    assert run["status"] == "completed", run["failure_reason"]
    assert run["attempt"] == 1 and run["worker"]
    assert run["progress_percent"] == 100.0
    summary = run["summary"]
    assert summary["status"] == "completed"
    assert {"metrics", "criteria", "verdict", "recommendation", "provenance"} <= summary.keys()
    # emt against itself is its own control; 0.2 ps cannot show the 5 ps m6 asks for
    assert run["verdict"] == summary["verdict"] == "inconclusive"
    assert summary["control"]["is_self"] is True and summary["control"]["valid"] is True
    assert run["metrics"]["force_rmse_eV_per_A"] == pytest.approx(0.0, abs=1e-9)
    assert run["metrics"]["drift_meV_per_atom_per_ps"] is not None
    assert run["formula"] == "Cu32" and run["n_atoms"] == 32


def test_thermo_rows_are_stored_and_paged(api: TestClient, finished_run: dict[str, Any]) -> None:
    run_id = finished_run["id"]
    full = api.get(f"/api/v1/runs/{run_id}/thermo").json()
    assert full["n"] == 21  # steps 0, 5, ..., 100 of the production phase
    assert full["seq"] == list(range(21))
    assert full["step"][-1] == 100 and full["phase"][0] == "production"
    assert all(isinstance(x, float) for x in full["etot_eV"])
    tail = api.get(f"/api/v1/runs/{run_id}/thermo", params={"after_seq": 15}).json()
    assert tail["seq"] == [16, 17, 18, 19, 20] and tail["next_after_seq"] == 20
    empty = api.get(f"/api/v1/runs/{run_id}/thermo", params={"after_seq": 20}).json()
    assert empty["n"] == 0 and empty["next_after_seq"] == 20
    by_step = api.get(
        f"/api/v1/runs/{run_id}/thermo", params={"phase": "production", "after_step": 90}
    ).json()
    assert by_step["step"] == [95, 100]


def test_thermo_matches_the_core_csv(api: TestClient, finished_run: dict[str, Any]) -> None:
    run_id = finished_run["id"]
    csv = api.get(f"/api/v1/runs/{run_id}/files/thermo.csv")
    assert csv.status_code == 200
    lines = csv.text.strip().splitlines()
    header = lines[0].split(",")
    col = header.index("etot_eV")
    csv_etot = [float(line.split(",")[col]) for line in lines[1:]]
    db_etot = api.get(f"/api/v1/runs/{run_id}/thermo").json()["etot_eV"]
    assert db_etot == pytest.approx(csv_etot, rel=0, abs=1e-9)


def test_force_errors_are_stored(api: TestClient, finished_run: dict[str, Any]) -> None:
    body = api.get(f"/api/v1/runs/{finished_run['id']}/force-errors").json()
    assert body["n"] == 6  # steps 0, 20, ..., 100
    assert len(body["samples"][0]["per_atom_error_eV_per_A"]) == 32
    assert body["histogram"]["counts"] and sum(body["histogram"]["counts"]) == 6 * 32


def test_trajectory_is_stored_and_downloadable(
    api: TestClient, finished_run: dict[str, Any]
) -> None:
    assert finished_run["has_trajectory"]
    r = api.get(f"/api/v1/runs/{finished_run['id']}/trajectory")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    first = io.StringIO(r.text).readline().strip()
    assert first == "32"
    summary = api.get(f"/api/v1/runs/{finished_run['id']}/files/summary.json").json()
    assert summary["status"] == "completed"


def test_list_and_filter_runs(api: TestClient, finished_run: dict[str, Any]) -> None:
    listed = api.get("/api/v1/runs", params={"model": "emt", "status": ["completed"]}).json()
    assert finished_run["id"] in [r["id"] for r in listed["items"]]
    assert all(r["summary"] is None for r in listed["items"])  # the list stays light
    none = api.get("/api/v1/runs", params={"model": "emt", "status": ["queued"]}).json()
    assert finished_run["id"] not in [r["id"] for r in none["items"]]
    later = api.get("/api/v1/runs", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert later["total"] == 0
    naive = api.get("/api/v1/runs", params={"since": "2000-01-01T00:00:00"})  # read as UTC
    assert naive.status_code == 200 and naive.json()["total"] >= 1
    assert api.get("/api/v1/runs", params={"since": "yesterday"}).status_code == 422


def test_leaderboard_and_standup_show_the_run(
    api: TestClient, finished_run: dict[str, Any]
) -> None:
    board = api.get("/api/v1/leaderboard", params={"baseline": "emt"}).json()
    row = next(r for r in board["rows"] if r["model"] == "emt")
    assert row["runs"] >= 1 and row["completed"] >= 1
    assert row["median_force_rmse_eV_per_A"] == pytest.approx(0.0, abs=1e-9)
    assert row["speedup"] == pytest.approx(1.0)
    assert row["recommendation"] is not None
    standup = api.get("/api/v1/standup").json()
    assert finished_run["id"] in [r["id"] for r in standup["finished"]]
    assert any(c["model"] == "emt" for c in standup["leaderboard_changes"])


def test_health_reports_database_broker_and_worker(api: TestClient, worker: str) -> None:
    body = api.get("/api/v1/health").json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert worker in [w["name"] for w in body["workers"]]
    assert body["status"] == "ok"


def test_cancel_a_queued_and_a_running_run(
    api: TestClient, submitter_token: str, catalog: Any, worker: str
) -> None:
    long_run = {**SHORT_RUN, "reference": None, "duration_ps": 200.0, "timestep_fs": 1.0}
    a = api.post("/api/v1/runs", json=long_run, headers=auth(submitter_token)).json()["id"]
    b = api.post("/api/v1/runs", json=long_run, headers=auth(submitter_token)).json()["id"]
    wait_status(api, a, ("running",), timeout=60)
    # b waits behind a (one worker process): cancelling it ends it at once
    r = api.post(f"/api/v1/runs/{b}/cancel", headers=auth(submitter_token))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    wait_for(
        lambda: api.get(f"/api/v1/runs/{a}/thermo").json()["n"] > 0,
        timeout=30,
        what="thermo rows of the running run",
    )
    running = api.get(f"/api/v1/runs/{a}").json()
    assert 0 < running["progress_percent"] < 100 and running["eta_s"] is not None
    t0 = time.monotonic()
    r = api.post(f"/api/v1/runs/{a}/cancel", headers=auth(submitter_token))
    assert r.status_code == 200 and r.json()["status"] == "running"
    done = wait_status(api, a, ("cancelled",), timeout=30)
    assert time.monotonic() - t0 < 15
    assert done["failure_reason"] == "cancelled on request"
    assert done["summary"]["status"] == "cancelled"
    again = api.post(f"/api/v1/runs/{a}/cancel", headers=auth(submitter_token))
    assert again.status_code == 409 and "already ended" in again.json()["detail"]
