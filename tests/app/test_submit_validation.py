"""Bad input gets a 4xx with a message a person can act on, and nothing is queued."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.utils.service import RecordingQueue, count_runs

pytestmark = pytest.mark.service

GOOD = {
    "model": "emt",
    "structure": "cu-fcc",
    "duration_ps": 0.02,
    "timestep_fs": 2.0,
    "equilibration_ps": 0.0,
}


@pytest.fixture
def auth(submitter_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {submitter_token}"}


@pytest.fixture
def nothing_queued(api: TestClient, engine: Engine) -> Iterator[None]:
    """Asserts that the test wrote no run row and published no message."""
    queue: RecordingQueue = api.app.state.queue  # type: ignore[attr-defined]
    rows, published = count_runs(engine), len(queue.published)
    yield
    assert count_runs(engine) == rows, "a run row was written"
    assert len(queue.published) == published, "a message was published"


def post_run(api: TestClient, auth: dict[str, str], **changes: Any) -> Any:
    body = {**GOOD, **changes}
    return api.post(
        "/api/v1/runs", json={k: v for k, v in body.items() if v is not ...}, headers=auth
    )


@pytest.mark.usefixtures("catalog", "nothing_queued")
@pytest.mark.parametrize(
    ("changes", "status", "field", "words"),
    [
        ({"temperature_K": 9000}, 422, "temperature_K", "less than or equal to 5000"),
        ({"temperature_K": -1}, 422, "temperature_K", "greater than 0"),
        ({"timestep_fs": "fast"}, 422, "timestep_fs", "valid number"),
        ({"duration_ps": 0.0001, "timestep_fs": 1}, 422, None, "less than one step"),
        ({"seed": -3}, 422, "seed", "greater than or equal to 0"),
        ({"device": "tpu"}, 422, "device", "'auto', 'cpu' or 'cuda'"),
        ({"color": "red"}, 422, "color", "Extra inputs are not permitted"),
        ({"model": "nonsense-model"}, 422, "model", "unknown model 'nonsense-model'; registered"),
        ({"model": "/etc/passwd.pt"}, 422, "model", "upload the TorchScript file"),
        ({"reference": "nope"}, 422, "reference", "unknown reference 'nope'"),
        ({"structure": "unobtainium"}, 422, "structure", "unknown structure 'unobtainium'"),
        ({"structure": "H2O"}, 422, "structure", "contains H, O, which model 'emt' does not"),
        ({"profile": "m7"}, 422, "profile", "unknown profile 'm7'; known profiles: demo, m6"),
        ({"structure": ...}, 422, None, "give either 'structure'"),
        (
            {"suite": "m6-quick"},
            422,
            None,
            "defines duration_ps, equilibration_ps, structure, timestep_fs itself",
        ),
    ],
)
def test_bad_run_requests(
    api: TestClient,
    auth: dict[str, str],
    changes: dict[str, Any],
    status: int,
    field: str | None,
    words: str,
) -> None:
    r = post_run(api, auth, **changes)
    assert r.status_code == status, r.text
    body = r.json()
    assert words in body["detail"], body
    if field is not None:
        assert body["field"] == field


@pytest.mark.usefixtures("catalog", "worker", "nothing_queued")
def test_checks_that_need_the_core_answer_4xx(api: TestClient, auth: dict[str, str]) -> None:
    """Names the catalogue does not hold go to a worker; its InputError becomes a 422."""
    r = post_run(api, auth, model="zoo:no-such-student")
    assert r.status_code == 422 and "no-such-student" in r.json()["detail"]
    r = api.post("/api/v1/runs", json={"model": "emt", "suite": "m99"}, headers=auth)
    assert r.status_code == 422 and "unknown suite 'm99'" in r.json()["detail"]
    r = api.post("/api/v1/runs", json={"model": "emt", "suite": "m6-quick"}, headers=auth)
    assert r.status_code == 422 and "does not support" in r.json()["detail"]
    r = post_run(api, auth, structure="smiles:C1CC")
    assert r.status_code == 422 and r.json()["field"] == "structure"


@pytest.mark.usefixtures("nothing_queued")
def test_malformed_json_is_a_422_not_a_500(api: TestClient, auth: dict[str, str]) -> None:
    r = api.post(
        "/api/v1/runs", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert "JSON" in r.json()["detail"]


# --- uploads ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("catalog")
def test_oversized_model_upload_is_413(api: TestClient, auth: dict[str, str]) -> None:
    big = b"PK\x03\x04" + b"\0" * 1_200_000  # the test settings allow 1 MB
    r = api.post("/api/v1/models", files={"file": ("big.pt", big)}, headers=auth)
    assert r.status_code == 413
    assert "MDVAL_MAX_MODEL_UPLOAD_MB" in r.json()["detail"]


@pytest.mark.usefixtures("catalog")
def test_pickle_or_garbage_is_not_a_model(api: TestClient, auth: dict[str, str]) -> None:
    r = api.post("/api/v1/models", files={"file": ("x.pt", b"\x80\x04garbage")}, headers=auth)
    assert r.status_code == 422
    assert "not a TorchScript file" in r.json()["detail"]


@pytest.mark.usefixtures("catalog", "worker")
def test_zip_that_is_not_torchscript_is_rejected_by_the_worker(
    api: TestClient, auth: dict[str, str]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model/data.pkl", b"not a model")
    r = api.post("/api/v1/models", files={"file": ("fake.pt", buffer.getvalue())}, headers=auth)
    assert r.status_code == 422, r.text
    assert "rejected" in r.json()["detail"]
    assert api.get("/api/v1/models/upload:fake").status_code == 404


@pytest.mark.usefixtures("catalog", "worker")
def test_torchscript_upload_is_checked_then_usable(
    api: TestClient, auth: dict[str, str], tmp_path: Path, engine: Engine
) -> None:
    from mdval.potentials.testing import export_test_potential

    path = export_test_potential(tmp_path / "morse.pt")
    with path.open("rb") as fh:
        r = api.post("/api/v1/models", files={"file": ("morse.pt", fh)}, headers=auth)
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["spec"] == "upload:morse" and model["status"] == "ready"
    assert set(model["supported_elements"]) == {"H", "C", "N", "O"}
    with path.open("rb") as fh:  # the same file again: nothing new
        again = api.post("/api/v1/models", files={"file": ("morse.pt", fh)}, headers=auth)
    assert again.status_code == 200 and again.json()["id"] == model["id"]
    before = count_runs(engine)
    r = post_run(api, auth, model="upload:morse")
    assert r.status_code == 422 and "contains Cu, which model 'upload:morse'" in r.json()["detail"]
    assert count_runs(engine) == before
    ok = post_run(
        api, auth, model="upload:morse", structure="H2O", duration_ps=0.01, timestep_fs=0.5
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["runs"][0]["queue"].endswith("gpu")  # torch potential, device auto


@pytest.mark.usefixtures("catalog", "worker")
def test_structure_uploads_and_smiles(api: TestClient, auth: dict[str, str]) -> None:
    xyz = b"3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
    r = api.post("/api/v1/structures", files={"file": ("wet.xyz", xyz)}, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["formula"] == "H2O" and r.json()["spec"] == "upload:wet"
    bad = api.post(
        "/api/v1/structures", files={"file": ("junk.xyz", b"hello\nworld\n")}, headers=auth
    )
    assert bad.status_code == 422 and "structure file rejected" in bad.json()["detail"]
    close = b"2\n\nH 0 0 0\nH 0.1 0 0\n"
    r = api.post("/api/v1/structures", files={"file": ("close.xyz", close)}, headers=auth)
    assert r.status_code == 422 and "0.5" in r.json()["detail"]
    r = api.post("/api/v1/structures", files={"file": ("x.pkl", b"x")}, headers=auth)
    assert r.status_code == 422 and "unsupported structure file type" in r.json()["detail"]
    big = b"1\n\nH 0 0 0\n" + b"#" * 70_000
    r = api.post("/api/v1/structures", files={"file": ("big.xyz", big)}, headers=auth)
    assert r.status_code == 413
    r = api.post("/api/v1/structures", data={"smiles": "CCO", "name": "ethanol"}, headers=auth)
    assert r.status_code == 201 and r.json()["formula"] == "C2H6O"
    r = api.post("/api/v1/structures", data={"smiles": "C1CC"}, headers=auth)
    assert r.status_code == 422 and "SMILES rejected" in r.json()["detail"]
    r = api.post("/api/v1/structures", headers=auth)
    assert r.status_code == 422 and "exactly one of" in r.json()["detail"]
