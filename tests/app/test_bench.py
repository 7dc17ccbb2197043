"""``/api/v1/bench``: validation before anything is queued, and a real benchmark run by a
Celery worker on the real Postgres and Redis, its records and analysis read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import bench as bench_crud
from app.db.base import utcnow
from app.db.models import BenchJob
from app.services.reaper import reap_once
from mdval.bench.records import RECORD_KEYS
from tests.utils.service import RecordingQueue, wait_for
from workers.celery_app import TASK_BENCH, create_celery

pytestmark = pytest.mark.service

#: Two students on a water molecule, batches of 1 and 2, ten steps: seconds on a CPU.
TINY_BENCH: dict[str, Any] = {
    "models": ["zoo:tiny", "zoo:ultra-tiny"],
    "structure": "H2O",
    "teacher": None,
    "replicas": [1, 2],
    "steps": 10,
    "device": "cpu",
}
#: The keys the issue asks of every record.
ISSUE_KEYS = (
    "model", "structure", "n_atoms", "engine", "replicas", "device", "inference_ms_per_step",
    "step_ms", "harness_overhead", "throughput_atom_steps_per_s", "peak_memory_MB",
)  # fmt: skip


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count_jobs(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(BenchJob)) or 0)


def wait_bench(
    client: TestClient, job_id: int, statuses: tuple[str, ...], *, timeout: float = 180
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/bench/{job_id}").json()
        return body if body["status"] in statuses else None

    result: dict[str, Any] = wait_for(
        check, timeout=timeout, interval=0.5, what=f"benchmark {job_id} in {statuses}"
    )
    return result


# --- validation: a 4xx with a sentence, and nothing queued -----------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"models": []}, "models", "at least 1 item"),
        ({"models": ["zoo:tiny", "zoo:tiny"]}, "models", "'zoo:tiny' is listed twice"),
        ({"models": ["no-such-model"]}, "models", "unknown model 'no-such-model'; registered"),
        ({"models": ["emt"]}, "models", "model 'emt' is not a torch potential"),
        ({"models": ["checkpoints/student.pt"]}, "models", "looks like a file path"),
        ({"structure": "nowhere"}, "structure", "unknown structure 'nowhere'"),
        ({"structure": "cu-fcc"}, "structure", "contains Cu, which model 'zoo:tiny' does not"),
        ({"size_structures": ["nowhere"]}, "size_structures", "unknown structure 'nowhere'"),
        ({"size_structures": ["water-0"]}, "size_structures", "1 to 500 molecules"),
        ({"size_structures": ["cu-fcc"]}, "size_structures", "contains Cu"),
        ({"teacher": "no-such-teacher"}, "teacher", "unknown teacher 'no-such-teacher'"),
        ({"teacher": "zoo:tiny"}, None, "'zoo:tiny' is both a model and the teacher"),
        ({"replicas": [0, 4]}, "replicas", "batch sizes must be 1 to 1024 replicas, got [0]"),
        ({"replicas": [2, 2]}, "replicas", "batch size 2 is listed twice"),
        ({"steps": 0}, "steps", "greater than or equal to 1"),
        ({"device": "tpu"}, "device", "'auto', 'cpu' or 'cuda'"),
        ({"seed": 1}, "seed", "Extra inputs are not permitted"),
    ],
)
def test_bad_requests_are_422_with_a_message_and_queue_nothing(
    api: TestClient,
    submitter_token: str,
    catalog: Any,
    engine: Engine,
    change: dict[str, Any],
    field: str | None,
    words: str,
) -> None:
    before = count_jobs(engine)
    r = api.post("/api/v1/bench", json={**TINY_BENCH, **change}, headers=auth(submitter_token))
    assert r.status_code == 422, r.text
    body = r.json()
    assert words in body["detail"], body
    assert body["field"] == field, body
    assert count_jobs(engine) == before


def test_an_unknown_zoo_model_is_rejected_by_the_core_on_a_worker(
    api: TestClient, submitter_token: str, catalog: Any, worker: str, engine: Engine
) -> None:
    before = count_jobs(engine)
    body = {**TINY_BENCH, "models": ["zoo:tiny", "zoo:no-such-student"]}
    r = api.post("/api/v1/bench", json=body, headers=auth(submitter_token))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("no zoo model 'no-such-student'; zoo models present")
    assert r.json()["field"] == "models"
    assert count_jobs(engine) == before


def test_submitting_needs_a_submitter_token(
    api: TestClient, viewer_token: str, engine: Engine
) -> None:
    before = count_jobs(engine)
    r = api.post("/api/v1/bench", json=TINY_BENCH)
    assert r.status_code == 401 and "role 'submitter'" in r.json()["detail"]
    r = api.post("/api/v1/bench", json=TINY_BENCH, headers=auth(viewer_token))
    assert r.status_code == 403 and "needs 'submitter'" in r.json()["detail"]
    assert count_jobs(engine) == before


def test_an_unknown_job_is_404(api: TestClient) -> None:
    r = api.get("/api/v1/bench/999999999")
    assert r.status_code == 404
    assert r.json() == {"detail": "no benchmark job with id 999999999", "field": "job_id"}


# --- a real benchmark through the worker -----------------------------------------------------


@pytest.fixture(scope="module")
def finished_bench(
    api: TestClient, submitter_token: str, catalog: Any, worker: str
) -> dict[str, Any]:
    r = api.post("/api/v1/bench", json=TINY_BENCH, headers=auth(submitter_token))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued" and body["records"] == [] and body["summary"] is None
    assert body["queue"].endswith("cpu") and body["created_by"] == "test-submitter"
    assert body["request"]["models"] == TINY_BENCH["models"] and body["request"]["quick"]
    return wait_bench(api, body["id"], ("completed", "failed"))


def test_a_benchmark_runs_on_a_worker_and_every_record_is_stored(
    finished_bench: dict[str, Any],
) -> None:
    job = finished_bench
    assert job["status"] == "completed", job["failure_reason"]
    assert job["worker"] and job["started_at"] <= job["finished_at"]
    assert len(job["records"]) == job["n_records"]
    # the TorchSim arm runs only where the [bench] extra is installed (CI installs none)
    records = [r for r in job["records"] if r["experiment"] != "peer"]
    # per model: bare, torch, ase on H2O; then bare and torch at 1 and 2 replicas
    assert len(records) == 2 * 3 + 2 * 2 * 2
    for rec in records:
        assert set(ISSUE_KEYS) <= rec.keys() and set(RECORD_KEYS) <= rec.keys(), rec
        assert rec["structure"] == "H2O" and rec["n_atoms"] == 3 and rec["device"] == "cpu"
        assert rec["inference_ms_per_step"] > 0 and rec["throughput_atom_steps_per_s"] > 0
        if rec["engine"] == "bare":
            assert rec["step_ms"] is None and rec["harness_overhead"] is None
        else:
            # each step paired with its own call; the ratio of the medians kept beside it
            paired = rec["harness_ms_per_step"] / rec["inference_ms_per_step"]
            assert rec["harness_overhead"] == pytest.approx(paired)
            of_medians = rec["step_ms"] / rec["inference_ms_per_step"] - 1
            assert rec["harness_overhead_of_medians"] == pytest.approx(of_medians)
    single = {(r["model"], r["engine"]) for r in records if r["experiment"] == "single"}
    assert single == {(m, e) for m in TINY_BENCH["models"] for e in ("bare", "torch", "ase")}
    batch = {
        (r["model"], r["engine"], r["replicas"]) for r in records if r["experiment"] == "batch"
    }
    assert batch == {
        (m, e, n) for m in TINY_BENCH["models"] for e in ("bare", "torch") for n in (1, 2)
    }


def test_the_report_keeps_its_context_plan_and_analysis(finished_bench: dict[str, Any]) -> None:
    job = finished_bench
    context = job["context"]
    assert context["device"] == "cpu" and context["machine"]
    assert job["device_name"] == context["device_name"] and job["device_name"]
    assert job["torch_version"] == context["torch_version"] and job["torch_version"]
    assert job["threads"] == context["torch_threads"] >= 1
    plan = job["plan"]  # the full plan the core ran
    assert plan["models"] == TINY_BENCH["models"] and plan["teacher"] is None
    assert plan["main_structure"] == "H2O" and plan["replicas"] == [1, 2]
    assert plan["n_steps"] == 10 and plan["long_steps"] == 0 and plan["device"] == "cpu"
    summary = job["summary"]
    speedup = summary["speedups"]["zoo:ultra-tiny vs zoo:tiny"]
    assert set(speedup) == {"bare", "torch", "ase"}
    assert speedup["torch"]["step"] > 0 and speedup["bare"]["inference"] > 0
    assert set(summary["harness_overhead"]["zoo:tiny"]) == {"torch", "ase"}
    for model in TINY_BENCH["models"]:
        assert [row["replicas"] for row in summary["batch_scaling"][model]] == [1, 2]
    assert any("harness_overhead" in t["target"] for t in summary["targets"])


def test_jobs_are_listed_newest_first_without_records(
    api: TestClient, finished_bench: dict[str, Any]
) -> None:
    listed = api.get("/api/v1/bench", params={"status": "completed"}).json()
    assert finished_bench["id"] in [j["id"] for j in listed["items"]]
    ids = [j["id"] for j in api.get("/api/v1/bench").json()["items"]]
    assert ids == sorted(ids, reverse=True)
    page = api.get("/api/v1/bench", params={"limit": 1, "offset": 0}).json()
    assert len(page["items"]) == 1 and page["total"] >= 1 and page["items"][0]["id"] == ids[0]
    assert "records" not in page["items"][0] and "summary" not in page["items"][0]
    assert api.get("/api/v1/bench", params={"limit": 0}).status_code == 422


def test_a_duplicate_delivery_does_nothing(
    api: TestClient, service_settings: Settings, finished_bench: dict[str, Any]
) -> None:
    job_id = finished_bench["id"]
    celery = create_celery(service_settings)
    queue = service_settings.queue("cpu")
    result = celery.send_task(TASK_BENCH, args=[job_id], queue=queue, routing_key=queue)
    assert result.get(timeout=60) == {"job_id": job_id, "outcome": "duplicate"}
    again = api.get(f"/api/v1/bench/{job_id}").json()
    assert again["records"] == finished_bench["records"]
    assert again["finished_at"] == finished_bench["finished_at"]


def test_a_device_the_worker_lacks_fails_with_the_reason(
    api: TestClient, submitter_token: str, catalog: Any, worker: str
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: device 'cuda' would run")
    body = {**TINY_BENCH, "device": "cuda"}
    r = api.post("/api/v1/bench", json=body, headers=auth(submitter_token))
    assert r.status_code == 201, r.text
    assert r.json()["queue"].endswith("gpu")
    job = wait_bench(api, r.json()["id"], ("completed", "failed"), timeout=120)
    assert job["status"] == "failed"
    assert job["failure_reason"] == (
        "invalid input: device 'cuda' requested but torch sees no CUDA GPU"
    )
    assert job["records"] == [] and job["summary"] is None


def test_the_reaper_fails_a_benchmark_whose_worker_was_lost(
    engine: Engine, service_settings: Settings
) -> None:
    with Session(engine) as session:
        job = bench_crud.create_job(
            session, request={}, plan={}, device="cpu", queue="cpu", created_by="test"
        )
        assert bench_crud.claim_job(session, job_id=job.id, worker="gone@host:1") == {}
        assert bench_crud.claim_job(session, job_id=job.id, worker="other@host:2") is None
        job.heartbeat_at = utcnow() - timedelta(seconds=service_settings.stale_after_s + 5)
        session.commit()
        job_id = job.id
    reap_once(engine, settings=service_settings, queue=RecordingQueue(service_settings))
    with Session(engine) as session:
        reaped = session.get(BenchJob, job_id)
        assert reaped is not None and reaped.status == "failed"
        assert reaped.failure_reason is not None
        assert reaped.failure_reason.startswith("worker gone@host:1 lost (no heartbeat since")
        assert reaped.failure_reason.endswith("submit the benchmark again")
        # the lost worker's late result is discarded
        assert not bench_crud.finish_job(
            session, job_id=job_id, worker="gone@host:1", status="completed"
        )
