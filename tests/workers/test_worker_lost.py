"""A worker killed with SIGKILL mid-run: the run is retried (then ends), never stuck running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.main import create_app
from tests.utils.service import RecordingQueue, start_worker, stop_worker, wait_for, wait_status

pytestmark = [pytest.mark.service, pytest.mark.usefixtures("catalog")]

LONG_RUN = {
    "model": "emt",
    "structure": "cu-fcc",
    "timestep_fs": 1.0,
    "duration_ps": 200.0,
    "record_every": 10,
    "device": "cpu",
}


def test_sigkill_mid_run_is_retried_not_stuck(
    service_settings: Settings, engine: Engine, submitter_token: str, tmp_path: Path
) -> None:
    # queues of their own, so that only the workers of this test see the run
    settings = service_settings.model_copy(
        update={"queue_prefix": service_settings.queue_prefix + "kill-", "max_attempts": 2}
    )
    app = create_app(settings, engine=engine, queue=RecordingQueue(settings))
    auth = {"Authorization": f"Bearer {submitter_token}"}
    with TestClient(app) as api:
        doomed, _ = start_worker(settings, queues=("cpu",), log_path=tmp_path / "doomed.log")
        try:
            run_id = api.post("/api/v1/runs", json=LONG_RUN, headers=auth).json()["id"]
            wait_for(
                lambda: api.get(f"/api/v1/runs/{run_id}/thermo").json()["n"] > 0,
                timeout=60,
                what="the first thermo rows",
            )
        finally:
            stop_worker(doomed, sig=signal.SIGKILL)  # main process and pool child at once
        assert api.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"

        # the reaper (API thread, every second) sees the heartbeat stop and requeues it
        retried = wait_status(api, run_id, ("queued",), timeout=60)
        assert retried["attempt"] == 1 and "lost" in retried["failure_reason"]
        assert "retrying (2 of 2)" in retried["failure_reason"]

        rescuer, node = start_worker(settings, queues=("cpu",), log_path=tmp_path / "rescuer.log")
        try:
            running = wait_status(api, run_id, ("running",), timeout=60)
            assert running["attempt"] == 2 and running["worker"].startswith(node)
            api.post(f"/api/v1/runs/{run_id}/cancel", headers=auth)
            assert wait_status(api, run_id, ("cancelled",), timeout=30)["attempt"] == 2
        finally:
            stop_worker(rescuer)


def test_a_lost_run_without_attempts_left_ends_failed(
    service_settings: Settings, engine: Engine, submitter_token: str, tmp_path: Path
) -> None:
    settings = service_settings.model_copy(
        update={"queue_prefix": service_settings.queue_prefix + "kill1-", "max_attempts": 1}
    )
    app = create_app(settings, engine=engine, queue=RecordingQueue(settings))
    auth = {"Authorization": f"Bearer {submitter_token}"}
    with TestClient(app) as api:
        doomed, _ = start_worker(settings, queues=("cpu",), log_path=tmp_path / "doomed.log")
        try:
            run_id = api.post("/api/v1/runs", json=LONG_RUN, headers=auth).json()["id"]
            wait_status(api, run_id, ("running",), timeout=60)
        finally:
            stop_worker(doomed, sig=signal.SIGKILL)
        failed = wait_status(api, run_id, ("failed",), timeout=60)
        assert "no attempts left (1 of 1)" in failed["failure_reason"]
        assert failed["finished_at"] is not None
