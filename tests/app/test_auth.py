"""Every write needs a token with the right role; reads are open unless configured."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import app as cli
from app.core.config import Settings
from app.core.security import hash_token
from app.main import create_app
from tests.utils.service import RecordingQueue, count_runs

pytestmark = pytest.mark.service

RUN = {"model": "emt", "structure": "cu-fcc", "duration_ps": 0.01, "equilibration_ps": 0.0}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_write_without_token_is_401(api: TestClient, engine: Engine) -> None:
    before = count_runs(engine)
    r = api.post("/api/v1/runs", json=RUN)
    assert r.status_code == 401
    assert "token" in r.json()["detail"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert count_runs(engine) == before


def test_unknown_token_is_401(api: TestClient) -> None:
    r = api.post("/api/v1/runs", json=RUN, headers=bearer("mdv_not-a-token"))
    assert r.status_code == 401
    assert "unknown or revoked token" in r.json()["detail"]


def test_viewer_token_cannot_write(api: TestClient, viewer_token: str, engine: Engine) -> None:
    before = count_runs(engine)
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("post", "/api/v1/runs", {"json": RUN}),
        ("post", "/api/v1/runs/1/cancel", {}),
        ("post", "/api/v1/models", {"files": {"file": ("m.pt", b"PK\x03\x04")}}),
        ("post", "/api/v1/structures", {"data": {"smiles": "CCO"}}),
        ("post", "/api/v1/tokens", {"json": {"name": "x", "role": "admin"}}),
    ]
    for method, path, kwargs in writes:
        r = getattr(api, method)(path, headers=bearer(viewer_token), **kwargs)
        assert r.status_code == 403, (path, r.text)
        assert "role 'viewer'" in r.json()["detail"]
    assert count_runs(engine) == before


def test_submitter_cannot_create_tokens(api: TestClient, submitter_token: str) -> None:
    r = api.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(submitter_token))
    assert r.status_code == 403


def test_reads_are_open_by_default(api: TestClient) -> None:
    assert api.get("/api/v1/runs").status_code == 200
    assert api.get("/api/v1/leaderboard").status_code == 200


def test_reads_can_require_a_token(
    service_settings: Settings, engine: Engine, viewer_token: str
) -> None:
    settings = service_settings.model_copy(update={"read_requires_token": True})
    app = create_app(settings, engine=engine, queue=RecordingQueue(settings))
    with TestClient(app) as client:
        assert client.get("/api/v1/runs").status_code == 401
        assert client.get("/api/v1/runs", headers=bearer(viewer_token)).status_code == 200


def test_admin_creates_and_revokes_tokens(api: TestClient, admin_token: str) -> None:
    r = api.post(
        "/api/v1/tokens", json={"name": "ci", "role": "submitter"}, headers=bearer(admin_token)
    )
    assert r.status_code == 201
    token = r.json()["token"]
    me = api.get("/api/v1/auth/me", headers=bearer(token)).json()
    assert me == {"authenticated": True, "name": "ci", "role": "submitter"}
    listed = api.get("/api/v1/tokens", headers=bearer(admin_token)).json()
    assert all("token" not in t for t in listed)
    revoked = api.delete(f"/api/v1/tokens/{r.json()['id']}", headers=bearer(admin_token))
    assert revoked.json()["revoked"] is True
    assert api.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_cli_token_create_prints_once_and_stores_the_hash(
    service_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.core import config
    from app.db.models import ApiToken

    monkeypatch.setenv("MDVAL_DATABASE_URL", service_settings.database_url)
    config.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli, ["token", "create", "--name", "ci-cli", "--role", "submitter"]
        )
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    with Session(engine) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "ci-cli"))
    assert row is not None and row.role == "submitter"
    assert row.token_hash == hash_token(token) and token not in (row.token_hash, row.prefix)
