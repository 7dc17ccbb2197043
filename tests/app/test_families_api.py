"""Published model families through the API: one row per canonical spelling, an identity
per dtype, torch families routed to the GPU queue under device auto, and 422s that name the
option or the extra."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.models import Potential, Run

pytestmark = [pytest.mark.service]

needs_ani = pytest.mark.skipif(
    importlib.util.find_spec("torchani") is None, reason="pip install 'mdval[ani]'"
)


def submit(api: TestClient, token: str, **body: Any) -> Any:
    return api.post(
        "/api/v1/runs",
        json={"structure": "H2O", "duration_ps": 0.01, "equilibration_ps": 0.0, **body},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.mlip
@needs_ani
@pytest.mark.usefixtures("catalog", "worker")
def test_a_family_is_one_model_per_canonical_spec_and_dtype(
    api: TestClient, submitter_token: str, engine: Engine
) -> None:
    answers = [
        submit(api, submitter_token, model=spec)
        for spec in ("ani:1x", "ANI:1x?dtype=float32", "ani:1x?dtype=float64")
    ]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    with Session(engine) as session:
        runs = [session.get(Run, a.json()["id"]) for a in answers]
        assert all(r is not None for r in runs)
        models = {
            p.spec: p for p in session.scalars(select(Potential).where(Potential.kind == "family"))
        }
        assert set(models) == {"ani:1x?dtype=float32", "ani:1x?dtype=float64"}
        f32, f64 = models["ani:1x?dtype=float32"], models["ani:1x?dtype=float64"]
        assert runs[0].model_id == runs[1].model_id == f32.id  # type: ignore[union-attr]
        assert runs[2].model_id == f64.id  # type: ignore[union-attr]
        assert f32.sha256 != f64.sha256 and f32.n_params == f64.n_params > 10**6
        assert {r.queue for r in runs}.pop().endswith("gpu")  # type: ignore[union-attr]
        assert runs[0].config["model"] == "ani:1x?dtype=float32"  # type: ignore[union-attr]
    listed = api.get("/api/v1/models").json()["items"]
    assert {m["spec"] for m in listed if m["kind"] == "family"} == set(models)


@pytest.mark.usefixtures("catalog", "worker")
@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("ani:1x?dtype=float16", "use one of float32, float64"),
        ("ani:1x?color=red", "unknown option 'color'"),
        ("orb:orb-v3", "pip install 'mdval[orb]'"),
        ("fairchem:uma-s?task=omat", "pip install 'mdval[fairchem]'"),
        ("mace:/models/x.model", "names a checkpoint file on the server"),
        ("sevennet:../../etc/x.pth", "names a checkpoint file on the server"),
    ],
)
def test_bad_family_specs_are_a_422_naming_the_fix(
    api: TestClient, submitter_token: str, engine: Engine, model: str, words: str
) -> None:
    with Session(engine) as session:
        before = session.scalar(select(Run.id).order_by(Run.id.desc()).limit(1))
    answer = submit(api, submitter_token, model=model)
    assert answer.status_code == 422, answer.text
    assert words in answer.text
    with Session(engine) as session:
        assert session.scalar(select(Run.id).order_by(Run.id.desc()).limit(1)) == before


def test_the_families_are_listed_with_checkpoints_and_options(api: TestClient) -> None:
    families = {f["family"]: f for f in api.get("/api/v1/families").json()["items"]}
    assert set(families) == {"ani", "sevennet", "chgnet", "mace", "orb", "fairchem"}
    ani = families["ani"]
    assert "1x" in ani["shipped"] and ani["extra"] == "ani" and ani["package"] == "torchani"
    dtype = next(o for o in ani["options"] if o["name"] == "dtype")
    assert dtype["choices"] == ["float32", "float64"] and dtype["default"] == "float32"
    assert families["sevennet"]["shipped"][0] == "7net-0"
    assert families["orb"]["shipped"] == []  # local checkpoints only
    assert families["ani"]["checkpoints"][0] == {
        "name": "1x",
        "title": "ANI-1x",
        "spec": "ani:1x?dtype=float32",
    }
    for f in families.values():  # installed here, or the 422's message naming the extra
        assert (f["installed"] is None) is (f["missing"] is not None)
        if f["missing"]:
            assert f"pip install 'mdval[{f['extra']}]'" in f["missing"]
