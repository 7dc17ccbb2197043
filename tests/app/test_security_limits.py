"""Issue 13: request bodies bounded before auth, cancel by owner or admin, redaction for
anonymous readers, uploads that leave nothing behind, the standalone admin token after a
revocation."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.crud import catalog as catalog_crud
from app.crud.tokens import create_token, revoke_tokens
from app.db.migrate import upgrade
from app.db.models import Run
from app.db.session import make_engine
from tests.utils.factories import make_run
from tests.utils.service import REPO, free_port, wait_for

pytestmark = pytest.mark.service

MB = 1_000_000
BIG = 300 * MB
CHUNK = b"x" * (1 << 20)
BOUNDARY = "0123456789abcdef"
PART_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pt"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
).encode()
UPLOADER_TOKEN = "limits-test-submitter-token-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- item 6: body-size limits against a real uvicorn process --------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """uvicorn with the API only on a fresh SQLite database; yields its URL and pid."""
    data = tmp_path_factory.mktemp("limits")
    db = f"sqlite:///{data / 'mdval.sqlite'}"
    upgrade(db)
    eng = make_engine(db)
    with Session(eng) as s:
        create_token(s, name="uploader", role="submitter", token=UPLOADER_TOKEN)
        s.commit()
    eng.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDVAL_")}
    env.update(
        MDVAL_DATABASE_URL=db, MDVAL_DATA_DIR=str(data), MDVAL_BROKER_URL="filesystem://",
        MDVAL_REAPER_INTERVAL_S="0", MDVAL_DASHBOARD_FACTORY="", MDVAL_MAX_MODEL_UPLOAD_MB="5",
        PYTHONPATH=str(REPO),
    )  # fmt: skip
    port = free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (data / "server.log").read_text()
        try:
            return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=90, interval=0.3, what="uvicorn")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _body(total: int, prefix: bytes = b"") -> Iterator[bytes]:
    if prefix:
        yield prefix
    sent = len(prefix)
    while sent < total:
        piece = CHUNK[: total - sent]
        sent += len(piece)
        yield piece


def _post_big(
    url: str,
    pid: int,
    path: str,
    *,
    declare_length: bool,
    total: int = BIG,
    content_type: str = "application/json",
    prefix: bytes = b"",
) -> tuple[httpx.Response, float, int]:
    """POST ``total`` bytes from a generator; returns the answer, its time and the most the
    server's RSS grew (kB) while it went, sampled from /proc."""
    base_rss, base_hwm = _status_kb(pid, "VmRSS"), _status_kb(pid, "VmHWM")
    peak = [base_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _status_kb(pid, "VmRSS"))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    headers = {"Content-Type": content_type}
    if declare_length:
        headers["Content-Length"] = str(total)
    t0 = time.monotonic()
    try:
        r = httpx.post(url + path, content=_body(total, prefix), headers=headers, timeout=60)
    finally:
        elapsed = time.monotonic() - t0
        done.set()
        sampler.join()
    grew = max(peak[0] - base_rss, _status_kb(pid, "VmHWM") - base_hwm)
    print(f"{path} declared={declare_length}: {r.status_code} in {elapsed:.3f} s, "
          f"RSS {base_rss / 1024:.0f} MB, grew {grew / 1024:.1f} MB")  # fmt: skip
    return r, elapsed, grew


@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
def test_300mb_anonymous_body_is_refused_at_once(
    server: tuple[str, int], declare_length: bool
) -> None:
    url, pid = server
    r, elapsed, grew = _post_big(url, pid, "/api/v1/runs", declare_length=declare_length)
    assert r.status_code == 413, r.text
    body = r.json()
    assert "MDVAL_MAX_REQUEST_BODY_KB" in body["detail"] and "larger than" in body["detail"]
    assert elapsed < 1.0
    assert grew < 100 * 1024
    assert httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200


def test_model_uploads_have_their_own_limit(server: tuple[str, int]) -> None:
    url, pid = server
    files = {"file": ("big.pt", b"\0" * (2 * MB))}
    # 2 MB is over the JSON limit (1 MB) but under the upload limit (5 MB here): the token
    # check answers, not the size gate
    assert httpx.post(f"{url}/api/v1/models", files=files).status_code == 401
    r = httpx.post(f"{url}/api/v1/models", files=files, headers=bearer(UPLOADER_TOKEN))
    assert r.status_code == 422 and "not a TorchScript file" in r.json()["detail"]
    r = httpx.post(f"{url}/api/v1/runs", content=b"{" + b" " * (2 * MB) + b"}",
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and "MDVAL_MAX_REQUEST_BODY_KB" in r.json()["detail"]
    r, elapsed, grew = _post_big(
        url, pid, "/api/v1/models", declare_length=False,
        content_type=f"multipart/form-data; boundary={BOUNDARY}", prefix=PART_HEAD,
    )  # fmt: skip
    assert r.status_code == 413 and "MDVAL_MAX_MODEL_UPLOAD_MB" in r.json()["detail"]
    assert elapsed < 1.0 and grew < 100 * 1024


# --- item 11: an upload refused for any reason leaves no file -------------------------------


def _stored(settings: Settings) -> list[str]:
    folder = settings.artifacts_path / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_refused_uploads_leave_nothing_on_disk(
    api: TestClient, service_settings: Settings, engine: Engine, submitter_token: str
) -> None:
    with Session(engine) as s:
        catalog_crud.upsert_potential(
            s,
            spec="upload:taken",
            values={"name": "taken", "kind": "torchscript", "core_spec": "/nowhere/taken.pt",
                    "sha256": "0" * 64, "supported_elements": None, "status": "ready",
                    "builtin": False, "size_bytes": 10, "created_by": "someone"},
        )  # fmt: skip
        s.commit()
    before = _stored(service_settings)
    archive = b"PK\x03\x04" + b"a different archive" * 100
    r = api.post("/api/v1/models", files={"file": ("m.pt", archive)}, data={"name": "taken"},
                 headers=bearer(submitter_token))  # fmt: skip
    assert r.status_code == 409, r.text
    assert _stored(service_settings) == before
    r = api.post("/api/v1/models", files={"file": ("m.pt", b"not a zip")},
                 headers=bearer(submitter_token))  # fmt: skip
    assert r.status_code == 422
    r = api.post("/api/v1/models", files={"file": ("m.pt", b"PK\x03\x04" + b"z" * (2 * MB))},
                 headers=bearer(submitter_token))  # fmt: skip
    assert r.status_code == 413
    assert _stored(service_settings) == before


# --- item 7: cancel by owner or admin; anonymous readers see less ---------------------------


def test_only_the_owner_or_an_admin_may_cancel(
    api: TestClient, engine: Engine, catalog: Any, submitter_token: str, admin_token: str
) -> None:
    with Session(engine) as s:
        _row, other = create_token(s, name="other-submitter", role="submitter")
        s.commit()
    mine = make_run(engine, created_by="test-submitter")
    r = api.post(f"/api/v1/runs/{mine}/cancel", headers=bearer(other))
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "other-submitter" in detail and "owner" in detail and "admin" in detail
    with Session(engine) as s:
        run = s.get(Run, mine)
        assert run is not None and run.status == "queued" and not run.cancel_requested
    r = api.post(f"/api/v1/runs/{mine}/cancel", headers=bearer(submitter_token))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    theirs = make_run(engine, created_by="other-submitter")
    r = api.post(f"/api/v1/runs/{theirs}/cancel", headers=bearer(admin_token))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_anonymous_readers_get_no_traceback_tail_nor_token_names(
    api: TestClient, engine: Engine, catalog: Any, viewer_token: str
) -> None:
    reason = 'RuntimeError: boom\nTraceback (most recent call last):\n  File "/srv/x.py"\n'
    run_id = make_run(engine, created_by="alice-ci")
    with Session(engine) as s:
        run = s.get(Run, run_id)
        assert run is not None
        run.status, run.failure_reason = "failed", reason
        run.finished_at = run.created_at
        s.commit()
    anon = api.get(f"/api/v1/runs/{run_id}").json()
    assert anon["failure_reason"] == "RuntimeError: boom"
    assert anon["created_by"] is None
    listed = api.get("/api/v1/runs", params={"limit": 1000}).json()["items"]
    item = next(i for i in listed if i["id"] == run_id)
    assert item["failure_reason"] == "RuntimeError: boom" and item["created_by"] is None
    assert all(i["created_by"] is None for i in listed)
    standup = api.get("/api/v1/standup", params={"since": "2000-01-01T00:00:00Z"}).json()
    for brief in standup["finished"]:
        assert "\n" not in (brief["failure_reason"] or "")
    known = api.get(f"/api/v1/runs/{run_id}", headers=bearer(viewer_token)).json()
    assert known["failure_reason"] == reason and known["created_by"] == "alice-ci"


# --- item 9: the standalone admin token after a revocation -------------------------------------


def test_standalone_does_not_print_a_revoked_admin_token(tmp_path: Path) -> None:
    from app.standalone import ADMIN_TOKEN_NAME, admin_token, standalone_settings

    configured = "standalone-revoked-admin-token-0123456789"
    os.environ["MDVAL_ADMIN_TOKEN"] = configured
    try:
        settings = standalone_settings(tmp_path)
    finally:
        del os.environ["MDVAL_ADMIN_TOKEN"]
    assert settings.admin_token == configured
    upgrade(settings.database_url)
    eng = make_engine(settings.database_url)
    try:
        first = admin_token(eng, settings)
        assert first.token == configured and first.notice is None
        with Session(eng) as s:
            assert revoke_tokens(s, name=ADMIN_TOKEN_NAME) == 1
            s.commit()
        again = admin_token(eng, settings)
        assert again.token is None  # not silently un-revoked, and never printed
        notice = again.notice or ""
        assert "revoked" in notice and "MDVAL_ADMIN_TOKEN" in notice
        assert "mdval token create" in notice and settings.database_url in notice
        with Session(eng) as s:
            from app.crud.tokens import get_by_token

            assert get_by_token(s, token=configured) is None
    finally:
        eng.dispose()
