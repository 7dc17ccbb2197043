"""The dashboard mounted on the service's FastAPI app, in-process: pages, routes, and
callbacks that reach the API through the in-process transport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.db.session import make_engine
from app.main import create_app
from tests.dashboard import fake_data, server


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("dash")
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    fake_data.populate_runs(engine, 40)
    settings = Settings(
        database_url=server.database_url(data),
        data_dir=data,
        artifacts_dir=data / "artifacts",
        reaper_interval_s=0,
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c
    engine.dispose()


def _body(
    output: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    specs = output.strip(".").split("...")
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in specs]
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [],
    }


def _callback(
    client: TestClient,
    output: str,
    inputs: list[dict[str, Any]],
    state: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    specs = output.strip(".").split("...")
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in specs]
    body = {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json()["response"])


def test_pages_and_routes(client: TestClient) -> None:
    for path in ("/", "/submit", "/runs", "/runs/1", "/compare", "/standup", "/report"):
        r = client.get(path)
        assert r.status_code == 200 and "react-entry-point" in r.text, path
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["detail"].startswith("no API endpoint")
    assert client.get("/api/v1/health").status_code in (200, 503)
    deps = json.dumps(client.get("/_dash-dependencies").json())
    for component in (
        "run-energy",
        "lb-table",
        "submit-checks",
        "su-tiles",
        "report-download",
        "comp-pareto",
        "shell-auth",
    ):
        assert component in deps
    assert client.get("/assets/style.css").status_code == 200


def test_leaderboard_callback_reads_the_api_in_process(client: TestClient) -> None:
    output = (
        "..lb-table.data...lb-table.style_data_conditional...lb-error.children...lb-rows.data.."
    )
    inputs = [
        {"id": f"lb-{k}", "property": "value", "value": None}
        for k in ("suite", "structure", "temperature", "baseline")
    ]
    state = [{"id": "shell-auth", "property": "data", "value": None}]
    response = _callback(client, output, inputs, state)
    rows = response["lb-table"]["data"]
    assert {r["model"] for r in rows} >= {"zoo:original", "zoo:tiny"}
    assert response["lb-table"]["style_data_conditional"]  # levels coloured


def test_sign_in_checks_the_token(client: TestClient) -> None:
    output = "..shell-auth.data...shell-signin-error.children...shell-token.value.."
    inputs = [
        {"id": "shell-signin", "property": "n_clicks", "value": 1},
        {"id": "shell-token", "property": "n_submit", "value": 0},
    ]
    good = [{"id": "shell-token", "property": "value", "value": server.ADMIN_TOKEN}]
    r = client.post("/_dash-update-component", json=_body(output, inputs, good))
    assert r.status_code == 200, r.text
    response = r.json()["response"]
    assert response["shell-auth"]["data"] == {"name": "dashboard-admin", "role": "admin"}
    # the token is in a signed HttpOnly SameSite=Lax cookie, not in the browser's storage
    assert server.ADMIN_TOKEN not in json.dumps(response)
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith("mdval_session=") and server.ADMIN_TOKEN not in set_cookie
    assert "httponly" in set_cookie.lower() and "samesite=lax" in set_cookie.lower()
    # a callback of a signed-in request reads the API with the cookie's token
    who = next(
        d["output"]
        for d in client.get("/_dash-dependencies").json()
        if d["output"].startswith("shell-auth.data@")
        and [i["id"] for i in d["inputs"]] == ["_pages_location"]
    )
    loads = [{"id": "_pages_location", "property": "pathname", "value": "/"}]
    unseen = [{"id": "shell-auth", "property": "data", "value": None}]
    restored = client.post("/_dash-update-component", json=_body(who, loads, unseen))
    assert restored.status_code == 200, restored.text
    assert restored.json()["response"]["shell-auth"]["data"]["role"] == "admin"
    # a forged cookie signs nobody in
    cookie = client.cookies.get("mdval_session")
    client.cookies.set("mdval_session", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    r = client.post("/_dash-update-component", json=_body(who, loads, unseen))
    assert r.status_code in (200, 204) and "shell-auth" not in (r.text if r.content else "")
    client.cookies.clear()
    bad = [{"id": "shell-token", "property": "value", "value": "mdv_nope"}]
    response = _callback(client, output, inputs, bad)
    assert "shell-auth" not in response and response["shell-signin-error"]["children"]


def test_a_second_app_in_the_same_process_keeps_its_callbacks(tmp_path: Path) -> None:
    settings = Settings(
        database_url=server.database_url(tmp_path), data_dir=tmp_path, reaper_interval_s=0
    )
    server.prepare(tmp_path)
    with TestClient(create_app(settings)) as c:
        deps = json.dumps(c.get("/_dash-dependencies").json())
        assert "run-energy" in deps and "lb-table" in deps


def test_run_header_says_when_a_run_ran_in_a_batch(client: TestClient) -> None:
    from dashboard.pages.run import _header  # importable once an app exists (client)

    run: dict[str, Any] = {
        "model": "zoo:tiny",
        "structure": "H2O",
        "formula": "H2O",
        "n_atoms": 3,
        "temperature_K": 300.0,
        "timestep_fs": 0.5,
        "duration_ps": 5.0,
        "seed": 0,
        "profile": "m6",
        "created_at": None,
        "summary": {"provenance": {"batch_size": 3}},
    }
    text = "".join(p if isinstance(p, str) else "" for p in _header(run))
    assert "ran in a batch of 3 replicas" in text
    run["summary"] = {"provenance": {"batch_size": 1}}
    assert "batch" not in "".join(p if isinstance(p, str) else "" for p in _header(run))
