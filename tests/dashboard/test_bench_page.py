"""The benchmarks page, in-process on a SQLite service: it shows a stored report — the
CPU benchmark of docs/bench/cpu-2threads.json, stored as a worker stores it — and, with no
benchmark yet, says how to start one; its button queues a benchmark through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import bench as bench_crud
from app.db.session import make_engine
from app.main import create_app
from dashboard.format import num
from tests.dashboard import fake_data, server
from workers.celery_app import ensure_local_dirs

REPORT = server.REPO / "docs" / "bench" / "cpu-2threads.json"
JOBS_OUTPUT = (
    "..bench-job.options...bench-job.value...bench-refresh.disabled...bench-empty.children"
    "...bench-body.style...bench-error.children.."
)
SHOW_OUTPUT = (
    "..bench-status.children...bench-context.children...bench-speedups.data"
    "...bench-single-title.children...bench-single.data...bench-long.data"
    "...bench-long-card.style...bench-targets.data"
    "...bench-scaling.figure...bench-overhead.figure...bench-shown.data.."
)
SIGNED_OUT = [{"id": "shell-auth", "property": "data", "value": None}]
SIGNED_IN = {"name": "dashboard-admin", "role": "admin"}  # the token is in the cookie
ADMIN = [{"id": "shell-auth", "property": "data", "value": SIGNED_IN}]


def _app(data: Path) -> tuple[TestClient, Engine]:
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    settings = Settings(
        database_url=server.database_url(data),
        data_dir=data,
        artifacts_dir=data / "artifacts",
        reaper_interval_s=0,
    )
    ensure_local_dirs(settings)  # the filesystem broker the Run button publishes to
    return TestClient(create_app(settings, engine=engine)), engine


def store_report(engine: Engine, report: dict[str, Any]) -> int:
    """A completed job, written by the same calls the worker makes."""
    with Session(engine) as session:
        job = bench_crud.create_job(
            session,
            request={"models": report["plan"]["models"], "quick": False},
            plan={"quick": False, "overrides": {}},
            device="cpu",
            queue="cpu",
            created_by="test",
        )
        session.commit()
        assert bench_crud.claim_job(session, job_id=job.id, worker="w") is not None
        assert bench_crud.finish_job(
            session, job_id=job.id, worker="w", status="completed", report=report
        )
        session.commit()
        return job.id


def store_failed(engine: Engine) -> int:
    with Session(engine) as session:
        job = bench_crud.create_job(
            session,
            request={"models": ["zoo:tiny"]},
            plan={},
            device="cuda",
            queue="gpu",
            created_by="test",
        )
        session.commit()
        assert bench_crud.claim_job(session, job_id=job.id, worker="w") is not None
        reason = "invalid input: device 'cuda' requested but torch sees no CUDA GPU"
        assert bench_crud.finish_job(
            session, job_id=job.id, worker="w", status="failed", failure_reason=reason
        )
        session.commit()
        return job.id


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return dict(json.loads(REPORT.read_text()))


@pytest.fixture(scope="module")
def stored(
    tmp_path_factory: pytest.TempPathFactory, report: dict[str, Any]
) -> Iterator[tuple[TestClient, int, int]]:
    client, engine = _app(tmp_path_factory.mktemp("bench-page"))
    completed = store_report(engine, report)
    failed = store_failed(engine)  # newer, but not what the page opens on
    with client:
        yield client, completed, failed
    engine.dispose()


def _callback(
    client: TestClient,
    output: str,
    inputs: list[dict[str, Any]],
    state: list[dict[str, Any]],
    changed: list[str] | None = None,
) -> dict[str, Any]:
    specs = output.strip(".").split("...")
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in specs]
    body = {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed or [],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json()["response"])


def _sign_in(client: TestClient) -> None:
    """Sign in through the shell's callback: the answer sets the signed session cookie."""
    output = "..shell-auth.data...shell-signin-error.children...shell-token.value.."
    inputs = [
        {"id": "shell-signin", "property": "n_clicks", "value": 1},
        {"id": "shell-token", "property": "n_submit", "value": 0},
    ]
    state = [{"id": "shell-token", "property": "value", "value": server.ADMIN_TOKEN}]
    assert _callback(client, output, inputs, state)["shell-auth"]["data"] == SIGNED_IN
    assert client.cookies.get("mdval_session")


def _jobs(client: TestClient, *, queued: Any = None, auth: Any = SIGNED_OUT) -> dict[str, Any]:
    inputs = [
        {"id": "bench-refresh", "property": "n_intervals", "value": None},
        {"id": "bench-queued", "property": "data", "value": queued},
    ]
    state = [{"id": "bench-job", "property": "value", "value": None}, *auth]
    changed = ["bench-queued.data"] if queued is not None else None
    return _callback(client, JOBS_OUTPUT, inputs, state, changed)


def _show(client: TestClient, job_id: int) -> dict[str, Any]:
    inputs = [
        {"id": "bench-job", "property": "value", "value": job_id},
        {"id": "bench-refresh", "property": "n_intervals", "value": None},
    ]
    state = [{"id": "bench-shown", "property": "data", "value": None}, *SIGNED_OUT]
    return _callback(client, SHOW_OUTPUT, inputs, state, ["bench-job.value"])


def _axis_titles(fig: dict[str, Any]) -> list[str]:
    return [
        (axis.get("title") or {}).get("text") or ""
        for key, axis in fig["layout"].items()
        if key.startswith(("xaxis", "yaxis"))
    ]


def test_the_page_is_in_the_navigation(stored: tuple[TestClient, int, int]) -> None:
    client, _completed, _failed = stored
    r = client.get("/bench")
    assert r.status_code == 200 and "react-entry-point" in r.text
    deps = json.dumps(client.get("/_dash-dependencies").json())
    for component in ("bench-speedups", "bench-single", "bench-scaling", "bench-overhead"):
        assert component in deps
    layout = json.dumps(client.get("/_dash-layout").json())
    assert '"href": "/bench"' in layout and "Benchmarks" in layout


def test_the_newest_completed_benchmark_is_chosen(stored: tuple[TestClient, int, int]) -> None:
    client, completed, failed = stored
    response = _jobs(client)
    assert response["bench-job"]["value"] == completed
    labels = [o["label"] for o in response["bench-job"]["options"]]
    assert [o["value"] for o in response["bench-job"]["options"]] == [failed, completed]
    assert labels[0].startswith(f"#{failed} · failed")
    assert response["bench-refresh"]["disabled"] is True  # nothing queued or running
    assert response["bench-empty"]["children"] is None
    assert response["bench-body"]["style"] == {}


def test_the_stored_report_is_shown(
    stored: tuple[TestClient, int, int], report: dict[str, Any]
) -> None:
    client, completed, _failed = stored
    response = _show(client, completed)
    context = response["bench-context"]["children"]
    assert "Intel(R) Xeon(R) Processor (device cpu)" in context
    assert "torch 2.13.0+cpu" in context and "2 threads" in context and "2 CPUs" in context

    speedups = {r["ratio"]: r for r in response["bench-speedups"]["data"]}
    assert set(speedups) == {"zoo:tiny vs zoo:original", "zoo:ultra-tiny vs zoo:original"}
    tiny = speedups["zoo:tiny vs zoo:original"]
    assert (tiny["bare"], tiny["torch"], tiny["ase"]) == ("1.47", "1.42", "1.38")  # docs table
    ultra = speedups["zoo:ultra-tiny vs zoo:original"]
    assert (ultra["bare"], ultra["torch"], ultra["ase"]) == ("1.77", "1.7", "1.6")

    title = response["bench-single-title"]["children"]
    assert title == "Single system: alanine-dipeptide (22 atoms), one replica"
    rows = response["bench-single"]["data"]
    single = [r for r in report["records"] if r["experiment"] == "single"]
    assert len(rows) == len(single) == 10
    by_key = {(r["model"], r["engine"]): r for r in rows}
    original = next(r for r in single if (r["model"], r["engine"]) == ("zoo:original", "torch"))
    shown = by_key[("zoo:original", "torch engine")]
    assert shown["inference_ms_per_step"] == num(original["inference_ms_per_step"], 3)
    assert shown["step_ms"] == num(original["step_ms"], 3) == "3.71"
    # one unit on the page: the overhead is the core's fraction, as its targets state it
    assert shown["harness_overhead"] == num(original["harness_overhead"], 3)
    assert shown["peak_memory_MB"] == num(original["peak_memory_MB"], 3)
    assert by_key[("zoo:original", "bare model")]["step_ms"] == "—"
    assert ("gfn2-xtb", "ASE engine") in by_key

    long = response["bench-long"]["data"]
    assert len(long) == 6 and {r["n_steps"] for r in long} == {1000}
    assert response["bench-long-card"]["style"] == {}

    targets = response["bench-targets"]["data"]
    assert len(targets) == len(report["summary"]["targets"])
    assert targets[0]["met"] == "yes" and any(t["met"] == "n/a" for t in targets)


def test_the_plots_have_units_and_the_right_axes(
    stored: tuple[TestClient, int, int], report: dict[str, Any]
) -> None:
    client, completed, _failed = stored
    response = _show(client, completed)
    scaling = response["bench-scaling"]["figure"]
    assert scaling["layout"]["xaxis"]["type"] == "log"
    assert len(scaling["data"]) == 2 * 3  # engine and bare per student
    first = report["summary"]["batch_scaling"]["zoo:original"]
    assert scaling["data"][0]["x"] == [row["replicas"] for row in first]
    assert scaling["data"][0]["y"] == [row["engine_ms_per_replica"] for row in first]
    overhead = response["bench-overhead"]["figure"]
    assert [t["type"] for t in overhead["data"]] == ["bar", "bar"]
    assert overhead["data"][0]["x"] == ["zoo:original", "zoo:tiny", "zoo:ultra-tiny"]
    assert "gfn2-xtb" in overhead["data"][1]["x"]
    for fig in (scaling, overhead):
        for title in set(_axis_titles(fig)) - {"model"}:
            assert "(" in title, f"axis title without a unit: {title!r}"


def test_a_failed_benchmark_shows_its_reason(stored: tuple[TestClient, int, int]) -> None:
    client, _completed, failed = stored
    response = _show(client, failed)
    status = json.dumps(response["bench-status"]["children"])
    assert "failed" in status and "torch sees no CUDA GPU" in status
    assert response["bench-speedups"]["data"] == [] and response["bench-single"]["data"] == []
    assert "No batch measurements" in json.dumps(response["bench-scaling"]["figure"])
    assert response["bench-long-card"]["style"] == {"display": "none"}


def test_the_run_button_needs_a_submitter_and_queues_a_benchmark(
    stored: tuple[TestClient, int, int],
) -> None:
    client, completed, _failed = stored
    output = "..bench-run-message.children...bench-queued.data.."
    inputs = [{"id": "bench-run", "property": "n_clicks", "value": 1}]
    response = _callback(client, output, inputs, SIGNED_OUT, ["bench-run.n_clicks"])
    assert "Sign in with a submitter token" in json.dumps(response)
    assert "bench-queued" not in response
    _sign_in(client)
    try:
        response = _callback(client, output, inputs, ADMIN, ["bench-run.n_clicks"])
        listed = _jobs(client, queued=response["bench-queued"]["data"], auth=ADMIN)
    finally:
        client.cookies.clear()  # signed out again for the other tests
    queued = response["bench-queued"]["data"]
    assert isinstance(queued, int) and queued > completed
    assert f"Benchmark #{queued} queued" in json.dumps(response["bench-run-message"])
    # the queue it really went to, what resolves its device, and who serves that queue (a
    # queue called 'gpu' is no GPU: here no worker serves it at all)
    message = json.dumps(response["bench-run-message"])
    assert "on queue 'gpu' (device auto: the worker that takes it uses CUDA" in message
    assert "no live worker serves it" in message
    job = client.get(f"/api/v1/bench/{queued}").json()
    assert job["status"] == "queued" and job["request"]["quick"] is True
    assert job["request"]["models"] == ["zoo:original", "zoo:tiny", "zoo:ultra-tiny"]
    assert listed["bench-job"]["value"] == queued  # the new job is opened
    assert listed["bench-refresh"]["disabled"] is False  # and followed until it ends


def test_without_benchmarks_the_page_says_how_to_start_one(tmp_path: Path) -> None:
    client, engine = _app(tmp_path)
    with client:
        response = _jobs(client)
    engine.dispose()
    empty = json.dumps(response["bench-empty"]["children"])
    assert "No benchmark yet" in empty and "Run quick benchmark" in empty
    assert "/api/v1/bench" in empty and '{\\"quick\\": true}' in empty
    assert response["bench-body"]["style"] == {"display": "none"}
    assert response["bench-job"]["options"] == []


SCALING_TRACES = (
    "() => { const g = document.querySelector('#bench-scaling .js-plotly-plot');"
    " return g && g.data ? g.data.length : -1; }"
)


@pytest.mark.browser
def test_the_page_renders_in_chromium(
    tmp_path: Path, report: dict[str, Any], browser_page: tuple[Any, Any]
) -> None:
    from tests.dashboard.conftest import shot

    page, console = browser_page
    errors_before = len(console.errors)
    server.prepare(tmp_path)
    engine = make_engine(server.database_url(tmp_path))
    fake_data.seed_catalog(engine)
    store_report(engine, report)
    engine.dispose()
    with server.serve(tmp_path) as url:
        page.goto(url + "/bench")
        page.wait_for_selector("#bench-speedups td:has-text('zoo:tiny vs zoo:original')")
        page.wait_for_selector("#bench-single td:has-text('gfn2-xtb')")
        page.wait_for_function(f"() => ({SCALING_TRACES})() === 6")
        assert "torch 2.13.0+cpu" in page.inner_text("#bench-context")
        assert page.is_visible("a.nav-link.active:has-text('Benchmarks')")
        shot(page, "11-benchmarks")
    assert console.errors[errors_before:] == []
