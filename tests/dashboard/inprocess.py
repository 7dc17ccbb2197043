"""The dashboard mounted on the service's app in-process on a fresh SQLite database, and its
callbacks called as the browser calls them (``/_dash-update-component``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.db.session import make_engine
from app.main import create_app
from tests.dashboard import fake_data, server


@contextmanager
def embedded(data: Path) -> Iterator[tuple[TestClient, Engine]]:
    """A migrated database in ``data`` with the fake catalogue, and the app on it."""
    server.prepare(data)
    engine = make_engine(server.database_url(data))
    fake_data.seed_catalog(engine)
    settings = Settings(
        database_url=server.database_url(data),
        data_dir=data,
        artifacts_dir=data / "artifacts",
        reaper_interval_s=0,
    )
    try:
        with TestClient(create_app(settings, engine=engine)) as client:
            yield client, engine
    finally:
        engine.dispose()


def callback(client: TestClient, output: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Call the callback of ``output`` (``..id.prop...id.prop..``) with ``inputs``
    (``"id.prop": value``), signed out; its response by component id."""
    body = {
        "output": output,
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]}
            for o in output.strip(".").split("...")
        ],
        "inputs": [
            {"id": k.split(".")[0], "property": k.split(".")[1], "value": v}
            for k, v in inputs.items()
        ],
        "state": [{"id": "shell-auth", "property": "data", "value": None}],
        "changedPropIds": [],
    }
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json()["response"])


def text_of(component: Any) -> str:
    """The visible text of a rendered component tree (as JSON)."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return "".join(text_of(c) for c in component)
    if isinstance(component, dict):
        return text_of(component.get("props", {}).get("children"))
    return ""


def hrefs_of(component: Any) -> list[str]:
    """Every link target in a rendered component tree."""
    if isinstance(component, list):
        return [h for c in component for h in hrefs_of(c)]
    if isinstance(component, dict):
        props = component.get("props", {})
        return ([props["href"]] if "href" in props else []) + hrefs_of(props.get("children"))
    return []
